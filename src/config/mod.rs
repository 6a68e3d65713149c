//! Settings read once at start-up. Anything missing or malformed stops the process with a
//! one-line message instead of surfacing later as a confusing request failure.

use std::net::SocketAddr;

use imaging::budget::Budget;

use crate::domain::Owner;

/// The largest image whose base64 JSON body still fits Lambda's synchronous payload limit.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:3000";
/// Direct uploads (presigned, straight to S3): the largest, the preferred part size, and how
/// long a planned upload and its URLs stay valid.
/// Images whose header declares more pixels are refused before anything decodes them.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
/// The memory the template gives the function, in MiB: the decode budget is half of it
/// unless Lambda says otherwise (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`) or `DECODE_MEMORY_BYTES`
/// sets it.
pub const DEFAULT_FUNCTION_MEMORY_MIB: u64 = 256;
pub const DEFAULT_MAX_DIRECT_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;
pub const DEFAULT_UPLOAD_PART_BYTES: u64 = 8 * 1024 * 1024;
pub const DEFAULT_UPLOAD_TTL_SECS: u64 = 3600;
/// S3's largest object through one multipart upload is 5 TiB, but the service caps direct
/// uploads at 5 GiB: enough for any photo, and one presigned `GetObject` still serves it.
pub const MAX_DIRECT_UPLOAD_LIMIT: u64 = 5 * 1024 * 1024 * 1024;
/// A presigned URL lives at most a week.
const MAX_UPLOAD_TTL_SECS: u64 = 7 * 24 * 3600;
/// Open connections the HTTP server holds at most: below the most common open-file limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
pub const DEFAULT_CLIENT_TIMEOUT_SECS: u64 = 30;
/// Whose the images are when nobody signs in, and whose the records written before owners are.
pub const DEFAULT_OWNER: &str = "default";
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
    pub max_pixels: u64,
    /// What one thumbnail's decode may hold in memory and how many pixels it may decode.
    pub decode_budget: Budget,
    pub max_direct_upload_bytes: u64,
    pub upload_part_bytes: u64,
    pub upload_ttl: std::time::Duration,
    /// HTTP server only: the bound on open connections; at the bound, new ones wait to be
    /// accepted while those already open are served.
    pub max_connections: usize,
    /// HTTP server only: a client that takes longer to send its headers, or pauses its body
    /// longer, is dropped.
    pub client_timeout: std::time::Duration,
    /// Browser origins allowed to call the API (CORS); empty means CORS is off.
    pub cors_allowed_origins: Vec<String>,
    /// Without sign-in, the owner of every image; with it, the owner of the records written
    /// before owners existed (`IMAGE_OWNER`).
    pub owner: Owner,
    /// Sign-in with a Cognito user pool: each request's owner is its access token's `sub`.
    pub cognito: Option<CognitoConfig>,
}

/// The user pool whose access tokens the function accepts, and where its keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoConfig {
    pub user_pool_id: String,
    /// The app clients whose tokens are accepted (a token's `client_id`).
    pub client_ids: Vec<String>,
    /// `https://cognito-idp.{region}.amazonaws.com/{pool}`: every token's `iss`, on AWS and on
    /// emulators alike.
    pub issuer: String,
    /// `{endpoint}/{pool}/.well-known/jwks.json`.
    pub jwks_url: String,
    /// Cognito's API, where the keys are and the page signs people in: the pool region's
    /// `https://cognito-idp.{region}.amazonaws.com` unless `COGNITO_ENDPOINT` names an emulator.
    pub endpoint: String,
    /// `COGNITO_ENDPOINT` was set: whoever set it chose which keys sign valid tokens, so the
    /// start logs a warning.
    pub endpoint_overridden: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// Under `sam local` without an emulator, the function would use whatever AWS credentials
    /// the developer has and write into real AWS.
    #[error(
        "running under sam local (AWS_SAM_LOCAL=true) without LOCALSTACK_ENDPOINT: set it to the \
         emulator (make start-api does), so that a local run never reaches real AWS"
    )]
    LocalRunWithoutEmulator,
}

impl Config {
    /// The decode budget of a function with the template's memory and the default pixel limit.
    pub fn default_decode_budget() -> Budget {
        Budget::for_memory_mib(DEFAULT_FUNCTION_MEMORY_MIB, DEFAULT_MAX_PIXELS)
    }

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
        if endpoint.is_none() && get("AWS_SAM_LOCAL").is_some_and(|v| v == "true") {
            return Err(ConfigError::LocalRunWithoutEmulator);
        }
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

