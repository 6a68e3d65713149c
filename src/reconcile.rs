//! `image-api reconcile`: finds objects without a record (orphans, left when an upload's
//! rollback could not complete or a delete stopped half-way) and records without an object
//! (ghosts, which the write order never creates but a hand edit can), and with `--repair`
//! removes those older than a grace period, so it never races an upload or delete in flight.
//! Runs with an operator's credentials: it needs s3:ListBucket and dynamodb:Scan, which the
//! function's own role does not have.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;

use crate::domain::{ImageId, Timestamp};
use crate::storage::{StorageError, schema};

const PREFIX: &str = "images/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: ImageId,
    /// When the object was last written, or the record created.
    pub since: OffsetDateTime,
    /// Old enough to repair, and repaired if `--repair` was given.
    pub repaired: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub objects: usize,
    pub records: usize,
    pub orphan_objects: Vec<Finding>,
    pub ghost_records: Vec<Finding>,
    /// Keys under `images/` that are not an image id: reported, never touched.
    pub foreign_keys: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub grace: Duration,
    pub repair: bool,
}

pub const USAGE: &str =
    "usage: image-api reconcile [--repair] [--grace-seconds N]  (default grace: 3600)";

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self {
            grace: Duration::from_secs(3600),
            repair: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--repair" => options.repair = true,
                "--grace-seconds" => {
                    let value = args
                        .next()
                        .ok_or("--grace-seconds needs a number of seconds")?;
                    let secs = value.parse().map_err(|_| {
                        format!("--grace-seconds: not a number of seconds: {value:?}")
                    })?;
                    options.grace = Duration::from_secs(secs);
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

pub async fn run(
    s3: &aws_sdk_s3::Client,
    dynamodb: &aws_sdk_dynamodb::Client,
    bucket: &str,
    table: &str,
    options: &Options,
) -> Result<Report, StorageError> {
    let mut report = Report::default();
    let objects = list_objects(s3, bucket, &mut report).await?;
    let records = scan_records(dynamodb, table).await?;
    report.objects = objects.len();
    report.records = records.len();
    let cutoff = OffsetDateTime::now_utc() - options.grace;

    for (id, since) in &objects {
        if !records.contains_key(id) {
            let repaired = options.repair && *since <= cutoff;
            if repaired {
                s3.delete_object()
                    .bucket(bucket)
                    .key(id.object_key())
                    .send()
                    .await?;
            }
            report.orphan_objects.push(Finding {
                id: *id,
                since: *since,
                repaired,
            });
        }
    }
    for (id, since) in &records {
        if !objects.contains_key(id) {
            let repaired = options.repair && *since <= cutoff;
            if repaired {
                // Only if it is still a ghost: an object may have appeared since the listing.
                let object = s3
                    .head_object()
                    .bucket(bucket)
                    .key(id.object_key())
                    .send()
                    .await;
                let still_missing = matches!(&object, Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()));
                if !still_missing {
                    object?;
                    continue;
                }
                dynamodb
                    .delete_item()
                    .table_name(table)
                    .key(schema::ID, AttributeValue::S(id.to_string()))
                    .send()
                    .await?;
            }
            report.ghost_records.push(Finding {
                id: *id,
                since: *since,
                repaired,
            });
        }
    }
    Ok(report)
}

async fn list_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    report: &mut Report,
) -> Result<BTreeMap<ImageId, OffsetDateTime>, StorageError> {
    let mut objects = BTreeMap::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(PREFIX)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for object in page?.contents() {
            let key = object.key().unwrap_or_default();
            match key.strip_prefix(PREFIX).map(str::parse::<ImageId>) {
                Some(Ok(id)) => {
                    let modified = object
                        .last_modified()
                        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
                        .unwrap_or_else(OffsetDateTime::now_utc);
                    objects.insert(id, modified);
                }
                _ => report.foreign_keys.push(key.to_owned()),
            }
        }
    }
    Ok(objects)
}

async fn scan_records(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<BTreeMap<ImageId, OffsetDateTime>, StorageError> {
    let mut records = BTreeMap::new();
    let mut pages = dynamodb
        .scan()
        .table_name(table)
        .projection_expression("#id, #created")
        .expression_attribute_names("#id", schema::ID)
        .expression_attribute_names("#created", schema::CREATED_AT)
        .consistent_read(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for item in page?.items() {
            let id = item
                .get(schema::ID)
                .and_then(|v| v.as_s().ok())
                .and_then(|s| s.parse::<ImageId>().ok());
            let created = item
                .get(schema::CREATED_AT)
                .and_then(|v| v.as_s().ok())
                .and_then(|s| Timestamp::parse_stored(s))
                .map(Timestamp::as_offset);
            match (id, created) {
                (Some(id), Some(created)) => {
                    records.insert(id, created);
                }
                _ => {
                    return Err(StorageError::internal(
                        "a stored record has a malformed id or created_at",
                    ));
                }
            }
        }
    }
    Ok(records)
}

impl Report {
    /// One line per finding, then a summary; what an operator reads in a terminal or a log.
    pub fn render(&self, options: &Options) -> String {
        let mut out = String::new();
        for (kind, findings) in [
            ("orphan object", &self.orphan_objects),
            ("ghost record", &self.ghost_records),
        ] {
            for finding in findings {
                let action = match (finding.repaired, options.repair) {
                    (true, _) => "removed",
                    (false, true) => "kept: younger than the grace period",
                    (false, false) => "found",
                };
                out.push_str(&format!(
                    "{kind} {} (since {}): {action}\n",
                    finding.id, finding.since
                ));
            }
        }
        for key in &self.foreign_keys {
            out.push_str(&format!("foreign key {key}: not an image id, left alone\n"));
        }
        out.push_str(&format!(
            "{} objects, {} records, {} orphan objects, {} ghost records, {} repaired\n",
            self.objects,
            self.records,
            self.orphan_objects.len(),
            self.ghost_records.len(),
            self.orphan_objects
                .iter()
                .chain(&self.ghost_records)
                .filter(|f| f.repaired)
                .count(),
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_its_flags() {
        assert_eq!(
            Options::parse(&args(&[])).unwrap(),
            Options {
                grace: Duration::from_secs(3600),
                repair: false
            }
        );
        assert_eq!(
            Options::parse(&args(&["--grace-seconds", "0", "--repair"])).unwrap(),
            Options {
                grace: Duration::ZERO,
                repair: true
            }
        );
        assert!(Options::parse(&args(&["--grace-seconds"])).is_err());
        assert!(Options::parse(&args(&["--grace-seconds", "soon"])).is_err());
        assert!(Options::parse(&args(&["--force"])).is_err());
    }
}
