#![no_main]
//! Any `Authorization` value, and any token in it, is either an owner, for a token signed by
//! the pool's key with every claim right, or refused; any key set document is read or
//! refused. Never a panic.

use image_api::auth::token::{Expected, Keys, from_authorization, verify};
use libfuzzer_sys::fuzz_target;

/// moto's public key, the one its (and the seeds') tokens are signed with.
const JWKS: &[u8] = include_bytes!("../jwks/moto-public.json");

fuzz_target!(|data: &[u8]| {
    let _ = Keys::from_jwks(data);
    let Ok(token) = std::str::from_utf8(data) else { return };
    let keys = Keys::from_jwks(JWKS).expect("moto's key set");
    let expected = Expected {
        issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_fuzz".into(),
        client_ids: vec!["fuzzclient".into()],
    };
    let now = 1_800_000_000;
    let bearer = from_authorization(token);
    if let Some(inner) = bearer {
        assert!(!inner.is_empty() && token.len() > inner.len());
    }
    for candidate in [Some(token), bearer].into_iter().flatten() {
        if let Ok(owner) = verify(candidate, &keys, &expected, now) {
            assert!(!owner.as_str().is_empty());
        }
    }
});
