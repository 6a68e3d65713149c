//! Uploads that go straight to S3: what a client asks for (`NewUpload`), how its bytes are
//! cut into parts (`PartPlan`), the pending upload the service remembers, and the parts a
//! client reports when it completes.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::value::RawValue;

use super::{FileName, ImageId, InputError, Metadata, Timestamp, excerpt, json};

/// S3's bounds on a multipart upload: every part but the last at least 5 MiB, at most 10,000
/// parts, and at most 5 GiB for a single `PutObject`.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
pub const MAX_PARTS: u64 = 10_000;
pub const MAX_SINGLE_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// `POST /uploads`: the image to come, declared before its bytes are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub file_name: FileName,
    pub size: u64,
    pub metadata: Metadata,
}

impl NewUpload {
    /// `{"file_name": "...", "size": <bytes>, "metadata": {...}}`, with the same rules for the
    /// name and metadata as a JSON upload.
    pub fn from_json(body: &[u8], max_bytes: u64) -> Result<Self, InputError> {
        let mut members = json::members(body)?;
        if let Some(other) = members
            .keys()
            .find(|k| !matches!(k.as_str(), "file_name" | "size" | "metadata"))
        {
            return Err(InputError::InvalidField(format!(
                "unknown field `{}`; expected `file_name`, `size` or `metadata`",
                excerpt(other)
            )));
        }
        let required =
            |name: &str| InputError::MissingField(format!("the field `{name}` is required"));
        let file_name = json::file_name(
            members
                .remove("file_name")
                .ok_or_else(|| required("file_name"))?,
        )?;
        let size = members.remove("size").ok_or_else(|| required("size"))?;
        let size = whole_number(size.get()).ok_or_else(|| {
            InputError::InvalidField("`size` must be a whole number of bytes".into())
        })?;
        let metadata = json::metadata(members.remove("metadata"))?;
        if size == 0 {
            return Err(InputError::EmptyContent);
        }
        if size > max_bytes {
            return Err(InputError::PayloadTooLarge {
                limit: max_bytes as usize,
            });
        }
        Ok(Self {
            file_name,
            size,
            metadata,
        })
    }
}

/// A JSON number that is a whole number of bytes, `185.0` included (JSON does not tell them
/// apart, and neither does JSON Schema's `integer`).
fn whole_number(token: &str) -> Option<u64> {
    let number: serde_json::Number = serde_json::from_str(token).ok()?;
    if let Some(n) = number.as_u64() {
        return Some(n);
    }
    let float = number.as_f64()?;
    // Beyond 2^53 a float no longer names one whole number.
    (float >= 0.0 && float.fract() == 0.0 && float <= (1u64 << 53) as f64).then_some(float as u64)
}

/// How an upload's bytes are sent: one presigned `PutObject` when they fit in one part, else
/// a multipart upload of `count` parts of `part_size` bytes (the last one shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub part_size: u64,
    pub count: u64,
}

impl PartPlan {
    /// `preferred` parts, grown when 10,000 of them would not hold `size`.
    pub fn new(size: u64, preferred: u64) -> Self {
        let part_size = preferred.max(MIN_PART_BYTES).max(size.div_ceil(MAX_PARTS));
        Self {
            part_size,
            count: size.div_ceil(part_size).max(1),
        }
    }

    pub fn is_multipart(&self) -> bool {
        self.count > 1
    }

    /// Part `number` (from 1): its length in bytes.
    pub fn length_of(&self, number: u64, size: u64) -> u64 {
        let start = (number - 1) * self.part_size;
        (size - start).min(self.part_size)
    }
}

/// An upload the service has planned and not yet completed or aborted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub id: ImageId,
    pub file_name: FileName,
    pub size: u64,
    pub metadata: Metadata,
    pub plan: PartPlan,
    /// S3's id of the multipart upload; `None` for a single `PutObject`.
    pub multipart_id: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl PendingUpload {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

/// A part as the client reports it after sending it: its number and the `ETag` S3 answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedPart {
    #[schema(minimum = 1, maximum = 10000)]
    pub number: u32,
    /// As S3 answered it, quotes included.
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub etag: String,
}

