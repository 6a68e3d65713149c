//! The checks of one access token, with the keys at hand: no I/O, so that it can be fuzzed
//! and tested alone. `jsonwebtoken` checks the signature, `exp` and `iss`; the rest is here.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::domain::Owner;

/// Cognito's access tokens are about a kilobyte; anything far larger is not one, and is refused
/// before it is decoded.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// How far the clocks of Cognito and the function may disagree.
pub const CLOCK_SKEW_SECS: u64 = 60;

/// What a token must say to be accepted.
pub struct Expected {
    pub issuer: String,
    pub client_ids: Vec<String>,
}

/// The pool's public keys, by `kid`.
#[derive(Default)]
pub struct Keys(HashMap<String, DecodingKey>);

impl Keys {
    /// The RSA signing keys of a JWKS document; other keys are skipped.
    pub fn from_jwks(document: &[u8]) -> Result<Self, serde_json::Error> {
        let set: JwkSet = serde_json::from_slice(document)?;
        Ok(Self(
            set.keys
                .iter()
                .filter_map(|jwk| {
                    let kid = jwk.common.key_id.clone()?;
                    let key = DecodingKey::from_jwk(jwk).ok()?;
                    (key.family() == jsonwebtoken::AlgorithmFamily::Rsa).then_some((kid, key))
                })
                .collect(),
        ))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has(&self, kid: &str) -> bool {
        self.0.contains_key(kid)
    }
}

/// Why a token is refused, in words safe to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Signed with a key the pool's key set (as last fetched) does not hold.
    UnknownKey(String),
    Invalid(&'static str),
}

/// The claims read from an access token (the signature already checked).
#[derive(Deserialize)]
struct Claims {
    sub: String,
    token_use: Option<String>,
    client_id: Option<String>,
    iat: Option<u64>,
    /// Space-separated; Cognito gives `aws.cognito.signin.user.admin` to every token of a user
    /// who signed in with a password (and to its refreshes).
    scope: Option<String>,
}

/// The scope a token must carry: the one API Gateway's authorizer in front of the function
/// requires too (template.yaml).
pub const REQUIRED_SCOPE: &str = "aws.cognito.signin.user.admin";

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case).
pub fn from_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The key id of a token that claims RS256, read without trusting anything else in it.
fn key_id(token: &str) -> Result<String, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::Invalid("it is too long to be an access token"));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| Refusal::Invalid("it is not a JSON Web Token"))?;
    // Checked before any key is chosen: `none`, and HMAC keyed with the public key, never
    // reach a verifier.
    if header.alg != Algorithm::RS256 {
        return Err(Refusal::Invalid("it is not signed with RS256"));
    }
    header
        .kid
        .ok_or(Refusal::Invalid("it names no signing key (`kid`)"))
}

/// The owner a token names, if every check passes at `now` (epoch seconds).
pub fn verify(token: &str, keys: &Keys, expected: &Expected, now: u64) -> Result<Owner, Refusal> {
    let kid = key_id(token)?;
    let key = keys.0.get(&kid).ok_or(Refusal::UnknownKey(kid))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&expected.issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    // Access tokens carry `client_id`, not `aud`: checked below.
    validation.validate_aud = false;
    validation.leeway = CLOCK_SKEW_SECS;
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map_err(|error| {
            Refusal::Invalid(match error.kind() {
                ErrorKind::InvalidSignature => "its signature does not verify",
                ErrorKind::ExpiredSignature => "it has expired",
                ErrorKind::InvalidIssuer => "it was issued by another user pool",
                ErrorKind::MissingRequiredClaim(_) => "it lacks a required claim",
                _ => "it is malformed",
            })
        })?
        .claims;
    if claims.token_use.as_deref() != Some("access") {
        return Err(Refusal::Invalid("it is not an access token"));
    }
    match claims.client_id {
        Some(client) if expected.client_ids.contains(&client) => {}
        _ => return Err(Refusal::Invalid("it was issued to another app client")),
    }
    let scoped = claims
        .scope
        .as_deref()
        .is_some_and(|scope| scope.split(' ').any(|one| one == REQUIRED_SCOPE));
    if !scoped {
        return Err(Refusal::Invalid(
            "it lacks the scope aws.cognito.signin.user.admin",
        ));
    }
    match claims.iat {
        Some(iat) if iat <= now + CLOCK_SKEW_SECS => {}
        Some(_) => return Err(Refusal::Invalid("it was issued in the future")),
        None => return Err(Refusal::Invalid("it lacks a required claim")),
    }
    Owner::parse(&claims.sub).map_err(|_| Refusal::Invalid("its `sub` is not a user id"))
}
