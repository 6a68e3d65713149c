//! Settings read once at start-up. Anything missing or malformed stops the process with a
//! one-line message instead of surfacing later as a confusing request failure.

use std::net::SocketAddr;

/// 4 MiB: a base64 JSON body of this size (~5.6 MB) still fits Lambda's 6 MB payload limit.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:3000";
/// Region used against an emulator when none is configured; emulators accept any.
pub const EMULATOR_REGION: &str = "us-east-1";

/// Variables through which the SDK's default chain finds credentials without a network call.
const CREDENTIAL_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bucket_name: String,
    pub table_name: String,
    /// Emulator endpoint (LocalStack or moto); `None` means real AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Emulator only, and only when the environment names no credentials: fixed test
    /// credentials spare a local run the SDK's multi-second instance-metadata probe.
    pub use_test_credentials: bool,
    pub max_upload_bytes: usize,
    pub bind_addr: SocketAddr,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of mutating the
    /// process environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));

        let bucket_name = required("BUCKET_NAME")?;
        let table_name = required("TABLE_NAME")?;
        let endpoint = get("LOCALSTACK_ENDPOINT");
        if let Some(url) = &endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "LOCALSTACK_ENDPOINT",
                reason: format!("expected an http:// or https:// URL, got {url:?}"),
            });
        }
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .or_else(|| endpoint.as_ref().map(|_| EMULATOR_REGION.to_owned()));

        let use_test_credentials =
            endpoint.is_some() && CREDENTIAL_VARIABLES.iter().all(|name| get(name).is_none());

        let max_upload_bytes = match get("MAX_UPLOAD_BYTES") {
            None => DEFAULT_MAX_UPLOAD_BYTES,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "MAX_UPLOAD_BYTES",
                        reason: format!("expected a positive number of bytes, got {raw:?}"),
                    });
                }
            },
        };
        let bind_raw = get("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.to_owned());
        let bind_addr = bind_raw.trim().parse().map_err(|_| ConfigError::Invalid {
            name: "BIND_ADDR",
            reason: format!("expected host:port such as 127.0.0.1:3000, got {bind_raw:?}"),
        })?;

        Ok(Self {
            bucket_name,
            table_name,
            endpoint,
            region,
            use_test_credentials,
            max_upload_bytes,
            bind_addr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn names_the_missing_variable() {
        assert_eq!(
            load(&[("TABLE_NAME", "t")]),
            Err(ConfigError::Missing("BUCKET_NAME"))
        );
        assert_eq!(
            load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", " ")]),
            Err(ConfigError::Missing("TABLE_NAME"))
        );
    }

    #[test]
    fn applies_defaults_and_emulator_region() {
        let config = load(&[
            ("BUCKET_NAME", "b"),
            ("TABLE_NAME", "t"),
            ("LOCALSTACK_ENDPOINT", "http://localhost:4566"),
        ])
        .unwrap();
        assert_eq!(config.max_upload_bytes, DEFAULT_MAX_UPLOAD_BYTES);
        assert_eq!(config.bind_addr.to_string(), DEFAULT_BIND_ADDR);
        assert_eq!(config.region.as_deref(), Some(EMULATOR_REGION));
        assert!(config.use_test_credentials);

        let aws = load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", "t")]).unwrap();
        assert_eq!(
            aws.region, None,
            "real AWS leaves the region to the SDK chain"
        );
        assert!(!aws.use_test_credentials);

        let emulator_with_keys = load(&[
            ("BUCKET_NAME", "b"),
            ("TABLE_NAME", "t"),
            ("LOCALSTACK_ENDPOINT", "http://localhost:4566"),
            ("AWS_PROFILE", "dev"),
        ])
        .unwrap();
        assert!(!emulator_with_keys.use_test_credentials);
    }

    #[test]
    fn rejects_malformed_values() {
        for (name, value) in [
            ("MAX_UPLOAD_BYTES", "0"),
            ("MAX_UPLOAD_BYTES", "4MB"),
            ("BIND_ADDR", "localhost"),
            ("LOCALSTACK_ENDPOINT", "localhost:4566"),
        ] {
            let err =
                load(&[("BUCKET_NAME", "b"), ("TABLE_NAME", "t"), (name, value)]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { name: n, .. } if n == name),
                "{name}={value}: {err}"
            );
        }
    }
}