/// The body of `POST /uploads/{id}/complete`: `{"parts": [{"number", "etag"}]}`, ignored
/// (and may be empty) for a single-part upload.
pub fn completed_parts(body: &[u8]) -> Result<Vec<CompletedPart>, InputError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut members = json::members(body)?;
    if let Some(other) = members.keys().find(|k| k.as_str() != "parts") {
        return Err(InputError::InvalidField(format!(
            "unknown field `{}`; expected `parts`",
            excerpt(other)
        )));
    }
    let Some(raw) = members.remove("parts").filter(|raw| raw.get() != "null") else {
        return Ok(Vec::new());
    };
    let shape = || {
        InputError::InvalidField(
            "`parts` must be a list of {\"number\": 1.., \"etag\": \"...\"} objects".into(),
        )
    };
    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|_| shape())?;
    let mut seen = BTreeSet::new();
    let mut completed = Vec::with_capacity(items.len());
    for item in items {
        let mut members = json::members(item.get().as_bytes()).map_err(|_| shape())?;
        let (Some(number), Some(etag)) = (members.remove("number"), members.remove("etag")) else {
            return Err(shape());
        };
        if !members.is_empty() {
            return Err(shape());
        }
        let number = whole_number(number.get())
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=MAX_PARTS as u32).contains(n))
            .ok_or_else(|| {
                InputError::InvalidField(format!("part numbers run from 1 to {MAX_PARTS}"))
            })?;
        if !seen.insert(number) {
            return Err(InputError::InvalidField(format!(
                "part numbers must be distinct; {number} is given twice"
            )));
        }
        let etag = serde_json::from_str::<String>(etag.get())
            .ok()
            .filter(|e| !e.is_empty() && e.len() <= 1024 && !e.chars().any(char::is_control))
            .ok_or_else(|| {
                InputError::InvalidField(format!(
                    "part {number}: `etag` must be the ETag S3 answered for it"
                ))
            })?;
        completed.push(CompletedPart { number, etag });
    }
    completed.sort_by_key(|part| part.number);
    Ok(completed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn code(result: Result<NewUpload, InputError>) -> &'static str {
        result
            .map(|_| "ok")
            .unwrap_or_else(|e| crate::error::ApiError::from(e).code())
    }

    #[test]
    fn reads_a_declared_upload() {
        let upload = NewUpload::from_json(
            br#"{"file_name": "a.jpg", "size": 20971520, "metadata": {"k": "v"}}"#,
            64 * MIB,
        )
        .unwrap();
        assert_eq!(upload.size, 20 * MIB);
        assert_eq!(upload.file_name.as_str(), "a.jpg");
        assert_eq!(upload.metadata.entries()["k"], "v");
        for (body, expected) in [
            (
                &br#"{"file_name": "a", "size": 67108865}"#[..],
                "payload_too_large",
            ),
            (br#"{"file_name": "a", "size": 0}"#, "empty_content"),
            (br#"{"file_name": "a", "size": -1}"#, "invalid_field"),
            (br#"{"file_name": "a", "size": 1.5}"#, "invalid_field"),
            (br#"{"file_name": "a", "size": 1e300}"#, "invalid_field"),
            (br#"{"file_name": "a", "size": "1"}"#, "invalid_field"),
            (br#"{"file_name": "a"}"#, "missing_field"),
            (br#"{"size": 1}"#, "missing_field"),
            (
                br#"{"file_name": "a", "size": 1, "extra": 1}"#,
                "invalid_field",
            ),
            (
                br#"{"file_name": "a", "size": 1, "size": 2}"#,
                "invalid_json",
            ),
            (br#"{"file_name": "", "size": 1}"#, "invalid_field"),
            (
                br#"{"file_name": "a", "size": 1, "metadata": {"": "v"}}"#,
                "invalid_field",
            ),
        ] {
            assert_eq!(
                code(NewUpload::from_json(body, 64 * MIB)),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            code(NewUpload::from_json(
                br#"{"file_name": "a", "size": 67108864}"#,
                64 * MIB
            )),
            "ok"
        );
    }

    #[test]
    fn plans_parts_within_s3_bounds() {
        let one = PartPlan::new(3 * MIB, 8 * MIB);
        assert_eq!((one.count, one.is_multipart()), (1, false));
        let exact = PartPlan::new(8 * MIB, 8 * MIB);
        assert_eq!(exact.count, 1);
        let three = PartPlan::new(17 * MIB, 8 * MIB);
        assert_eq!(three.count, 3);
        assert_eq!(three.length_of(1, 17 * MIB), 8 * MIB);
        assert_eq!(three.length_of(3, 17 * MIB), MIB);
        // Never below S3's minimum part, never more than 10,000 parts.
        assert_eq!(PartPlan::new(11 * MIB, MIB).part_size, MIN_PART_BYTES);
        let huge = PartPlan::new(5 * 1024 * 1024 * MIB, 8 * MIB);
        assert!(huge.count <= MAX_PARTS, "{huge:?}");
        assert!(huge.part_size * huge.count >= 5 * 1024 * 1024 * MIB);
        let total: u64 = (1..=three.count)
            .map(|n| three.length_of(n, 17 * MIB))
            .sum();
        assert_eq!(total, 17 * MIB);
    }

    #[test]
    fn reads_completed_parts() {
        let parts = completed_parts(
            br#"{"parts": [{"number": 2, "etag": "\"b\""}, {"number": 1, "etag": "\"a\""}]}"#,
        )
        .unwrap();
        assert_eq!(parts.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(parts[0].etag, "\"a\"");
        assert!(completed_parts(b"").unwrap().is_empty());
        assert!(completed_parts(b"{}").unwrap().is_empty());
        assert!(completed_parts(br#"{"parts": null}"#).unwrap().is_empty());
        for bad in [
            &br#"{"parts": [{"number": 1, "etag": "a"}, {"number": 1, "etag": "b"}]}"#[..],
            br#"{"parts": [{"number": 0, "etag": "a"}]}"#,
            br#"{"parts": [{"number": 1, "etag": ""}]}"#,
            br#"{"parts": [{"number": 1}]}"#,
            br#"{"parts": 7}"#,
            br#"{"parts": [], "other": 1}"#,
        ] {
            assert!(
                completed_parts(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
