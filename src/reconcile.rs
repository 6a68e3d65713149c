//! `image-api reconcile`: finds objects without a record (orphans, left when an upload's
//! rollback could not complete or a delete stopped half-way) and records without an object
//! (ghosts, which the write order never creates but a hand edit can), and with `--repair`
//! removes those older than a grace period, so it never races an upload or delete in flight.
//! Runs with an operator's credentials: it needs s3:ListBucket and dynamodb:Scan, which the
//! function's own role does not have. It uses the storage layer's own operations and record
//! decoding, so it reads keys and records exactly as the service writes them.

use std::collections::BTreeMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::domain::{ImageId, Timestamp};
use crate::storage::{ImageStore, StorageError, Stored};

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
    /// Thumbnails whose image has no record (made while it was being deleted, say).
    pub orphan_thumbnails: Vec<String>,
    /// Direct uploads not completed and not yet expired: left alone.
    pub pending_uploads: usize,
    /// Direct uploads past their expiry: their object (if any) and their multipart upload
    /// are removed with the pending record.
    pub expired_uploads: Vec<Finding>,
    /// Deletes that stopped after marking their record (finished with `--repair`).
    pub unfinished_deletes: Vec<ImageId>,
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

pub async fn run(store: &ImageStore, options: &Options) -> Result<Report, StorageError> {
    let (objects, catalog) = (store.objects(), store.catalog());
    let listing = objects.list().await?;
    let mut records = BTreeMap::new();
    let mut pending = BTreeMap::new();
    let contents = catalog.scan().await?;
    for stored in contents.stored {
        match stored {
            Stored::Image(record) => {
                records.insert(record.id, (record.created_at.as_offset(), record.owner));
            }
            Stored::Pending(upload) => {
                pending.insert(upload.id, upload);
            }
        }
    }
    let found: BTreeMap<ImageId, OffsetDateTime> = listing.objects.into_iter().collect();
    let mut report = Report {
        objects: found.len(),
        records: records.len(),
        foreign_keys: listing.foreign_keys,
        ..Report::default()
    };
    let now = Timestamp::now();
    let cutoff = OffsetDateTime::now_utc() - options.grace;

    // A delete that stopped after marking its record: its owner asked for it, so it is
    // finished whatever its age, and what it leaves is not counted as orphans.
    for &id in &contents.deleting {
        if options.repair {
            store.finish_delete(id).await?;
        }
        report.unfinished_deletes.push(id);
    }
    let deleting = contents.deleting;

    // An upload in progress owns its object until it expires; an expired one is abandoned.
    for upload in pending.values() {
        if !upload.is_expired(now) {
            report.pending_uploads += 1;
            continue;
        }
        let since = upload.expires_at.as_offset();
        let repaired = options.repair && since <= cutoff;
        if repaired && catalog.remove_pending(upload.id).await? {
            if let Some(multipart_id) = &upload.multipart_id {
                objects.abort_multipart(upload.id, multipart_id).await?;
            }
            objects.delete(upload.id).await?;
        }
        report.expired_uploads.push(Finding {
            id: upload.id,
            since,
            repaired,
        });
    }

    for (id, key, since) in objects.list_thumbnails().await? {
        if !records.contains_key(&id) && !deleting.contains(&id) {
            if options.repair && since <= cutoff {
                objects.delete_key(&key).await?;
            }
            report.orphan_thumbnails.push(key);
        }
    }

    for (&id, &since) in &found {
        if !records.contains_key(&id) && !pending.contains_key(&id) && !deleting.contains(&id) {
            let repaired = options.repair && since <= cutoff;
            if repaired {
                objects.delete(id).await?;
            }
            report.orphan_objects.push(Finding {
                id,
                since,
                repaired,
            });
        }
    }
    for (&id, (since, owner)) in &records {
        let since = *since;
        if !found.contains_key(&id) {
            let repaired = options.repair && since <= cutoff;
            if repaired {
                // Only if it is still a ghost: an object may have appeared since the listing.
                if objects.exists(id).await? {
                    continue;
                }
                catalog.remove_record(id, owner).await?;
            }
            report.ghost_records.push(Finding {
                id,
                since,
                repaired,
            });
        }
    }
    Ok(report)
}

impl Report {
    /// One line per finding, then a summary; what an operator reads in a terminal or a log.
    pub fn render(&self, options: &Options) -> String {
        let mut out = String::new();
        for (kind, findings) in [
            ("orphan object", &self.orphan_objects),
            ("ghost record", &self.ghost_records),
            ("expired upload", &self.expired_uploads),
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
        for key in &self.orphan_thumbnails {
            let action = if options.repair {
                "removed unless younger than the grace period"
            } else {
                "found"
            };
            out.push_str(&format!("orphan thumbnail {key}: {action}\n"));
        }
        for id in &self.unfinished_deletes {
            let action = if options.repair { "finished" } else { "found" };
            out.push_str(&format!("unfinished delete {id}: {action}\n"));
        }
        for key in &self.foreign_keys {
            out.push_str(&format!("foreign key {key}: not an image id, left alone\n"));
        }
        out.push_str(&format!(
            "{} objects, {} records, {} orphan objects, {} ghost records, {} uploads in progress, \
             {} expired uploads, {} unfinished deletes, {} repaired\n",
            self.objects,
            self.records,
            self.orphan_objects.len(),
            self.ghost_records.len(),
            self.pending_uploads,
            self.expired_uploads.len(),
            self.unfinished_deletes.len(),
            self.orphan_objects
                .iter()
                .chain(&self.ghost_records)
                .chain(&self.expired_uploads)
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
