//! Idempotency keys, each an item of the table beside the records: a request claims its key
//! with one conditional write, so of any number of repeats racing, one runs.
//!
//! The item is `idempotency#{owner}#{key}`: one owner's keys never meet another's. It carries no `shard`, `created_key` or `file_name`, so no
//! listing index sees it, and a scan for records skips it. DynamoDB's time to live removes it
//! some time after `ttl`; until then the conditions treat it as gone.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::items::{Fields, decode_stored, id_value, image_item, pending_item, string};
use super::schema::{ID, TTL};
use super::{Catalog, Stored, applied, condition_failed};
use crate::domain::{Fingerprint, IdempotentRequest, ImageId};
use crate::storage::StorageError;

const PREFIX: &str = "idempotency#";
const CLAIM_STATE: &str = "claim_state";
const RUNNING: &str = "running";
const DONE: &str = "done";
const FINGERPRINT: &str = "fingerprint";
/// The id the request makes (an image's, or a planned upload's), chosen when it claims the
/// key, so that a request taking over from one that died makes the same one.
const RESOURCE: &str = "resource";
/// Until when, in epoch milliseconds, the running request holds the key.
const LEASE_UNTIL: &str = "lease_until";
/// Which request holds it: a request that outlived its lease and then ends must not end the
/// claim of the one that took it over.
const HOLDER: &str = "holder";
/// What the request made, encoded as the table encodes it.
const RESULT: &str = "result";

/// A request's hold on a key: who holds it (a token of its own), when it asked, until when
/// its lease runs and until when the key is remembered, all in epoch milliseconds.
pub struct Hold<'a> {
    pub holder: &'a str,
    pub now: i64,
    pub lease_until: i64,
    pub expires: i64,
}

/// Who holds a key that could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub fingerprint: Fingerprint,
    pub resource: ImageId,
    pub state: ClaimState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimState {
    /// A request holds it until `lease_until` (epoch milliseconds).
    Running { lease_until: i64 },
    /// Done: what the request made, as it was then.
    Done(Stored),
}

pub(super) fn is_claim(item: &HashMap<String, AttributeValue>) -> bool {
    item.get(ID)
        .and_then(|id| id.as_s().ok())
        .is_some_and(|id| id.starts_with(PREFIX))
}

/// Owners hold no `#`, so the first `#` after the prefix ends the owner.
fn key_value(request: &IdempotentRequest) -> AttributeValue {
    string(format!(
        "{PREFIX}{}#{}",
        request.owner,
        request.key.as_str()
    ))
}

fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl Catalog {
    /// Claims the request's key for it, to make `resource`, as `hold` says. `None` when
    /// claimed; else the claim that holds it, as the refused write found it.
    pub async fn claim(
        &self,
        request: &IdempotentRequest,
        resource: ImageId,
        hold: &Hold<'_>,
    ) -> Result<Option<Claim>, StorageError> {
        let item = HashMap::from([
            (ID.to_owned(), key_value(request)),
            (CLAIM_STATE.to_owned(), string(RUNNING)),
            (HOLDER.to_owned(), string(hold.holder)),
            (FINGERPRINT.to_owned(), string(request.fingerprint.as_str())),
            (RESOURCE.to_owned(), id_value(resource)),
            (LEASE_UNTIL.to_owned(), number(hold.lease_until)),
            (TTL.to_owned(), number(hold.expires.div_euclid(1000))),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id) OR #ttl < :now")
            .expression_attribute_names("#id", ID)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":now", number(hold.now.div_euclid(1000)))
            // The claim that holds the key comes back with the refusal: no second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(None),
            Err(error) => error,
        };
        if let Some(PutItemError::ConditionalCheckFailedException(refused)) =
            error.as_service_error()
        {
            let held = refused.item().ok_or_else(|| {
                StorageError::internal("a refused claim came back without its holder")
            })?;
            return self.decode_claim(held).map(Some);
        }
        Err(error.into())
    }

    /// Takes over a running claim whose lease ran out at `lease_until` (its request died):
    /// `true` when it is now `holder`'s, until `new_lease_until`.
    pub async fn take_over(
        &self,
        request: &IdempotentRequest,
        holder: &str,
        lease_until: i64,
        new_lease_until: i64,
    ) -> Result<bool, StorageError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ID, key_value(request))
            .update_expression("SET #lease = :new, #holder = :holder")
            .condition_expression("#state = :running AND #lease = :old")
            .expression_attribute_names("#lease", LEASE_UNTIL)
            .expression_attribute_names("#holder", HOLDER)
            .expression_attribute_values(":holder", string(holder))
            .expression_attribute_names("#state", CLAIM_STATE)
            .expression_attribute_values(":running", string(RUNNING))
            .expression_attribute_values(":old", number(lease_until))
            .expression_attribute_values(":new", number(new_lease_until))
            .send()
            .await;
        applied(result)
    }

    /// Records what `holder` made, for the repeats of its request to answer with; nothing when
    /// it no longer holds the key.
    pub async fn finish_claim(
        &self,
        request: &IdempotentRequest,
        holder: &str,
        made: &Stored,
    ) -> Result<(), StorageError> {
        let encoded = match made {
            Stored::Image(record) => image_item(record),
            Stored::Pending(upload) => pending_item(upload),
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .key(ID, key_value(request))
            .update_expression("SET #state = :done, #result = :result REMOVE #lease")
            .condition_expression("#state = :running AND #holder = :holder")
            .expression_attribute_names("#state", CLAIM_STATE)
            .expression_attribute_names("#result", RESULT)
            .expression_attribute_names("#lease", LEASE_UNTIL)
            .expression_attribute_names("#holder", HOLDER)
            .expression_attribute_values(":done", string(DONE))
            .expression_attribute_values(":running", string(RUNNING))
            .expression_attribute_values(":holder", string(holder))
            .expression_attribute_values(":result", AttributeValue::M(encoded))
            .send()
            .await?;
        Ok(())
    }

    /// Frees `key` after `holder`'s request failed, so that a repeat runs again. Only a claim
    /// `holder` still holds is removed; one already gone or taken over is left alone.
    pub async fn release_claim(
        &self,
        request: &IdempotentRequest,
        holder: &str,
    ) -> Result<(), StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, key_value(request))
            .condition_expression("#state = :running AND #holder = :holder")
            .expression_attribute_names("#state", CLAIM_STATE)
            .expression_attribute_names("#holder", HOLDER)
            .expression_attribute_values(":running", string(RUNNING))
            .expression_attribute_values(":holder", string(holder))
            .send()
            .await;
        match result {
            Err(error) if !condition_failed(&error) => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// A claim as stored; what it made is decoded as the table's items are.
    fn decode_claim(&self, item: &HashMap<String, AttributeValue>) -> Result<Claim, StorageError> {
        let fields = Fields::new(item, "claim");
        let state = match fields.text(CLAIM_STATE)? {
            RUNNING => ClaimState::Running {
                lease_until: fields.number(LEASE_UNTIL)?,
            },
            DONE => {
                let result = item
                    .get(RESULT)
                    .and_then(|v| v.as_m().ok())
                    .ok_or_else(|| fields.malformed(RESULT))?;
                ClaimState::Done(decode_stored(result, &self.legacy_owner)?)
            }
            _ => return Err(fields.malformed(CLAIM_STATE)),
        };
        Ok(Claim {
            fingerprint: Fingerprint::from_stored(fields.text(FINGERPRINT)?.to_owned()),
            resource: fields.parsed(RESOURCE)?,
            state,
        })
    }
}
