//! Who is calling: every request acts for one owner. Without sign-in that is the owner the
//! deployment is configured with; with Cognito it is the `sub` of the caller's verified access
//! token, checked here by the function itself (neither `make run` nor `sam local` has an API
//! Gateway authorizer in front of it).

mod jwks;
pub mod token;

use axum::http::{HeaderMap, header};

use crate::config::Config;
use crate::domain::Owner;
use crate::storage::BoxError;
use jwks::KeySet;
use token::{Expected, Refusal};

/// How callers are told apart.
pub enum Auth {
    /// Everyone is `Owner` (API Gateway's IAM or API key, if any, decides who gets in).
    Open(Owner),
    /// Each caller is the `sub` of their Cognito access token.
    Cognito {
        keys: Box<KeySet>,
        expected: Expected,
    },
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
    KeysUnavailable(#[source] BoxError),
}

impl Auth {
    pub fn from_config(config: &Config) -> Result<Self, BoxError> {
        let Some(cognito) = &config.cognito else {
            return Ok(Self::Open(config.owner.clone()));
        };
        if cognito.endpoint_overridden {
            tracing::warn!(
                jwks_url = %cognito.jwks_url,
                "COGNITO_ENDPOINT is set: access tokens are checked against the keys served \
                 there, not Cognito's; set it only for an emulator"
            );
        }
        Ok(Self::Cognito {
            keys: Box::new(KeySet::new(cognito.jwks_url.clone())?),
            expected: Expected {
                issuer: cognito.issuer.clone(),
                client_ids: cognito.client_ids.clone(),
            },
        })
    }

    pub async fn owner(&self, headers: &HeaderMap) -> Result<Owner, AuthError> {
        let (keys, expected) = match self {
            Self::Open(owner) => return Ok(owner.clone()),
            Self::Cognito { keys, expected } => (keys, expected),
        };
        let token = bearer(headers)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        // Checked once with the keys held; fetched only for a well-formed token that names a
        // key they lack (the first request, or a rotation).
        match token::verify(token, &keys.current(), expected, now) {
            Err(Refusal::UnknownKey(kid)) => {
                let keys = keys.with(&kid).await.map_err(AuthError::KeysUnavailable)?;
                token::verify(token, &keys, expected, now).map_err(refused)
            }
            checked => checked.map_err(refused),
        }
    }
}

fn refused(refusal: Refusal) -> AuthError {
    match refusal {
        Refusal::UnknownKey(_) => {
            AuthError::Invalid("it is signed with a key the user pool does not have")
        }
        Refusal::Invalid(why) => AuthError::Invalid(why),
    }
}

/// The token of the one `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(AuthError::Missing);
    };
    let value = value.to_str().map_err(|_| AuthError::Missing)?;
    token::from_authorization(value).ok_or(AuthError::Missing)
}
