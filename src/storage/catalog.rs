use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use super::StorageError;
use crate::domain::{
    FileName, ImageId, ImageRecord, ListQuery, Metadata, PageToken, PartPlan, PendingUpload,
    Timestamp,
};
use crate::media::MediaType;

/// Attribute and index names; `setup-localstack.sh` and `template.yaml` create the same.
pub mod schema {
    pub const ID: &str = "id";
    pub const FILE_NAME: &str = "file_name";
    pub const CONTENT_TYPE: &str = "content_type";
    pub const SIZE: &str = "size";
    /// Displayed dimensions; absent on records written before they were read.
    pub const WIDTH: &str = "width";
    pub const HEIGHT: &str = "height";
    pub const CREATED_AT: &str = "created_at";
    pub const METADATA: &str = "metadata";
    /// `{created_at}#{id}`: sort key of both indexes.
    pub const CREATED_KEY: &str = "created_key";
    /// Partition key of the unfiltered listing index; one value today (see the README).
    pub const SHARD: &str = "shard";
    pub const SHARD_VALUE: &str = "all";
    pub const BY_CREATED_INDEX: &str = "by_created";
    pub const BY_FILE_NAME_INDEX: &str = "by_file_name";
    /// Present only on a pending direct upload (`"pending"`), which shares the image's `id`:
    /// without `shard` and `created_key` it is in neither index, so no listing sees it.
    pub const STATE: &str = "state";
    pub const PENDING: &str = "pending";
    pub const PART_SIZE: &str = "part_size";
    pub const PART_COUNT: &str = "part_count";
    pub const MULTIPART_ID: &str = "multipart_id";
    pub const EXPIRES_AT: &str = "expires_at";
    /// Epoch seconds: DynamoDB's time to live removes a pending upload nobody completed.
    pub const TTL: &str = "ttl";
}

use schema::*;

/// Image records in DynamoDB, keyed by `id`, listed through two indexes sorted by
/// `created_key`.
#[derive(Clone)]
pub struct Catalog {
    client: Client,
    table: String,
}

/// Whether a conditional write was applied: `false` when its condition did not hold.
fn applied<O, E>(result: Result<O, SdkError<E, HttpResponse>>) -> Result<bool, StorageError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error)
            if error
                .as_service_error()
                .and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// What an item of the table is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Image(ImageRecord),
    Pending(PendingUpload),
}

/// What removing an image record found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    Absent,
    /// The id is a pending upload's, not an image's: nothing was removed.
    Pending,
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<ImageRecord>,
    pub next: Option<PageToken>,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

