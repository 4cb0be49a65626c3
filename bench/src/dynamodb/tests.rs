//! The stand-in through the real SDK client: the function's expressions
//! parse, answers and errors read as DynamoDB's do, and what is not
//! implemented is refused.

use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use serde_json::json;

use super::expr::{self, Refs};
use super::update;
use super::StandIn;

const TABLE: &str = "t";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Every update and condition expression the function sends
/// (`src/downloads/`), with the names and values it gives them.
#[test]
fn the_functions_expressions_parse() {
    let values = json!({":until": {"N": "1"}, ":me": {"S": "r"}, ":exp": {"N": "2"}, ":now": {"N": "3"},
        ":t": {"N": "4"}, ":z": {"N": "0"}, ":one": {"N": "1"}, ":d": {"L": []}, ":iso": {"S": "x"}, ":repo": {"S": "r"}});
    let names = json!({"#total": "total", "#at": "at", "#repo": "repository"});
    let req = json!({"ExpressionAttributeValues": values, "ExpressionAttributeNames": names});
    for u in [
        "SET claimedUntil = :until, claimedBy = :me, expiresAt = :exp",
        "SET handledAt = :now, expiresAt = :exp REMOVE claimedUntil, claimedBy",
        "REMOVE claimedUntil, claimedBy",
        "SET #total = if_not_exists(#total, :t), done = if_not_exists(done, :z)",
        "ADD done :one",
        "SET #at = if_not_exists(#at, :t)",
        "SET destinations = :d, learnedAt = :now, expiresAt = :exp REMOVE claimedUntil, claimedBy",
        "SET lastReadAt = :t, lastReadTime = :iso, #repo = :repo, expiresAt = :exp",
        "SET since = if_not_exists(since, :t)",
        "SET archivedAt = :t, archivedTime = :iso, expiresAt = :exp",
    ] {
        update::update(u, &mut Refs::new(&req)).unwrap_or_else(|e| panic!("{u}: {e:?}"));
    }
    for c in [
        "attribute_not_exists(handledAt) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now OR claimedBy = :me)",
        "claimedBy = :me",
        "attribute_not_exists(destinations) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now OR claimedBy = :me)",
        "attribute_not_exists(lastReadAt) OR lastReadAt < :t",
        "attribute_not_exists(packageKey)",
    ] {
        expr::condition(c, &mut Refs::new(&req)).unwrap_or_else(|e| panic!("{c}: {e:?}"));
    }
}

#[test]
fn what_is_not_implemented_is_refused() {
    let req = json!({"ExpressionAttributeValues": {":v": {"N": "1"}}});
    let unsupported = |r: Result<(), expr::Error>| matches!(r, Err(expr::Error::Unsupported(_)));
    for c in [
        "NOT attribute_exists(a)",
        "begins_with(a, :v)",
        "a BETWEEN :v AND :v",
        "a.b = :v",
    ] {
        assert!(
            unsupported(expr::condition(c, &mut Refs::new(&req)).map(|_| ())),
            "{c}"
        );
    }
    for u in [
        "SET a = a + :v",
        "SET a.b = :v",
        "DELETE a :v",
        "SET a = list_append(a, :v)",
    ] {
        assert!(
            unsupported(update::update(u, &mut Refs::new(&req)).map(|_| ())),
            "{u}"
        );
    }
    // DynamoDB's own refusals.
    let unused = update::update("REMOVE a", &mut Refs::new(&req)).map(|_| ());
    assert!(unused.is_ok());
    let mut refs = Refs::new(&req);
    update::update("REMOVE a", &mut refs).expect("parses");
    assert!(matches!(refs.all_used(), Err(expr::Error::Validation(_))));
}

async fn client(url: &str) -> aws_sdk_dynamodb::Client {
    crate::downloads::dynamodb(url).await
}

