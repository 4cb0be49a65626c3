//! The operations the function sends, on items kept in memory: GetItem,
//! PutItem, UpdateItem, DeleteItem, Query (by partition key, paged),
//! BatchGetItem and TransactWriteItems (Put and Update). Each request's
//! members are checked against the ones implemented: any other is
//! [`Error::Unsupported`].

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::expr::{self, Error, Item, Refs};
use super::update;

/// The table's key schema (template.yaml's `DownloadsTable`).
pub const PARTITION: &str = "packageKey";
pub const SORT: &str = "version";
/// The largest item DynamoDB stores.
const ITEM_BYTES: usize = 400 * 1024;

pub(super) type Key = (String, String);

/// The table's items, by key, in DynamoDB's order (the sort key's bytes).
#[derive(Default)]
pub struct Store {
    pub items: BTreeMap<Key, Item>,
    /// TransactWriteItems' `ClientRequestToken`s seen: a retried
    /// transaction is not applied twice.
    tokens: HashSet<String>,
}

/// A failed call: DynamoDB's error code, its message, and members of its
/// own (a failed condition's `Item`, a cancelled transaction's reasons).
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    pub extra: Map<String, Value>,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let message = match e {
            Error::Unsupported(what) => {
                format!("{}: {what}", super::NOT_IMPLEMENTED)
            }
            Error::Validation(m) => m,
        };
        Failure {
            code: "ValidationException",
            message,
            extra: Map::new(),
        }
    }
}

pub(super) fn failure(code: &'static str, message: &str) -> Failure {
    Failure {
        code,
        message: message.to_owned(),
        extra: Map::new(),
    }
}

pub(super) fn allow(req: &Value, members: &[&str]) -> Result<(), Error> {
    let extra: Vec<&String> = (req.as_object().into_iter().flat_map(|m| m.keys()))
        .filter(|k| !members.contains(&k.as_str()))
        .collect();
    match extra.is_empty() {
        true => Ok(()),
        false => Err(Error::Unsupported(format!(
            "the request member(s) {extra:?}"
        ))),
    }
}

pub(super) fn table(req: &Value, name: &str) -> Result<(), Failure> {
    match req["TableName"].as_str() {
        Some(t) if t == name => Ok(()),
        Some(t) => Err(failure(
            "ResourceNotFoundException",
            &format!("Requested resource not found: Table: {t} not found"),
        )),
        None => Err(Error::Validation("TableName is missing".into()).into()),
    }
}

/// The key of a `Key` member, or of an item: both attributes, strings.
pub(super) fn key_of(v: &Value, whole_item: bool) -> Result<Key, Error> {
    let m = v
        .as_object()
        .ok_or_else(|| Error::Validation("Key is missing".into()))?;
    let s = |n: &str| m.get(n).and_then(|a| a["S"].as_str()).map(str::to_owned);
    let (Some(pk), Some(sk)) = (s(PARTITION), s(SORT)) else {
        return Err(Error::Validation(
            "One of the required keys was not given a value".into(),
        ));
    };
    if !whole_item && m.len() != 2 {
        return Err(Error::Validation(
            "The provided key element does not match the schema".into(),
        ));
    }
    Ok((pk, sk))
}

fn condition(req: &Value, refs: &mut Refs<'_>) -> Result<Option<expr::Cond>, Error> {
    req["ConditionExpression"]
        .as_str()
        .map(|c| expr::condition(c, refs))
        .transpose()
}