impl Catalog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Conditional on the id being new. A `ConditionalCheckFailed` can only come from the
    /// SDK retrying our own write after a lost response (the id is a fresh random UUID), so
    /// it means the first attempt was applied.
    pub async fn insert(&self, record: &ImageRecord) -> Result<(), StorageError> {
        let item = image_item(record);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ID)
            .send()
            .await;
        if !applied(result)? {
            tracing::info!(id = %record.id, "record already written by an earlier attempt");
        }
        Ok(())
    }

    /// The image record; `None` if there is none (a pending upload is not an image).
    pub async fn get(&self, id: ImageId) -> Result<Option<ImageRecord>, StorageError> {
        Ok(match self.get_stored(id).await? {
            Some(Stored::Image(record)) => Some(record),
            _ => None,
        })
    }

    /// Whatever is stored under `id`: an image record or a pending upload.
    pub async fn get_stored(&self, id: ImageId) -> Result<Option<Stored>, StorageError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, s(id.to_string()))
            .consistent_read(true)
            .send()
            .await?;
        output.item.as_ref().map(decode_stored).transpose()
    }

    /// Remembers a planned upload, under an id that is new.
    pub async fn insert_pending(&self, upload: &PendingUpload) -> Result<(), StorageError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(pending_item(upload)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ID)
            .send()
            .await?;
        Ok(())
    }

    /// Turns a pending upload into its image record, only if it is still pending: `false`
    /// when it is not (completed by a racing call or an earlier attempt, or aborted).
    pub async fn complete(&self, record: &ImageRecord) -> Result<bool, StorageError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(image_item(record)))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":pending", s(PENDING))
            .send()
            .await;
        applied(result)
    }

    /// Forgets a pending upload, only if it is still pending; `false` when it was not there
    /// (or no longer pending). Idempotent.
    pub async fn remove_pending(&self, id: ImageId) -> Result<bool, StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, s(id.to_string()))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":pending", s(PENDING))
            .send()
            .await;
        applied(result)
    }

    /// Removes an image record; says whether there was one. A pending upload under the id is
    /// left alone (`Removal::Pending`): only `DELETE /uploads/{id}` aborts it.
    pub async fn remove(&self, id: ImageId) -> Result<Removal, StorageError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(ID, s(id.to_string()))
            .condition_expression("attribute_not_exists(#state)")
            .expression_attribute_names("#state", STATE)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output)
                if output
                    .attributes
                    .as_ref()
                    .is_some_and(|old| !old.is_empty()) =>
            {
                Ok(Removal::Removed)
            }
            Ok(_) => Ok(Removal::Absent),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Removal::Pending)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Every record, page by page (a strongly consistent scan): for operators (`reconcile`),
    /// not requests.
    pub async fn scan(&self) -> Result<Vec<Stored>, StorageError> {
        let mut records = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page?.items() {
                records.push(decode_stored(item)?);
            }
        }
        Ok(records)
    }

    /// Newest first. Asks for one item more than the page holds, so `next` is set exactly
    /// when more items follow, on AWS and on emulators alike (they differ on whether a
    /// `Limit` that exhausts the items returns a `LastEvaluatedKey`).
    pub async fn list(&self, query: &ListQuery) -> Result<Page, StorageError> {
        let Some((lower, upper)) = &query.range else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let (index, partition_attr, partition) = match &query.file_name {
            Some(name) => (BY_FILE_NAME_INDEX, FILE_NAME, name.as_str()),
            None => (BY_CREATED_INDEX, SHARD, SHARD_VALUE),
        };
        let start_key = query.start_after.as_ref().map(|token| {
            let position = token.position();
            HashMap::from([
                (ID.to_owned(), s(position.id().to_string())),
                (partition_attr.to_owned(), s(partition)),
                (CREATED_KEY.to_owned(), s(position.to_string())),
            ])
        });
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lower AND :upper")
            .expression_attribute_names("#pk", partition_attr)
            .expression_attribute_names("#sk", CREATED_KEY)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":lower", s(lowest_key_at(*lower)))
            .expression_attribute_values(":upper", s(highest_key_at(*upper)))
            .scan_index_forward(false)
            .limit(i32::try_from(query.limit + 1).expect("page sizes are small"))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;

        let more = output.last_evaluated_key.is_some();
        let mut items = output
            .items
            .unwrap_or_default()
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items
                .last()
                .map(|item| PageToken::after(item.sort_key(), query.filters()))
        } else if more {
            // A short page with more to come (DynamoDB's 1 MB page cap).
            items
                .last()
                .map(|item| PageToken::after(item.sort_key(), query.filters()))
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

fn image_item(record: &ImageRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (ID.to_owned(), s(record.id.to_string())),
        (FILE_NAME.to_owned(), s(record.file_name.as_str())),
        (CONTENT_TYPE.to_owned(), s(record.content_type.as_str())),
        (SIZE.to_owned(), AttributeValue::N(record.size.to_string())),
        (CREATED_AT.to_owned(), s(record.created_at.to_string())),
        (METADATA.to_owned(), metadata_map(&record.metadata)),
        (CREATED_KEY.to_owned(), s(record.sort_key().to_string())),
        (SHARD.to_owned(), s(SHARD_VALUE)),
    ]);
    for (name, value) in [(WIDTH, record.width), (HEIGHT, record.height)] {
        if let Some(value) = value {
            item.insert(name.to_owned(), AttributeValue::N(value.to_string()));
        }
    }
    item
}

fn pending_item(upload: &PendingUpload) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (ID.to_owned(), s(upload.id.to_string())),
        (STATE.to_owned(), s(PENDING)),
        (FILE_NAME.to_owned(), s(upload.file_name.as_str())),
        (SIZE.to_owned(), AttributeValue::N(upload.size.to_string())),
        (METADATA.to_owned(), metadata_map(&upload.metadata)),
        (
            PART_SIZE.to_owned(),
            AttributeValue::N(upload.plan.part_size.to_string()),
        ),
        (
            PART_COUNT.to_owned(),
            AttributeValue::N(upload.plan.count.to_string()),
        ),
        (CREATED_AT.to_owned(), s(upload.created_at.to_string())),
        (EXPIRES_AT.to_owned(), s(upload.expires_at.to_string())),
        (
            TTL.to_owned(),
            AttributeValue::N(upload.expires_at.as_offset().unix_timestamp().to_string()),
        ),
    ]);
    if let Some(multipart_id) = &upload.multipart_id {
        item.insert(MULTIPART_ID.to_owned(), s(multipart_id));
    }
    item
}

fn metadata_map(metadata: &Metadata) -> AttributeValue {
    AttributeValue::M(
        metadata
            .entries()
            .iter()
            .map(|(k, v)| (k.clone(), s(v)))
            .collect(),
    )
}

/// Below every stored `{created_at}#{id}` at `at`: `#` ends the timestamp.
fn lowest_key_at(at: Timestamp) -> String {
    format!("{at}#")
}