        let positive = |name: &'static str, default: usize, unit: &str| match get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("expected a positive number of {unit}, got {raw:?}"),
                }),
            },
        };
        let max_upload_bytes = positive("MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES, "bytes")?;
        let bounded = |name: &'static str, default: u64, min: u64, max: u64, unit: &str| {
            let value = positive(name, default as usize, unit)? as u64;
            if (min..=max).contains(&value) {
                Ok(value)
            } else {
                Err(ConfigError::Invalid {
                    name,
                    reason: format!("expected {min} to {max} {unit}, got {value}"),
                })
            }
        };
        let max_pixels = positive("MAX_PIXELS", DEFAULT_MAX_PIXELS as usize, "pixels")? as u64;
        let function_mib = positive(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            DEFAULT_FUNCTION_MEMORY_MIB as usize,
            "MiB",
        )? as u64;
        let mut decode_budget = Budget::for_memory_mib(function_mib, max_pixels);
        if get("DECODE_MEMORY_BYTES").is_some() {
            decode_budget.memory = bounded("DECODE_MEMORY_BYTES", 0, 1 << 20, 1 << 40, "bytes")?;
        }
        let max_direct_upload_bytes = bounded(
            "MAX_DIRECT_UPLOAD_BYTES",
            DEFAULT_MAX_DIRECT_UPLOAD_BYTES,
            1,
            MAX_DIRECT_UPLOAD_LIMIT,
            "bytes",
        )?;
        let upload_part_bytes = bounded(
            "DIRECT_UPLOAD_PART_BYTES",
            DEFAULT_UPLOAD_PART_BYTES,
            crate::domain::MIN_PART_BYTES,
            crate::domain::MAX_SINGLE_PUT_BYTES,
            "bytes",
        )?;
        let upload_ttl = std::time::Duration::from_secs(bounded(
            "DIRECT_UPLOAD_TTL_SECS",
            DEFAULT_UPLOAD_TTL_SECS,
            60,
            MAX_UPLOAD_TTL_SECS,
            "seconds",
        )?);
        let max_connections = positive("MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, "connections")?;
        let client_timeout = std::time::Duration::from_secs(positive(
            "CLIENT_TIMEOUT_SECS",
            DEFAULT_CLIENT_TIMEOUT_SECS as usize,
            "seconds",
        )? as u64);
        let bind_raw = get("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.to_owned());
        let bind_addr = bind_raw.trim().parse().map_err(|_| ConfigError::Invalid {
            name: "BIND_ADDR",
            reason: format!("expected host:port such as 127.0.0.1:3000, got {bind_raw:?}"),
        })?;

        let cors_allowed_origins = match get("CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(parse_origin)
                .collect::<Result<_, _>>()?,
        };

        let owner_raw = get("IMAGE_OWNER").unwrap_or_else(|| DEFAULT_OWNER.to_owned());
        let owner = Owner::parse(owner_raw.trim()).map_err(|error| ConfigError::Invalid {
            name: "IMAGE_OWNER",
            reason: error.to_string(),
        })?;

        let cognito = cognito(&get)?;

        Ok(Self {
            bucket_name,
            table_name,
            endpoint,
            region,
            use_test_credentials,
            max_upload_bytes,
            bind_addr,
            max_pixels,
            decode_budget,
            max_direct_upload_bytes,
            upload_part_bytes,
            upload_ttl,
            max_connections,
            client_timeout,
            cors_allowed_origins,
            owner,
            cognito,
        })
    }
}

/// `COGNITO_USER_POOL_ID` and `COGNITO_CLIENT_IDS` turn sign-in on, together or not at all.
fn cognito(get: &impl Fn(&str) -> Option<String>) -> Result<Option<CognitoConfig>, ConfigError> {
    let (pool, clients) = match (get("COGNITO_USER_POOL_ID"), get("COGNITO_CLIENT_IDS")) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(ConfigError::Missing("COGNITO_CLIENT_IDS")),
        (None, Some(_)) => return Err(ConfigError::Missing("COGNITO_USER_POOL_ID")),
        (Some(pool), Some(clients)) => (pool.trim().to_owned(), clients),
    };
    // `{region}_{id}`, as Cognito names pools; the region is the issuer's.
    let region = pool
        .split_once('_')
        .filter(|(region, id)| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !id.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(|(region, _)| region.to_owned())
        .ok_or_else(|| ConfigError::Invalid {
            name: "COGNITO_USER_POOL_ID",
            reason: format!("expected a user pool id such as eu-west-1_AbC123xyz, got {pool:?}"),
        })?;
    let client_ids: Vec<String> = clients
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if client_ids.is_empty()
        || !client_ids
            .iter()
            .all(|id| id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(ConfigError::Invalid {
            name: "COGNITO_CLIENT_IDS",
            reason: format!("expected comma-separated app client ids, got {clients:?}"),
        });
    }
    // Never the S3 and DynamoDB emulator's address by default: the keys decide who anyone is.
    let overridden = get("COGNITO_ENDPOINT");
    let endpoint_overridden = overridden.is_some();
    let endpoint =
        overridden.unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
    // The page is given it in an attribute: nothing that could end one.
    let plain = endpoint
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '&'));
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) || !plain {
        return Err(ConfigError::Invalid {
            name: "COGNITO_ENDPOINT",
            reason: format!("expected an http:// or https:// URL, got {endpoint:?}"),
        });
    }
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    Ok(Some(CognitoConfig {
        issuer: format!("https://cognito-idp.{region}.amazonaws.com/{pool}"),
        jwks_url: format!("{endpoint}/{pool}/.well-known/jwks.json"),
        endpoint,
        endpoint_overridden,
        user_pool_id: pool,
        client_ids,
    }))
}

/// An origin is `scheme://host[:port]`, exactly as browsers send it: no path, no wildcard.
fn parse_origin(origin: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::Invalid {
        name: "CORS_ALLOWED_ORIGINS",
        reason: format!(
            "expected comma-separated origins such as https://app.example.com, got {origin:?}"
        ),
    };
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let valid_host = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if valid_host {
        Ok(origin.to_owned())
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests;
