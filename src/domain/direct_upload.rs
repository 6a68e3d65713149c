//! Uploads that go straight to S3: what a client asks for (`NewUpload`), how its bytes are
//! cut into parts (`PartPlan`), the pending upload the service remembers, and the parts a
//! client reports when it completes.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::json::{self, WholeNumber, required};
use super::metadata::metadata_schema;
use super::{FileName, ImageId, InputError, Metadata, Owner, Timestamp, text};

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

/// The body of `POST /uploads`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"file_name": "IMG_0042.jpg", "size": 20971520, "metadata": {"camera": "x100"}}))]
pub struct CreateUpload {
    #[schema(value_type = FileName, inline, required = true)]
    file_name: Option<FileName>,
    /// The exact number of bytes that will be sent; at most `MAX_DIRECT_UPLOAD_BYTES` (else
    /// `413`), a setting whose value this document's `maximum` states.
    #[schema(value_type = u64, required = true, minimum = 1)]
    size: Option<WholeNumber>,
    #[schema(schema_with = metadata_schema)]
    metadata: Option<Metadata>,
}

impl NewUpload {
    /// `{"file_name": "...", "size": <bytes>, "metadata": {...}}`, with the same rules for the
    /// name and metadata as a JSON upload.
    pub fn from_json(body: &[u8], max_bytes: u64) -> Result<Self, InputError> {
        let request: CreateUpload = json::read(body)?;
        let file_name = required(request.file_name, "file_name")?;
        let WholeNumber(size) = required(request.size, "size")?;
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
            metadata: request.metadata.unwrap_or_default(),
        })
    }
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
    /// Who planned it: the only one who may complete or abort it, and the image's owner.
    pub owner: Owner,
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

/// A part of a completed upload, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
}

/// The body of `POST /uploads/{id}/complete`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteUpload {
    /// Every part with the `ETag` S3 answered for it; may be left out for a one-part upload.
    parts: Option<Vec<PartRequest>>,
}

/// A part as the client reports it after sending it: its number and the `ETag` S3 answered.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompletedPart)]
struct PartRequest {
    #[schema(value_type = u32, required = true, minimum = 1, maximum = 10000)]
    number: Option<WholeNumber>,
    #[schema(schema_with = etag_schema, required = true)]
    etag: Option<String>,
}

const MAX_ETAG_BYTES: usize = 1024;

fn etag_schema() -> utoipa::openapi::schema::Object {
    text::schema(1, Some(MAX_ETAG_BYTES))
        .description(Some("As S3 answered it, quotes included."))
        .build()
}

/// The body of `POST /uploads/{id}/complete`: `{"parts": [{"number", "etag"}]}`, ignored
/// (and may be empty or absent) for a single-part upload. Sorted by number.
pub fn completed_parts(body: &[u8]) -> Result<Vec<CompletedPart>, InputError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let request: CompleteUpload = json::read(body)?;
    let mut seen = BTreeSet::new();
    let mut completed = Vec::new();
    for part in request.parts.unwrap_or_default() {
        let WholeNumber(number) = required(part.number, "parts[].number")?;
        let number = u32::try_from(number)
            .ok()
            .filter(|n| (1..=MAX_PARTS as u32).contains(n))
            .ok_or_else(|| {
                InputError::InvalidField(format!("part numbers run from 1 to {MAX_PARTS}"))
            })?;
        if !seen.insert(number) {
            return Err(InputError::InvalidField(format!(
                "part numbers must be distinct; {number} is given twice"
            )));
        }
        let etag = required(part.etag, "parts[].etag")?;
        if etag.is_empty() || etag.len() > MAX_ETAG_BYTES || text::has_control(&etag) {
            return Err(InputError::InvalidField(format!(
                "part {number}: `etag` must be the ETag S3 answered for it"
            )));
        }
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