/// Above every stored key at `at`: `~` sorts above every character of an id.
fn highest_key_at(at: Timestamp) -> String {
    format!("{at}#~")
}

fn decode_stored(item: &HashMap<String, AttributeValue>) -> Result<Stored, StorageError> {
    if item.get(STATE).is_none() {
        return decode(item).map(Stored::Image);
    }
    decode_pending(item).map(Stored::Pending)
}

fn decode_pending(item: &HashMap<String, AttributeValue>) -> Result<PendingUpload, StorageError> {
    let malformed =
        |what: &str| StorageError::internal(format!("stored upload has a malformed {what}"));
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| malformed(name))
    };
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| malformed(name))
    };
    if text(STATE)? != PENDING {
        return Err(malformed(STATE));
    }
    Ok(PendingUpload {
        id: text(ID)?.parse().map_err(|_| malformed(ID))?,
        file_name: FileName::parse(text(FILE_NAME)?.clone()).map_err(|_| malformed(FILE_NAME))?,
        size: number(SIZE)?,
        metadata: Metadata::from_stored(decode_metadata(item)?),
        plan: PartPlan {
            part_size: number(PART_SIZE)?,
            count: number(PART_COUNT)?,
        },
        multipart_id: item
            .get(MULTIPART_ID)
            .map(|v| v.as_s().cloned().map_err(|_| malformed(MULTIPART_ID)))
            .transpose()?,
        created_at: Timestamp::parse_stored(text(CREATED_AT)?)
            .ok_or_else(|| malformed(CREATED_AT))?,
        expires_at: Timestamp::parse_stored(text(EXPIRES_AT)?)
            .ok_or_else(|| malformed(EXPIRES_AT))?,
    })
}

fn decode_metadata(
    item: &HashMap<String, AttributeValue>,
) -> Result<BTreeMap<String, String>, StorageError> {
    match item.get(METADATA) {
        None => Ok(BTreeMap::new()),
        Some(value) => value
            .as_m()
            .map_err(|_| StorageError::internal("stored metadata is not a map"))?
            .iter()
            .map(|(k, v)| v.as_s().map(|v| (k.clone(), v.clone())))
            .collect::<Result<_, _>>()
            .map_err(|_| StorageError::internal("stored metadata has a non-string value")),
    }
}

/// Turns a stored item back into a record; anything unexpected is a server-side fault.
fn decode(item: &HashMap<String, AttributeValue>) -> Result<ImageRecord, StorageError> {
    let text = |name: &str| {
        item.get(name).and_then(|v| v.as_s().ok()).ok_or_else(|| {
            StorageError::internal(format!("stored record lacks string attribute {name}"))
        })
    };
    let id: ImageId = text(ID)?
        .parse()
        .map_err(|_| StorageError::internal("stored record has a malformed id"))?;
    let file_name = FileName::parse(text(FILE_NAME)?.clone())
        .map_err(|_| StorageError::internal("stored record has a malformed file name"))?;
    let created_at = Timestamp::parse_stored(text(CREATED_AT)?)
        .ok_or_else(|| StorageError::internal("stored record has a malformed created_at"))?;
    let size = item
        .get(SIZE)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StorageError::internal("stored record has a malformed size"))?;
    let metadata = decode_metadata(item)?;
    Ok(ImageRecord {
        id,
        file_name,
        content_type: MediaType::from_mime(text(CONTENT_TYPE)?)
            .ok_or_else(|| StorageError::internal("stored record has an unknown content type"))?,
        size,
        created_at,
        metadata: Metadata::from_stored(metadata),
        width: dimension(item, WIDTH)?,
        height: dimension(item, HEIGHT)?,
    })
}

fn dimension(
    item: &HashMap<String, AttributeValue>,
    name: &str,
) -> Result<Option<u32>, StorageError> {
    item.get(name)
        .map(|value| {
            value
                .as_n()
                .ok()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| {
                    StorageError::internal(format!("stored record has a malformed {name}"))
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SortKey;

    #[test]
    fn the_bounds_at_an_instant_hold_every_key_at_it_and_no_other() {
        let at = Timestamp::parse_stored("2026-11-24T23:45:24.123Z").unwrap();
        let next = Timestamp::parse_stored("2026-11-24T23:45:24.124Z").unwrap();
        for id in [
            "00000000-0000-4000-8000-000000000000",
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
        ] {
            let key = SortKey::new(at, id.parse().unwrap()).to_string();
            assert!(lowest_key_at(at) < key && key < highest_key_at(at), "{key}");
            let later = SortKey::new(next, id.parse().unwrap()).to_string();
            assert!(
                highest_key_at(at) < later && later > lowest_key_at(next),
                "{later}"
            );
            assert!(lowest_key_at(next) < later);
        }
    }
}
