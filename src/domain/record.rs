use serde::{Serialize, Serializer};

use super::{FileName, ImageId, Metadata, SortKey, Timestamp};
use crate::media::MediaType;

/// What the API stores and returns about one image (never its bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRecord {
    #[serde(serialize_with = "display")]
    pub id: ImageId,
    #[serde(serialize_with = "file_name")]
    pub file_name: FileName,
    pub content_type: String,
    pub size: u64,
    #[serde(serialize_with = "display")]
    pub created_at: Timestamp,
    pub metadata: Metadata,
}

impl ImageRecord {
    pub fn new(file_name: FileName, media: MediaType, size: usize, metadata: Metadata) -> Self {
        Self {
            id: ImageId::new(),
            file_name,
            content_type: media.as_str().to_owned(),
            size: size as u64,
            created_at: Timestamp::now(),
            metadata,
        }
    }

    pub fn sort_key(&self) -> SortKey {
        SortKey::new(self.created_at, self.id)
    }

    pub fn location(&self) -> String {
        format!("/images/{}", self.id)
    }
}

fn display<T: std::fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn file_name<S: Serializer>(value: &FileName, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.as_str())
}