#[tokio::test]
async fn conditional_writes_answer_as_dynamodb_does() {
    let stand_in = StandIn::start(TABLE, Duration::ZERO).await.expect("starts");
    let c = client(&stand_in.url).await;
    let claim = |me: &str| {
        c.update_item()
            .table_name(TABLE)
            .key("packageKey", s("sqs#m1"))
            .key("version", s("delivery"))
            .update_expression("SET claimedUntil = :until, claimedBy = :me")
            .condition_expression("attribute_not_exists(handledAt) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now OR claimedBy = :me)")
            .expression_attribute_values(":until", n(i64::MAX / 2))
            .expression_attribute_values(":me", s(me))
            .expression_attribute_values(":now", n(5))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
    };
    claim("a").await.expect("the first claim is taken");
    claim("a").await.expect("its owner takes it again");
    let err = claim("b").await.expect_err("another is refused");
    let Some(UpdateItemError::ConditionalCheckFailedException(e)) = err.as_service_error() else {
        panic!("{err:?}");
    };
    assert_eq!(e.item().and_then(|i| i.get("claimedBy")), Some(&s("a")));
    assert!(stand_in.refused().is_empty());
}

#[tokio::test]
async fn a_part_counts_once() {
    let stand_in = StandIn::start(TABLE, Duration::ZERO).await.expect("starts");
    let c = client(&stand_in.url).await;
    let part = || {
        let put = Put::builder()
            .table_name(TABLE)
            .item("packageKey", s("b"))
            .item("version", s("part-1"))
            .condition_expression("attribute_not_exists(packageKey)")
            .build()
            .expect("put");
        let add = Update::builder()
            .table_name(TABLE)
            .key("packageKey", s("b"))
            .key("version", s("parts"))
            .update_expression("ADD done :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .expect("update");
        c.transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(add).build())
            .send()
    };
    part().await.expect("the first is recorded");
    let err = part().await.expect_err("the second is cancelled");
    let Some(TransactWriteItemsError::TransactionCanceledException(t)) = err.as_service_error()
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        t.cancellation_reasons()[0].code(),
        Some("ConditionalCheckFailed")
    );
    assert_eq!(t.cancellation_reasons()[1].code(), Some("None"));
    let parts = stand_in.get("b", "parts").expect("counted");
    assert_eq!(parts["done"], json!({"N": "1"}));
}

#[tokio::test]
async fn queries_page_and_batches_read() {
    let stand_in = StandIn::start(TABLE, Duration::ZERO).await.expect("starts");
    let c = client(&stand_in.url).await;
    for i in 0..5 {
        let v = format!("v{i}");
        c.put_item()
            .table_name(TABLE)
            .item("packageKey", s("q"))
            .item("version", s(&v))
            .send()
            .await
            .expect("put");
    }
    let (mut seen, mut start, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = c
            .query()
            .table_name(TABLE)
            .key_condition_expression("packageKey = :pk")
            .expression_attribute_values(":pk", s("q"))
            .limit(2)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query");
        pages += 1;
        seen.extend(
            page.items()
                .iter()
                .filter_map(|i| i.get("version").cloned()),
        );
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (5, 3));
    let keys = KeysAndAttributes::builder()
        .keys(
            [
                ("packageKey".to_owned(), s("q")),
                ("version".to_owned(), s("v1")),
            ]
            .into(),
        )
        .keys(
            [
                ("packageKey".to_owned(), s("q")),
                ("version".to_owned(), s("none")),
            ]
            .into(),
        )
        .build()
        .expect("keys");
    let got = c
        .batch_get_item()
        .request_items(TABLE, keys)
        .send()
        .await
        .expect("batch");
    assert_eq!(
        got.responses().and_then(|r| r.get(TABLE)).map(Vec::len),
        Some(1)
    );
    let scan = c.scan().table_name(TABLE).send().await;
    assert!(scan.is_err());
    assert_eq!(stand_in.refused().len(), 1, "Scan is not implemented");
}
