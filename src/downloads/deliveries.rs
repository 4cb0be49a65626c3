//! Which SQS messages the function has handled, kept in its table so that a
//! message SQS delivers twice is worked on once.
//!
//! A standard queue delivers "at least once": the same message (the same
//! `MessageId`, another receipt handle) may reach two invocations, at once
//! or one after the other (Amazon SQS Developer Guide, "At-least-once
//! delivery"). Each copy would plan and hand on the rest of its work, and
//! the two chains of hand-ons would read, and race to delete, the same
//! versions. With the table, a delivery first claims its message:
//!
//! - one item per message: `packageKey` `sqs#<MessageId>`, `version`
//!   [`SORT_KEY`];
//! - a claim sets `claimedBy` (the invocation's request id) and
//!   `claimedUntil` (ms since the epoch: the invocation's deadline), with a
//!   conditional write that succeeds only when the message is not handled
//!   and no other invocation holds it now (a holder that ran out of time
//!   lets it lapse);
//! - once the delivery's messages are sent and SQS is told to delete the
//!   record, `handledAt` (ms) is set; a record that goes back to SQS gives
//!   its claim up, so that the redelivery works on it;
//! - `expiresAt` (s, the table's TTL): [`KEEP_FOR`], SQS's longest message
//!   retention, after which no copy of the message can arrive.
//!
//! A FIFO queue processes a message once already, and is not claimed.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;

use super::now_ms;
use super::store::{dynamodb_error, n, s};
use crate::error::DeleteError;
use crate::retry::{QuotaClass, Retrier, Tried};

/// The sort key of every message's item.
pub(crate) const SORT_KEY: &str = "delivery";
/// How long a message's item is kept: SQS keeps a message at most 14 days
/// (`MessageRetentionPeriod`, 1,209,600 s).
const KEEP_FOR: Duration = Duration::from_secs(14 * 86_400);

/// What a delivery's claim on its message found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This delivery works on the message.
    Taken,
    /// An earlier delivery handled it: nothing is left to do.
    Handled,
    /// Another invocation works on it now: SQS delivers it again later.
    Held,
}

/// How a delivery that held its claim ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Its messages are sent and SQS deletes the record.
    Handled,
    /// The record goes back to SQS: the claim is given up.
    Released,
}

/// The messages' items of the table `DOWNLOADS_TABLE`.
#[derive(Debug, Clone)]
pub struct DeliveryTable {
    client: Client,
    table: String,
}

fn item_key(message_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("packageKey".to_owned(), s(format!("sqs#{message_id}"))),
        ("version".to_owned(), s(SORT_KEY)),
    ])
}

/// What a failed claim's item (DynamoDB's `ReturnValuesOnConditionCheckFailure:
/// ALL_OLD`) says: handled, or held by someone else. An item missing from
/// the answer is taken as held: the message comes back later, nothing is
/// lost.
fn refused(item: Option<&HashMap<String, AttributeValue>>) -> Claim {
    match item {
        Some(i) if i.contains_key("handledAt") => Claim::Handled,
        _ => Claim::Held,
    }
}

impl DeliveryTable {
    pub fn new(client: Client, table: String) -> Self {
        DeliveryTable { client, table }
    }

    /// Claims `message_id` for the invocation `owner` until `until` (ms).
    /// The owner's own claim is taken again (a claim whose answer was lost
    /// to a dropped connection is not someone else's).
    ///
    /// Errors: the table's, after the retry layer's attempts.
    pub async fn claim(
        &self,
        message_id: &str,
        (owner, until): (&str, i64),
        retrier: &Retrier,
    ) -> Tried<Claim> {
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let now = now_ms();
                let sent = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(item_key(message_id)))
                    .update_expression(
                        "SET claimedUntil = :until, claimedBy = :me, expiresAt = :exp",
                    )
                    .condition_expression(
                        "attribute_not_exists(handledAt) AND \
                         (attribute_not_exists(claimedUntil) OR claimedUntil < :now OR claimedBy = :me)",
                    )
                    .expression_attribute_values(":until", n(until))
                    .expression_attribute_values(":me", s(owner))
                    .expression_attribute_values(":now", n(now))
                    .expression_attribute_values(":exp", n(now / 1000 + KEEP_FOR.as_secs() as i64))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .send()
                    .await;
                match sent {
                    Ok(_) => Ok(Claim::Taken),
                    Err(e) => match e.as_service_error() {
                        Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                            Ok(refused(c.item()))
                        }
                        _ => Err(dynamodb_error("DynamoDB UpdateItem", e)),
                    },
                }
            })
            .await
    }

    /// Ends `owner`'s claim on `message_id`: one call, outside the retry
    /// layer (it is made after the invocation's cut-off, in the deadline's
    /// margin). A claim no longer `owner`'s is left as it is.
    ///
    /// Errors: the table's. A lost answer costs no more than the claim's
    /// lapse at its `claimedUntil`: a later copy of the message is then
    /// worked on again, as it would be without the table.
    pub async fn finish(
        &self,
        message_id: &str,
        owner: &str,
        how: Finish,
    ) -> Result<(), DeleteError> {
        let now = now_ms();
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(message_id)))
            .condition_expression("claimedBy = :me")
            .expression_attribute_values(":me", s(owner));
        let update = match how {
            Finish::Handled => update
                .update_expression(
                    "SET handledAt = :now, expiresAt = :exp REMOVE claimedUntil, claimedBy",
                )
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":exp", n(now / 1000 + KEEP_FOR.as_secs() as i64)),
            Finish::Released => update.update_expression("REMOVE claimedUntil, claimedBy"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(dynamodb_error("DynamoDB UpdateItem", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_claim_is_handled_only_when_the_item_says_so() {
        let handled = HashMap::from([
            ("handledAt".to_owned(), n(1)),
            ("version".into(), s(SORT_KEY)),
        ]);
        assert_eq!(refused(Some(&handled)), Claim::Handled);
        let held = HashMap::from([
            ("claimedUntil".to_owned(), n(9)),
            ("claimedBy".into(), s("r")),
        ]);
        assert_eq!(refused(Some(&held)), Claim::Held);
        assert_eq!(refused(None), Claim::Held);
    }
}
