//! Query (by partition key, paged at 1 MB or `Limit`) and BatchGetItem.

use std::collections::HashSet;
use std::ops::Bound;

use serde_json::{json, Map, Value};

use super::expr::{self, Error, Item, Refs};
use super::ops::{allow, key_of, table, Failure, Store, PARTITION, SORT};

/// DynamoDB answers a Query page of at most 1 MB.
const PAGE_BYTES: usize = 1 << 20;

impl Store {
    pub fn query(&self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(
            req,
            &[
                "TableName",
                "KeyConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ProjectionExpression",
                "ExclusiveStartKey",
                "ConsistentRead",
                "Limit",
                "Select",
            ],
        )?;
        let count_only = match req.get("Select").and_then(Value::as_str) {
            None | Some("ALL_ATTRIBUTES") => false,
            Some("COUNT") => true,
            Some(other) => return Err(Error::Unsupported(format!("Select {other}")).into()),
        };
        table(req, name)?;
        let mut refs = Refs::new(req);
        let text = req["KeyConditionExpression"]
            .as_str()
            .ok_or_else(|| Error::Unsupported("a Query without KeyConditionExpression".into()))?;
        let key = expr::key_condition(text, &mut refs)?;
        let (attr, value) = (key.name.as_str(), &key.value);
        let prefix = match &key.prefix {
            None => None,
            Some((name, v)) if name == SORT => v["S"].as_str().map(str::to_owned),
            Some((name, _)) => {
                return Err(Error::Unsupported(format!("begins_with on {name}")).into())
            }
        };
        let projection = req["ProjectionExpression"]
            .as_str()
            .map(|p| expr::projection(p, &mut refs))
            .transpose()?;
        refs.all_used()?;
        let pk = match (attr, value["S"].as_str()) {
            (PARTITION, Some(pk)) => pk.to_owned(),
            _ => {
                return Err(
                    Error::Unsupported(format!("a key condition on {attr} = {value}")).into(),
                )
            }
        };
        let lower = start(req, &pk)?;
        let limit = req["Limit"].as_u64().map_or(usize::MAX, |l| l as usize);
        let range = self.items.range((lower, Bound::Unbounded));
        let mut under = range.take_while(|(k, _)| k.0 == pk).peekable();
        let (mut items, mut bytes, mut last) = (Vec::new(), 0, None);
        for (k, item) in under.by_ref() {
            if prefix.as_deref().is_some_and(|p| !k.1.starts_with(p)) {
                continue;
            }
            bytes += Value::Object(item.clone()).to_string().len();
            items.push(project(item, projection.as_deref()));
            last = Some(k.clone());
            if items.len() >= limit || bytes >= PAGE_BYTES {
                break;
            }
        }
        let mut out = json!({"Count": items.len(), "ScannedCount": items.len()});
        if !count_only {
            out["Items"] = Value::Array(items);
        }
        if let (Some((pk, sk)), Some(_)) = (last, under.peek()) {
            out["LastEvaluatedKey"] = json!({PARTITION: {"S": pk}, SORT: {"S": sk}});
        }
        Ok(out)
    }

    pub fn batch_get_item(&self, req: &Value, name: &str) -> Result<Value, Failure> {
        allow(req, &["RequestItems"])?;
        let tables = req["RequestItems"]
            .as_object()
            .ok_or_else(|| Error::Validation("RequestItems is missing".into()))?;
        let mut responses = Map::new();
        for (t, ask) in tables {
            table(&json!({"TableName": t}), name)?;
            allow(ask, &["Keys", "ConsistentRead"])?;
            let keys = ask["Keys"]
                .as_array()
                .ok_or_else(|| Error::Validation("Keys is missing".into()))?;
            if keys.is_empty() || keys.len() > 100 {
                return Err(Error::Validation(
                    "Too many items requested for the BatchGetItem call".into(),
                )
                .into());
            }
            let mut seen = HashSet::new();
            let mut found = Vec::new();
            for k in keys {
                let key = key_of(k, false)?;
                if !seen.insert(key.clone()) {
                    return Err(Error::Validation(
                        "Provided list of item keys contains duplicates".into(),
                    )
                    .into());
                }
                found.extend(self.items.get(&key).cloned().map(Value::Object));
            }
            responses.insert(t.clone(), Value::Array(found));
        }
        Ok(json!({"Responses": responses, "UnprocessedKeys": {}}))
    }
}

/// Where a page begins: after `ExclusiveStartKey`, or at the partition's first item.
fn start(req: &Value, pk: &str) -> Result<Bound<(String, String)>, Failure> {
    Ok(match req.get("ExclusiveStartKey") {
        Some(k) => match key_of(k, false)? {
            k if k.0 == pk => Bound::Excluded(k),
            _ => {
                return Err(Error::Validation("The provided starting key is invalid".into()).into())
            }
        },
        None => Bound::Included((pk.to_owned(), String::new())),
    })
}

fn project(item: &Item, names: Option<&[String]>) -> Value {
    match names {
        None => Value::Object(item.clone()),
        Some(names) => Value::Object(
            item.iter()
                .filter(|(k, _)| names.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    }
}
