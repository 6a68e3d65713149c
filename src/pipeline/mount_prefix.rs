//! Behind API Gateway the path may carry a mount prefix the router knows nothing about.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;

use crate::routes::paths::API_ROOTS;

/// Behind API Gateway the path may carry a mount prefix the router knows nothing about: a
/// custom domain's base path (`/v1/images`), or the stage (`/Prod/images`) wherever
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is not set (the template sets it). For requests that
/// came through Lambda only, everything before the first segment of `API_ROOTS` (`/images`,
/// `/uploads`, the page's assets) is dropped; local HTTP stays strict.
pub fn strip(mut request: Request) -> Request {
    if request
        .extensions()
        .get::<lambda_http::request::RequestContext>()
        .is_none()
    {
        return request;
    }
    let Some(path_and_query) = request.uri().path_and_query() else {
        return request;
    };
    let Some(start) = mount_prefix_len(path_and_query.path()) else {
        return request;
    };
    let Ok(stripped) = PathAndQuery::try_from(&path_and_query.as_str()[start..]) else {
        return request;
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = Some(stripped);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request
}

/// Length of the prefix before the first whole root segment (`/images`, `/uploads`), if
/// there is one to strip.
fn mount_prefix_len(path: &str) -> Option<usize> {
    let is_root_at = |i: usize| {
        API_ROOTS.iter().any(|root| {
            path[i..].starts_with(root)
                && matches!(path.as_bytes().get(i + root.len()), None | Some(b'/'))
        })
    };
    if is_root_at(0) {
        return None;
    }
    path.match_indices('/')
        .map(|(i, _)| i)
        .find(|&i| is_root_at(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_mount_prefix() {
        assert_eq!(mount_prefix_len("/images"), None);
        assert_eq!(mount_prefix_len("/images/abc/content"), None);
        assert_eq!(mount_prefix_len("/Prod/images"), Some(5));
        assert_eq!(mount_prefix_len("/uploads/abc/complete"), None);
        assert_eq!(mount_prefix_len("/Prod/uploads/abc/complete"), Some(5));
        assert_eq!(mount_prefix_len("/Prod/uploadsx"), None);
        assert_eq!(mount_prefix_len("/api/v1/images/abc"), Some(7));
        assert_eq!(mount_prefix_len("/Prod/imagesque"), None);
        assert_eq!(mount_prefix_len("/Prod/nothing"), None);
    }
}
