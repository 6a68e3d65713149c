//! What differs when the router runs behind API Gateway and Lambda.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;

/// The root every route of the API hangs from.
const API_ROOT: &str = "/images";

/// Lambda sets `AWS_LAMBDA_RUNTIME_API` for its runtime interface; nothing else does.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Inside Lambda, the large buffers of an invocation (the event, its body, the image) come
/// from the heap and stay there for the next one, instead of being mapped fresh, faulted in
/// page by page and unmapped every time: measured, a 4 MiB raw upload's CPU halves (about
/// 3,900 page faults an invocation fewer) for 1–2 MiB more at the peak. A function's memory
/// is reserved for it whether used or not; the HTTP server keeps glibc's defaults, so its
/// memory settles back after a burst. Call before any other thread starts.
pub fn keep_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, here before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
    }
}

/// The request id Lambda gave this invocation, when the request came through Lambda.
pub fn invocation_id(request: &Request) -> Option<&str> {
    request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|context| context.request_id.as_str())
}

/// Behind API Gateway the path may carry a mount prefix the router knows nothing about: the
/// stage (`/Prod/images`, which lambda_http adds for REST APIs unless told otherwise) or a
/// custom domain's base path (`/v1/images`). For requests that came through Lambda only,
/// everything before the first `/images` segment is dropped; local HTTP stays strict.
pub fn strip_mount_prefix(mut request: Request) -> Request {
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

/// Length of the prefix before the first whole `/images` segment, if there is one to strip.
fn mount_prefix_len(path: &str) -> Option<usize> {
    let is_root_at = |i: usize| {
        path[i..].starts_with(API_ROOT)
            && matches!(path.as_bytes().get(i + API_ROOT.len()), None | Some(b'/'))
    };
    if is_root_at(0) {
        return None;
    }
    path.match_indices(API_ROOT)
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
        assert_eq!(mount_prefix_len("/api/v1/images/abc"), Some(7));
        assert_eq!(mount_prefix_len("/Prod/imagesque"), None);
        assert_eq!(mount_prefix_len("/Prod/nothing"), None);
    }
}
