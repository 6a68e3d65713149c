//! How records and pending uploads are written as DynamoDB items, and read back.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::{StorageError, Stored};
use crate::domain::{
    FileName, ImageId, ImageRecord, Metadata, Owner, PartPlan, PendingUpload, Timestamp,
};
use imaging::media::MediaType;
use schema::*;

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
    /// Whose the image or the pending upload is; partition key of the unfiltered listing
    /// index. Absent on records written before owners: those are the configured owner's.
    pub const OWNER: &str = "owner";
    /// `{owner}/{file_name}`: partition key of the listing by name (owners hold no `/`).
    pub const OWNER_FILE_NAME: &str = "owner_file_name";
    pub const BY_OWNER_INDEX: &str = "by_owner";
    pub const BY_OWNER_FILE_NAME_INDEX: &str = "by_owner_file_name";
    /// Present only on a pending direct upload (`"pending"`), which shares the image's `id`:
    /// without `created_key` it is in neither index, so no listing sees it.
    pub const STATE: &str = "state";
    pub const PENDING: &str = "pending";
    /// An image being deleted: its objects go first, then this item. Without `created_key`
    /// it is in neither index, and reads treat it as gone; a repeat `DELETE` (or `reconcile`)
    /// finishes what a failed one left.
    pub const DELETING: &str = "deleting";
    pub const PART_SIZE: &str = "part_size";
    pub const PART_COUNT: &str = "part_count";
    pub const MULTIPART_ID: &str = "multipart_id";
    pub const EXPIRES_AT: &str = "expires_at";
    /// Epoch seconds: DynamoDB's time to live removes a pending upload nobody completed.
    pub const TTL: &str = "ttl";
}

/// A string attribute.
pub(super) fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn id_value(id: ImageId) -> AttributeValue {
    string(id.to_string())
}

pub(super) fn image_item(record: &ImageRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (ID.to_owned(), id_value(record.id)),
        (FILE_NAME.to_owned(), string(record.file_name.as_str())),
        (
            CONTENT_TYPE.to_owned(),
            string(record.content_type.as_str()),
        ),
        (SIZE.to_owned(), AttributeValue::N(record.size.to_string())),
        (CREATED_AT.to_owned(), string(record.created_at.to_string())),
        (METADATA.to_owned(), metadata_map(&record.metadata)),
        (
            CREATED_KEY.to_owned(),
            string(record.sort_key().to_string()),
        ),
        (OWNER.to_owned(), string(record.owner.as_str())),
        (
            OWNER_FILE_NAME.to_owned(),
            string(owner_file_name(&record.owner, &record.file_name)),
        ),
    ]);
    for (name, value) in [(WIDTH, record.width), (HEIGHT, record.height)] {
        if let Some(value) = value {
            item.insert(name.to_owned(), AttributeValue::N(value.to_string()));
        }
    }
    item
}

pub(super) fn pending_item(upload: &PendingUpload) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (ID.to_owned(), id_value(upload.id)),
        (OWNER.to_owned(), string(upload.owner.as_str())),
        (STATE.to_owned(), string(PENDING)),
        (FILE_NAME.to_owned(), string(upload.file_name.as_str())),
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
        (CREATED_AT.to_owned(), string(upload.created_at.to_string())),
        (EXPIRES_AT.to_owned(), string(upload.expires_at.to_string())),
        (
            TTL.to_owned(),
            AttributeValue::N(upload.expires_at.as_offset().unix_timestamp().to_string()),
        ),
    ]);
    if let Some(multipart_id) = &upload.multipart_id {
        item.insert(MULTIPART_ID.to_owned(), string(multipart_id));
    }
    item
}

/// The partition of one owner's images of one name.
pub(super) fn owner_file_name(owner: &Owner, file_name: &FileName) -> String {
    format!("{owner}/{}", file_name.as_str())
}

/// Whose a stored item is: its `owner`, or `legacy` for one written before owners.
fn decode_owner(
    item: &HashMap<String, AttributeValue>,
    legacy: &Owner,
) -> Result<Owner, StorageError> {
    match item.get(OWNER) {
        None => Ok(legacy.clone()),
        Some(value) => value
            .as_s()
            .ok()
            .and_then(|raw| Owner::parse(raw).ok())
            .ok_or_else(|| StorageError::internal("stored item has a malformed owner")),
    }
}

fn metadata_map(metadata: &Metadata) -> AttributeValue {
    AttributeValue::M(
        metadata
            .entries()
            .iter()
            .map(|(k, v)| (k.clone(), string(v)))
            .collect(),
    )
}

