//! Requests named by an `Idempotency-Key`, done at most once per key (see docs/consistency.md):
//! - the key is claimed with one conditional write, with the id the request will make, so of
//!   repeats racing only one runs; the others find it running (`InProgress`) or done;
//! - a done request's repeat is answered with what it made, as it was then;
//! - a request that fails frees its key, so a repeat runs again;
//! - a request that dies holding its key (a crash, a timeout) holds it until its lease ends;
//!   a repeat then takes the key over and makes the same id, finding it made if it was.

use std::time::Duration;

use bytes::Bytes;

use super::catalog::{ClaimState, Hold};
use super::{ImageStore, StorageError, Stored, Ticket};
use crate::domain::{IdempotentRequest, ImageId, ImageRecord, NewUpload, Timestamp};

/// How long a running request holds its key. What runs under it starts after the body is
/// read and is bounded by the SDK's timeouts (a few calls of at most 3 s each), so a request
/// alive after this is not going to finish.
const LEASE: Duration = Duration::from_secs(30);

/// How long a key is remembered: a repeat after this runs as a new request.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum OnceError {
    #[error("the key was used with a different request")]
    Reused,
    #[error("a request with this key is still running")]
    InProgress,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a claimed key lets a request do.
enum Start {
    /// Make `ImageId`: the request holds the key, as `Holder`.
    Run(ImageId, Holder),
    /// Answer with what an earlier request with the key made.
    Made(Stored),
}

/// The token a request holds its key by, so that only it ends its claim.
struct Holder(String);

fn ms(duration: Duration) -> i64 {
    duration.as_millis() as i64
}

impl ImageStore {
    /// `create` at most once per key: a repeat is answered with the record the first made.
    pub async fn create_once(
        &self,
        request: IdempotentRequest,
        mut record: ImageRecord,
        bytes: Bytes,
    ) -> Result<ImageRecord, OnceError> {
        let store = self.clone();
        self.run_to_end("upload", record.id, async move {
            match store.start(&request, record.id, KEY_LIFETIME).await? {
                Start::Made(Stored::Image(made)) => Ok(made),
                Start::Made(Stored::Pending(_)) => Err(mixed_up()),
                Start::Run(id, holder) => {
                    record.id = id;
                    let created = store.create_now(&record, bytes).await.map(|()| record);
                    let made = |record: &ImageRecord| Stored::Image(record.clone());
                    store.end(&request, &holder, created, made).await
                }
            }
        })
        .await
    }

    /// `begin_upload` at most once per key, which lasts as long as the upload it plans: a
    /// repeat is answered with the same upload, its requests presigned again for the time it
    /// has left.
    pub async fn begin_upload_once(
        &self,
        request: IdempotentRequest,
        new: NewUpload,
        part_bytes: u64,
        ttl: Duration,
    ) -> Result<Ticket, OnceError> {
        let store = self.clone();
        let fresh = ImageId::new();
        self.run_to_end("upload plan", fresh, async move {
            match store.start(&request, fresh, ttl.min(KEY_LIFETIME)).await? {
                Start::Made(Stored::Pending(upload)) => {
                    let left = upload.expires_at.unix_ms() - Timestamp::now().unix_ms();
                    let left = Duration::from_millis(left.max(1000) as u64);
                    let parts = store.presign(&upload, left).await?;
                    Ok(Ticket { upload, parts })
                }
                Start::Made(Stored::Image(_)) => Err(mixed_up()),
                Start::Run(id, holder) => {
                    let owner = request.owner.clone();
                    let planned = store.begin_upload_as(id, owner, new, part_bytes, ttl).await;
                    let made = |ticket: &Ticket| Stored::Pending(ticket.upload.clone());
                    store.end(&request, &holder, planned, made).await
                }
            }
        })
        .await
    }

    async fn start(
        &self,
        request: &IdempotentRequest,
        fresh: ImageId,
        lifetime: Duration,
    ) -> Result<Start, OnceError> {
        let now = Timestamp::now().unix_ms();
        let holder = Holder(uuid::Uuid::new_v4().to_string());
        let hold = Hold {
            holder: &holder.0,
            now,
            lease_until: now + ms(LEASE),
            expires: now + ms(lifetime),
        };
        let claim = self.catalog.claim(request, fresh, &hold).await?;
        let Some(claim) = claim else {
            return Ok(Start::Run(fresh, holder));
        };
        if claim.fingerprint != request.fingerprint {
            return Err(OnceError::Reused);
        }
        match claim.state {
            ClaimState::Done(made) => Ok(Start::Made(made)),
            ClaimState::Running { lease_until: held } if held > now => Err(OnceError::InProgress),
            ClaimState::Running { lease_until: held } => {
                let taken = self
                    .catalog
                    .take_over(request, &holder.0, held, hold.lease_until)
                    .await?;
                if !taken {
                    return Err(OnceError::InProgress);
                }
                tracing::warn!(id = %claim.resource, "taking over an idempotency key whose request died");
                // What the dead request may have made is under the id it claimed.
                match self.catalog.get_stored(claim.resource).await? {
                    Some(made) => {
                        self.finish(request, &holder, made.clone()).await;
                        Ok(Start::Made(made))
                    }
                    None => Ok(Start::Run(claim.resource, holder)),
                }
            }
        }
    }

    /// Ends a claimed request: records what it `made` for its repeats, or frees its key when
    /// it failed.
    async fn end<T>(
        &self,
        request: &IdempotentRequest,
        holder: &Holder,
        outcome: Result<T, StorageError>,
        made: impl FnOnce(&T) -> Stored,
    ) -> Result<T, OnceError> {
        match outcome {
            Ok(value) => {
                self.finish(request, holder, made(&value)).await;
                Ok(value)
            }
            Err(error) => {
                self.release(request, holder).await;
                Err(error.into())
            }
        }
    }

    /// A key whose answer cannot be recorded stays claimed until its lease ends; the repeat
    /// that takes it over then finds what was made.
    async fn finish(&self, request: &IdempotentRequest, holder: &Holder, made: Stored) {
        if let Err(error) = self.catalog.finish_claim(request, &holder.0, &made).await {
            tracing::warn!(%error, "could not record an idempotent request's answer; its key is held until its lease ends");
        }
    }

    /// A key that cannot be freed stays claimed until its lease ends.
    async fn release(&self, request: &IdempotentRequest, holder: &Holder) {
        if let Err(error) = self.catalog.release_claim(request, &holder.0).await {
            tracing::warn!(%error, "could not free the key of a failed request; it is held until its lease ends");
        }
    }
}

/// Fingerprints include the route, so a key's record of one route is never found by another.
fn mixed_up() -> OnceError {
    OnceError::Storage(StorageError::internal(
        "an idempotency key holds what another route makes",
    ))
}
