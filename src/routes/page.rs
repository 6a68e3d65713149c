//! The gallery page: HTML, CSS and JavaScript compiled into the binary (no build step, no
//! CDN), talking to the API it is served by. Its Content-Security-Policy allows scripts and
//! styles from this origin only (no inline script), and connections to this origin and to
//! where presigned URLs point (direct uploads go there).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

const INDEX: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const APP_CSS: &str = include_str!("../../web/app.css");
const ICON: &str = include_str!("../../web/icon.svg");

/// `GET /`: the page, with the inline-upload limit it should respect.
pub async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    // Signed locally each time (no request leaves): the page is loaded rarely, and the
    // origin belongs to this state's store, not to the process.
    let storage = state.store.presigned_origin().await?;
    let cognito = state.config.cognito.as_ref();
    // Signing in talks to Cognito straight from the page.
    let sign_in = cognito.map_or("", |cognito| origin(&cognito.endpoint));
    let elsewhere = if sign_in == storage {
        storage.clone()
    } else {
        format!("{storage} {sign_in}")
    };
    let policy = content_security_policy(&elsewhere);
    let html = INDEX
        .replace(
            "{{MAX_UPLOAD_BYTES}}",
            &state.config.max_upload_bytes.to_string(),
        )
        .replace(
            "{{COGNITO_ENDPOINT}}",
            cognito.map_or("", |c| c.endpoint.as_str()),
        )
        .replace(
            "{{COGNITO_CLIENT_ID}}",
            cognito.map_or("", |c| c.client_ids[0].as_str()),
        );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response();
    let policy = HeaderValue::from_str(&policy).map_err(|e| ApiError::Internal(Box::new(e)))?;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    Ok(response)
}

/// `GET /assets/{name}`: the page's script, style sheet and icon.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (content_type, body) = match name.as_str() {
        "app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "app.css" => ("text/css; charset=utf-8", APP_CSS),
        "icon.svg" => ("image/svg+xml", ICON),
        _ => return Err(ApiError::NotFound("no such asset".into())),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// `scheme://host[:port]` of a URL checked at start-up to be http(s).
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    url[after_scheme..]
        .find('/')
        .map_or(url, |end| &url[..after_scheme + end])
}

/// Scripts, styles and connections from this origin; images from this origin and from the
/// object URLs the page makes of what it fetched; direct uploads and downloads, and signing
/// in, to the origins in `elsewhere`.
fn content_security_policy(elsewhere: &str) -> String {
    let elsewhere = elsewhere.trim();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
         connect-src 'self' {elsewhere}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_script_and_names_the_storage_origin() {
        let policy = content_security_policy("https://b.s3.eu-west-1.amazonaws.com");
        assert!(policy.contains("script-src 'self';"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("connect-src 'self' https://b.s3.eu-west-1.amazonaws.com;"));
    }

    #[test]
    fn an_origin_is_the_url_up_to_its_path() {
        let aws = "https://cognito-idp.eu-west-1.amazonaws.com";
        assert_eq!(origin(aws), aws);
        assert_eq!(origin("http://127.0.0.1:4566/x/y"), "http://127.0.0.1:4566");
    }
}