/// A failed condition, with the item when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
fn check_failed(req: &Value, old: Option<&Item>) -> Failure {
    let mut f = failure(
        "ConditionalCheckFailedException",
        "The conditional request failed",
    );
    if req["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD" {
        if let Some(item) = old {
            f.extra.insert("Item".into(), Value::Object(item.clone()));
        }
    }
    f
}

/// A write, checked and made ready: the key and the item after it
/// (`None`: removed), if its condition holds.
struct Write {
    key: Key,
    after: Option<Item>,
    condition: Option<expr::Cond>,
}

impl Store {
    fn put_write(req: &Value) -> Result<Write, Error> {
        let item = req["Item"]
            .as_object()
            .cloned()
            .ok_or_else(|| Error::Validation("Item is missing".into()))?;
        if Value::Object(item.clone()).to_string().len() > ITEM_BYTES {
            return Err(Error::Validation(
                "Item size has exceeded the maximum allowed size".into(),
            ));
        }
        let key = key_of(&req["Item"], true)?;
        let mut refs = Refs::new(req);
        let condition = condition(req, &mut refs)?;
        refs.all_used()?;
        Ok(Write {
            key,
            after: Some(item),
            condition,
        })
    }

    fn update_write(&self, req: &Value) -> Result<Write, Error> {
        let key = key_of(&req["Key"], false)?;
        let mut refs = Refs::new(req);
        let text = req["UpdateExpression"]
            .as_str()
            .ok_or_else(|| Error::Unsupported("an UpdateItem without UpdateExpression".into()))?;
        let actions = update::update(text, &mut refs)?;
        let condition = condition(req, &mut refs)?;
        refs.all_used()?;
        if let Some(a) = actions.iter().find(|a| matches!(a, update::Action::Set(n, _) | update::Action::SetIfNotExists(n, _) | update::Action::Remove(n) | update::Action::Add(n, _) if n == PARTITION || n == SORT)) {
            return Err(Error::Validation(format!("Cannot update attribute in {a:?}. This attribute is part of the key")));
        }
        let mut item = self.items.get(&key).cloned().unwrap_or_else(|| {
            let mut m = Map::new();
            m.insert(PARTITION.into(), json!({"S": key.0}));
            m.insert(SORT.into(), json!({"S": key.1}));
            m
        });
        update::apply(&actions, &mut item);
        Ok(Write {
            key,
            after: Some(item),
            condition,
        })
    }

    fn holds(&self, w: &Write) -> bool {
        w.condition
            .as_ref()
            .is_none_or(|c| c.holds(self.items.get(&w.key)))
    }

    fn commit(&mut self, w: Write) {
        match w.after {
            Some(item) => self.items.insert(w.key, item),
            None => self.items.remove(&w.key),
        };
    }

    fn write(&mut self, req: &Value, w: Write) -> Result<Value, Failure> {
        if !self.holds(&w) {
            return Err(check_failed(req, self.items.get(&w.key)));
        }
        self.commit(w);
        Ok(json!({}))
    }

    pub fn put_item(&mut self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(
            req,
            &[
                "TableName",
                "Item",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnValuesOnConditionCheckFailure",
            ],
        )?;
        table(req, name)?;
        let w = Self::put_write(req)?;
        self.write(req, w)
    }

    pub fn update_item(&mut self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(
            req,
            &[
                "TableName",
                "Key",
                "UpdateExpression",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnValuesOnConditionCheckFailure",
                "ReturnValues",
            ],
        )?;
        table(req, name)?;
        if req.get("ReturnValues").is_some_and(|r| r != "NONE") {
            return Err(Error::Unsupported("ReturnValues other than NONE".into()).into());
        }
        let w = self.update_write(req)?;
        self.write(req, w)
    }

    pub fn delete_item(&mut self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(req, &["TableName", "Key"])?;
        table(req, name)?;
        let key = key_of(&req["Key"], false)?;
        self.items.remove(&key);
        Ok(json!({}))
    }

    pub fn get_item(&self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(req, &["TableName", "Key", "ConsistentRead"])?;
        table(req, name)?;
        let key = key_of(&req["Key"], false)?;
        Ok(match self.items.get(&key) {
            Some(item) => json!({"Item": item}),
            None => json!({}),
        })
    }

    /// One item of a TransactWriteItems: a Put or an Update.
    fn transact_write(&self, t: &Value, name: &str) -> Result<Write, Failure> {
        allow(t, &["Put", "Update"])?;
        match (t.get("Put"), t.get("Update")) {
            (Some(put), None) => {
                table(put, name)?;
                Ok(Self::put_write(put)?)
            }
            (None, Some(update)) => {
                table(update, name)?;
                let members = [
                    "TableName",
                    "Key",
                    "UpdateExpression",
                    "ConditionExpression",
                    "ExpressionAttributeNames",
                    "ExpressionAttributeValues",
                ];
                allow(update, &members)?;
                Ok(self.update_write(update)?)
            }
            _ => Err(
                Error::Unsupported("a transact item other than one Put or one Update".into())
                    .into(),
            ),
        }
    }

    /// BatchWriteItem: up to 25 puts and deletes, no key twice; all are
    /// processed (nothing is left in `UnprocessedItems`).
    pub fn batch_write_item(&mut self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(req, &["RequestItems"])?;
        let tables = req["RequestItems"]
            .as_object()
            .ok_or_else(|| Error::Validation("RequestItems is missing".into()))?;
        let mut writes = Vec::new();
        for (t, requests) in tables {
            table(&json!({"TableName": t}), name)?;
            let requests = requests.as_array().map(Vec::as_slice).unwrap_or_default();
            if requests.is_empty() || requests.len() > 25 {
                return Err(Error::Validation(
                    "Too many items requested for the BatchWriteItem call".into(),
                )
                .into());
            }
            for r in requests {
                writes.push(match (r.get("PutRequest"), r.get("DeleteRequest")) {
                    (Some(p), None) => Self::put_write(p)?,
                    (None, Some(d)) => Write {
                        key: key_of(&d["Key"], false)?,
                        after: None,
                        condition: None,
                    },
                    _ => {
                        return Err(Error::Validation(
                            "a WriteRequest holds one PutRequest or DeleteRequest".into(),
                        )
                        .into())
                    }
                });
            }
        }
        let keys: HashSet<&Key> = writes.iter().map(|w| &w.key).collect();
        if keys.len() != writes.len() {
            return Err(
                Error::Validation("Provided list of item keys contains duplicates".into()).into(),
            );
        }
        for w in writes {
            self.commit(w);
        }
        Ok(json!({"UnprocessedItems": {}}))
    }

    pub fn transact_write_items(&mut self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(req, &["TransactItems", "ClientRequestToken"])?;
        if let Some(t) = req["ClientRequestToken"].as_str() {
            if self.tokens.contains(t) {
                return Ok(json!({}));
            }
        }
        let list = req["TransactItems"]
            .as_array()
            .ok_or_else(|| Error::Validation("TransactItems is missing".into()))?;
        let mut writes: Vec<Write> = Vec::new();
        for t in list {
            let w = self.transact_write(t, name)?;
            if writes.iter().any(|x| x.key == w.key) {
                return Err(Error::Validation(
                    "Transaction request cannot include multiple operations on one item".into(),
                )
                .into());
            }
            writes.push(w);
        }
        let reasons: Vec<Value> = writes.iter().map(|w| match self.holds(w) {
            true => json!({"Code": "None"}),
            false => json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}),
        }).collect();
        if reasons.iter().any(|r| r["Code"] != "None") {
            let codes: Vec<&str> = reasons.iter().filter_map(|r| r["Code"].as_str()).collect();
            let mut f = failure("TransactionCanceledException", &format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")));
            f.extra
                .insert("CancellationReasons".into(), Value::Array(reasons));
            return Err(f);
        }
        for w in writes {
            self.commit(w);
        }
        if let Some(t) = req["ClientRequestToken"].as_str() {
            self.tokens.insert(t.to_owned());
        }
        Ok(json!({}))
    }
}
