//! Talking to the API: the endpoint, authentication (API key or SigV4), retries with backoff
//! on 5xx and connection errors (of a `POST`, only one a repeat cannot duplicate), and problem
//! documents turned into one-line failures.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use bytes::Bytes;
use reqwest::{Method, Response, StatusCode, Url};

use crate::records::Problem;
use crate::sigv4;

/// Attempts per request: the first and three retries, after 0.5, 1 and 2 s.
const ATTEMPTS: u32 = 4;

pub enum Auth {
    None,
    ApiKey(String),
    /// A Cognito access token (`AuthMode=COGNITO`).
    Bearer(String),
    /// Requests signed for API Gateway (`execute-api`) in `region`.
    SigV4 {
        credentials: SharedCredentialsProvider,
        region: String,
    },
}

pub struct Client {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
}

/// Why a request failed, as a user should read it.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub request_id: Option<String>,
    /// The server's answer, when there was one.
    pub status: Option<StatusCode>,
    /// A 5xx, a 429 or a connection error: worth another attempt.
    pub retryable: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            request_id: None,
            status: None,
            retryable: false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// A request body, kept whole so that a retry can send it again (and SigV4 can hash it).
pub struct Payload {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// Whether the `POST` that sends it may be sent again after a failure; `None`: once only.
    pub repeat: Option<Repeat>,
}

/// Why sending a `POST` twice is harmless. A `POST` without one is never retried: its answer
/// may have been lost after the server acted, and a repeat would act again.
pub enum Repeat {
    /// Named by an `Idempotency-Key` (sent as the header): the API does it once per key.
    Keyed(String),
    /// The route makes a repeat harmless by itself (completing an upload twice answers the
    /// same image).
    Harmless,
}

impl Repeat {
    /// A fresh key, for one new request and its retries.
    pub fn fresh_key() -> Self {
        Self::Keyed(uuid::Uuid::new_v4().to_string())
    }
}

impl Client {
    pub fn new(endpoint: &str, auth: Auth) -> Result<Self, Failure> {
        // A trailing slash, so that relative paths land under a stage (`.../Prod/images`).
        let mut base = Url::parse(endpoint)
            .map_err(|e| Failure::new(format!("the endpoint {endpoint:?} is not a URL: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("image-api-cli/", env!("CARGO_PKG_VERSION")))
            // Followed by hand (`attempt`): reqwest's own policy keeps `x-api-key` and the
            // SigV4 headers on a redirect to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Failure::new(format!("cannot start the HTTP client: {e}")))?;
        Ok(Self { http, base, auth })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `method` on `path` (relative: `images`, `images/{id}`), retried on 5xx, 429 and
    /// connection errors (a `POST` only when its payload says a repeat is harmless); a 4xx or
    /// the last failure becomes a `Failure` with the problem's `detail` and `request_id`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        payload: Option<&Payload>,
    ) -> Result<Response, Failure> {
        self.send_query(method, path, &[], payload).await
    }

    /// `send`, with `query` appended form-encoded.
    pub async fn send_query(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        payload: Option<&Payload>,
    ) -> Result<Response, Failure> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Failure::new(format!("bad path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let repeatable = method != Method::POST || payload.is_some_and(|p| p.repeat.is_some());
        if !repeatable {
            return self.attempt(method, url, payload).await;
        }
        retrying(|| self.attempt(method.clone(), url.clone(), payload)).await
    }

    async fn attempt(
        &self,
        method: Method,
        url: Url,
        payload: Option<&Payload>,
    ) -> Result<Response, Failure> {
        let mut request = self.http.request(method, url);
        if let Some(payload) = payload {
            request = request
                .header(reqwest::header::CONTENT_TYPE, payload.content_type)
                .body(payload.bytes.clone());
            if let Some(Repeat::Keyed(key)) = &payload.repeat {
                request = request.header("idempotency-key", key);
            }
        }
        let mut request = request
            .build()
            .map_err(|e| Failure::new(format!("cannot build the request: {e}")))?;
        match &self.auth {
            Auth::None => {}
            Auth::ApiKey(key) => {
                let value = key
                    .parse()
                    .map_err(|_| Failure::new("the API key is not a valid header value"))?;
                request.headers_mut().insert("x-api-key", value);
            }
            Auth::Bearer(token) => {
                let value = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| Failure::new("the access token is not a valid header value"))?;
                request
                    .headers_mut()
                    .insert(reqwest::header::AUTHORIZATION, value);
            }
            Auth::SigV4 {
                credentials,
                region,
            } => {
                let credentials = credentials.provide_credentials().await.map_err(|e| {
                    Failure::new(format!("no AWS credentials for SigV4 signing: {e}"))
                })?;
                let body = payload.map_or(&[][..], |p| &p.bytes[..]);
                sigv4::sign(
                    &mut request,
                    body,
                    &credentials,
                    region,
                    "execute-api",
                    SystemTime::now(),
                )
                .map_err(|e| Failure::new(e.to_string()))?;
            }
        }
        let unreachable = |e: reqwest::Error| Failure {
            message: format!("cannot reach {}: {}", self.base, chain(&e)),
            request_id: None,
            status: None,
            retryable: true,
        };
        let asked = request.url().clone();
        let mut response = self.http.execute(request).await.map_err(unreachable)?;
        if response.status().is_redirection()
            && let Some(location) = redirect_target(&asked, &response)
        {
            // A large image's bytes, at a presigned S3 URL: fetched with none of this API's
            // credentials, which that host must never see.
            response = self.http.get(location).send().await.map_err(unreachable)?;
        }
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        Err(failure_of(response).await)
    }
}

/// Where a redirect (other than 304) points, resolved against the URL asked for.
fn redirect_target(asked: &Url, response: &Response) -> Option<Url> {
    if response.status() == StatusCode::NOT_MODIFIED {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    asked.join(location).ok()
}

/// `attempt` again after 0.5, 1 and 2 s while it fails in a way worth retrying.
pub async fn retrying<T, F: Future<Output = Result<T, Failure>>>(
    mut attempt: impl FnMut() -> F,
) -> Result<T, Failure> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Err(failure) if failure.retryable && attempts < ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(250 << attempts)).await;
            }
            outcome => return outcome,
        }
    }
}

/// A response that is not a success, as a `Failure`: the problem document's `detail` and
/// `request_id` when there is one, else the status.
pub async fn failure_of(response: Response) -> Failure {
    let status = response.status();
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
    let text = response.text().await.unwrap_or_default();
    let problem: Problem = serde_json::from_str(&text).unwrap_or_default();
    let detail = problem
        .detail
        .or(problem.message)
        .unwrap_or_else(|| format!("the server answered {status}"));
    Failure {
        message: format!("{} ({})", detail, status.as_u16()),
        request_id: problem.request_id.or(header_id),
        status: Some(status),
        retryable,
    }
}

/// An error and its causes on one line (reqwest's own message alone says little).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
