//! Where the API is and how requests to it authenticate: an API key, a bearer token (given, or
//! kept by `login`), SigV4 for `*.amazonaws.com` endpoints, or nothing.

use aws_config::BehaviorVersion;

use crate::client::{Auth, Failure};
use crate::login;

/// Where the API is and how to authenticate to it.
#[derive(clap::Args)]
pub struct Connection {
    /// The API's base URL: a stack's `ApiUrl` (`https://…/Prod`) or `make run`'s address.
    #[arg(long, env = "IMAGE_API_URL", default_value = "http://127.0.0.1:3000")]
    pub endpoint: String,
    /// An API key, for stacks deployed with `AuthMode=API_KEY`.
    #[arg(long, env = "IMAGE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// A Cognito access token, for stacks deployed with `AuthMode=COGNITO` (else `login` once).
    #[arg(long, env = "IMAGE_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Sign requests with SigV4 (the standard AWS credential chain), for `AuthMode=AWS_IAM`
    /// stacks. On by default for `*.amazonaws.com` endpoints when no API key is given.
    #[arg(long)]
    pub sigv4: bool,
    /// The region to sign for; by default the one in the endpoint, else the AWS config's.
    #[arg(long)]
    pub region: Option<String>,
}

/// How this connection's requests authenticate.
pub async fn auth(cli: &Connection, api: &str) -> Result<Auth, Failure> {
    if let Some(key) = &cli.api_key {
        return Ok(Auth::ApiKey(key.clone()));
    }
    if let Some(token) = &cli.token {
        return Ok(Auth::Bearer(token.clone()));
    }
    if let Some(token) = login::access_token(&reqwest::Client::new(), api).await? {
        return Ok(Auth::Bearer(token));
    }
    let host = reqwest::Url::parse(&cli.endpoint)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    if !cli.sigv4 && !host.ends_with(".amazonaws.com") {
        return Ok(Auth::None);
    }
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    // execute-api hosts name their region: {api}.execute-api.{region}.amazonaws.com.
    let from_host = host
        .split('.')
        .skip_while(|part| *part != "execute-api")
        .nth(1)
        .map(str::to_owned);
    let region = cli
        .region
        .clone()
        .or(from_host)
        .or_else(|| config.region().map(|r| r.to_string()))
        .ok_or_else(|| Failure::new("no region to sign for: pass --region"))?;
    let credentials = config.credentials_provider().ok_or_else(|| {
        Failure::new(
            "no AWS credentials found for SigV4: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile with keys (for SSO: `aws configure export-credentials --format env`)",
        )
    })?;
    Ok(Auth::SigV4 {
        credentials,
        region,
    })
}