/// An image record marked for deletion (`DELETING`): not an image any more.
pub(super) fn is_deleting(item: &HashMap<String, AttributeValue>) -> bool {
    item.get(STATE)
        .and_then(|state| state.as_s().ok())
        .map(String::as_str)
        == Some(DELETING)
}

/// The id of any item, a mark for deletion included.
pub(super) fn decode_id(item: &HashMap<String, AttributeValue>) -> Result<ImageId, StorageError> {
    Fields::new(item, "item").parsed(ID)
}

pub(super) fn decode_stored(
    item: &HashMap<String, AttributeValue>,
    legacy: &Owner,
) -> Result<Stored, StorageError> {
    if item.get(STATE).is_none() {
        return decode(item, legacy).map(Stored::Image);
    }
    decode_pending(item, legacy).map(Stored::Pending)
}

fn decode_pending(
    item: &HashMap<String, AttributeValue>,
    legacy: &Owner,
) -> Result<PendingUpload, StorageError> {
    let fields = Fields::new(item, "upload");
    if fields.text(STATE)? != PENDING {
        return Err(fields.malformed(STATE));
    }
    Ok(PendingUpload {
        id: fields.parsed(ID)?,
        owner: decode_owner(item, legacy)?,
        file_name: FileName::parse(fields.text(FILE_NAME)?.to_owned())
            .map_err(|_| fields.malformed(FILE_NAME))?,
        size: fields.number(SIZE)?,
        metadata: Metadata::from_stored(decode_metadata(item)?),
        plan: PartPlan {
            part_size: fields.number(PART_SIZE)?,
            count: fields.number(PART_COUNT)?,
        },
        multipart_id: fields.optional_text(MULTIPART_ID)?.map(str::to_owned),
        created_at: fields.timestamp(CREATED_AT)?,
        expires_at: fields.timestamp(EXPIRES_AT)?,
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
pub(super) fn decode(
    item: &HashMap<String, AttributeValue>,
    legacy: &Owner,
) -> Result<ImageRecord, StorageError> {
    let fields = Fields::new(item, "record");
    Ok(ImageRecord {
        id: fields.parsed(ID)?,
        owner: decode_owner(item, legacy)?,
        file_name: FileName::parse(fields.text(FILE_NAME)?.to_owned())
            .map_err(|_| fields.malformed(FILE_NAME))?,
        content_type: MediaType::from_mime(fields.text(CONTENT_TYPE)?)
            .ok_or_else(|| fields.malformed(CONTENT_TYPE))?,
        size: fields.number(SIZE)?,
        created_at: fields.timestamp(CREATED_AT)?,
        metadata: Metadata::from_stored(decode_metadata(item)?),
        width: fields.optional_number(WIDTH)?,
        height: fields.optional_number(HEIGHT)?,
    })
}

/// An item's attributes as a decoder reads them: a read that fails names the attribute, and
/// the kind of item it is in.
pub(super) struct Fields<'a> {
    item: &'a HashMap<String, AttributeValue>,
    kind: &'static str,
}

impl<'a> Fields<'a> {
    pub(super) fn new(item: &'a HashMap<String, AttributeValue>, kind: &'static str) -> Self {
        Self { item, kind }
    }

    pub(super) fn malformed(&self, name: &str) -> StorageError {
        StorageError::internal(format!("stored {} has a malformed {name}", self.kind))
    }

    /// A string attribute.
    pub(super) fn text(&self, name: &str) -> Result<&'a str, StorageError> {
        self.optional_text(name)?
            .ok_or_else(|| self.malformed(name))
    }

    /// A string attribute that may be absent (but is a string if present).
    pub(super) fn optional_text(&self, name: &str) -> Result<Option<&'a str>, StorageError> {
        self.item
            .get(name)
            .map(|v| {
                v.as_s()
                    .map(String::as_str)
                    .map_err(|_| self.malformed(name))
            })
            .transpose()
    }

    /// A string attribute, parsed.
    pub(super) fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<T, StorageError> {
        self.text(name)?.parse().map_err(|_| self.malformed(name))
    }

    /// A number attribute.
    pub(super) fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, StorageError> {
        self.optional_number(name)?
            .ok_or_else(|| self.malformed(name))
    }

    /// A number attribute that may be absent (but is a number of type `T` if present).
    pub(super) fn optional_number<T: std::str::FromStr>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StorageError> {
        self.item
            .get(name)
            .map(|v| {
                v.as_n()
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| self.malformed(name))
            })
            .transpose()
    }

    pub(super) fn timestamp(&self, name: &str) -> Result<Timestamp, StorageError> {
        Timestamp::parse_stored(self.text(name)?).ok_or_else(|| self.malformed(name))
    }
}
