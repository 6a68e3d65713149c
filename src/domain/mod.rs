//! Types that input becomes once, at the edge. A value of one of these types is valid by
//! construction, so handlers and storage never check it again.

mod direct_upload;
mod error;
mod file_name;
mod id;
mod idempotency;
mod json;
mod listing;
mod metadata;
mod new_image;
mod owner;
mod page_token;
mod record;
mod text;
mod timestamp;

pub use direct_upload::{
    CompleteUpload, CompletedPart, CreateUpload, MAX_SINGLE_PUT_BYTES, MIN_PART_BYTES, NewUpload,
    PartPlan, PendingUpload, completed_parts,
};
pub use error::InputError;
pub use file_name::{FileName, MAX_FILE_NAME_CHARS};
pub use id::ImageId;
pub use idempotency::{Fingerprint, IdempotencyKey, IdempotentRequest, MAX_KEY_CHARS};
pub use listing::{DEFAULT_PAGE_SIZE, ListQuery, MAX_PAGE_SIZE, RawListQuery};
pub use metadata::{
    MAX_METADATA_BYTES, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_CHARS, Metadata, metadata_schema,
};
pub use owner::{InvalidOwner, MAX_OWNER_CHARS, Owner};
pub use page_token::PageToken;
pub use record::ImageRecord;
pub use timestamp::{SortKey, Timestamp};
/// At most 64 characters of client input, for echoing it in an error detail: an attacker's
/// megabyte-long value helps nobody when repeated back.
pub(crate) fn excerpt(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// Faulted upload bodies, for the tests of every path an upload body takes.
#[cfg(test)]
pub(crate) use new_image::tests as upload_bodies;
pub use new_image::{NewImage, PIXEL_PNG_BASE64, UploadRequest, inspect, json_body_limit};
pub use text::NO_CONTROL_CHARACTERS;
