//! The edge of "at most once per `Idempotency-Key`": the header read into a key (before the
//! body is), and the request it names. The rules live in `storage::once`; the key and the
//! fingerprint are domain types (`domain::idempotency`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::domain::{Fingerprint, IdempotencyKey, IdempotentRequest, InputError, Owner};
use crate::error::ApiError;
use crate::state::AppState;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Whose request this is and the key it names, if any: a route gets the request to do once
/// from it (`once`), or does its work plainly when there is no key. As a route's `params`, it
/// is the header's description in the API document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct Idempotency {
    #[param(ignore)]
    pub owner: Owner,
    /// 1 to 255 visible ASCII characters (else `400 invalid_idempotency_key`), bare or in
    /// double quotes; a fresh one (a UUID) per new request. The request is done at most once
    /// per key for 24 hours (for `POST /uploads`, as long as the upload it plans): a repeat of
    /// the same request is answered as the first was, with the same id; the same key with a
    /// different request gets `422 idempotency_key_reused`, and one that arrives while the
    /// first runs `409 request_in_progress`. A request that fails frees its key, so its repeat
    /// runs again.
    #[param(rename = "Idempotency-Key", inline, value_type = IdempotencyKey, required = false)]
    key: Option<IdempotencyKey>,
}

impl Idempotency {
    /// The request to do at most once, fingerprinted from `what` (the route's method, path and
    /// the parts of the request that make a repeat the same); `None` without a key, so the
    /// fingerprint is only computed when it is needed.
    pub fn once(&self, what: impl FnOnce() -> Fingerprint) -> Option<IdempotentRequest> {
        let key = self.key.clone()?;
        Some(IdempotentRequest {
            owner: self.owner.clone(),
            key,
            fingerprint: what(),
        })
    }
}

impl FromRequestParts<AppState> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let owner = Owner::from_request_parts(parts, state).await?;
        let mut values = parts.headers.get_all(IDEMPOTENCY_KEY).iter();
        let key = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => Some(IdempotencyKey::parse(value.as_bytes())?),
            // Given twice, it names no key clearly.
            (Some(_), Some(_)) => return Err(InputError::InvalidIdempotencyKey.into()),
        };
        Ok(Self { owner, key })
    }
}
