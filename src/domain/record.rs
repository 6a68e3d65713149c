use serde::{Serialize, Serializer};

use super::{FileName, ImageId, Metadata, Owner, SortKey, Timestamp};
use imaging::dimensions::Dimensions;
use imaging::media::MediaType;

/// What the API stores and returns about one image (never its bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImageRecord {
    /// Random UUID v4.
    #[serde(serialize_with = "display")]
    #[schema(value_type = String, format = Uuid)]
    pub id: ImageId,
    /// Whose it is; never answered (a caller sees only their own).
    #[serde(skip)]
    pub owner: Owner,
    /// As uploaded, verbatim.
    #[serde(serialize_with = "file_name")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub file_name: FileName,
    /// Sniffed from the bytes.
    #[serde(serialize_with = "media_type")]
    #[schema(value_type = String, example = "image/png")]
    pub content_type: MediaType,
    /// In bytes.
    pub size: u64,
    /// RFC 3339, UTC, milliseconds.
    #[serde(serialize_with = "display")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T23:45:24.123Z")]
    pub created_at: Timestamp,
    #[schema(schema_with = super::metadata::metadata_schema)]
    pub metadata: Metadata,
    /// As displayed, after the EXIF orientation; absent on records written before the API
    /// read them (see the README).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub height: Option<u32>,
}

impl ImageRecord {
    pub fn new(
        owner: Owner,
        file_name: FileName,
        media: MediaType,
        size: usize,
        dimensions: Dimensions,
        metadata: Metadata,
    ) -> Self {
        Self {
            id: ImageId::new(),
            owner,
            file_name,
            content_type: media,
            size: size as u64,
            created_at: Timestamp::now(),
            metadata,
            width: Some(dimensions.width),
            height: Some(dimensions.height),
        }
    }

    pub fn sort_key(&self) -> SortKey {
        SortKey::new(self.created_at, self.id)
    }
}

fn display<T: std::fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn file_name<S: Serializer>(value: &FileName, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.as_str())
}

fn media_type<S: Serializer>(value: &MediaType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.as_str())
}
