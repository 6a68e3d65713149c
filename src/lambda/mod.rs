//! Everything particular to Lambda: how to tell the process runs there, the allocator setting
//! it runs with, the runtime loop (`run`), the event reader (`event`) and the invocation id a
//! request carries there.

pub mod event;

use axum::Router;
use axum::extract::Request;
use lambda_http::LambdaEvent;

use event::ApiEvent;

/// lambda_http's runtime loop and adapter, with the event read by `ApiEvent`.
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    let service = tower::ServiceBuilder::new()
        .map_request(|event: LambdaEvent<ApiEvent>| {
            LambdaEvent::new(event.payload.0, event.context)
        })
        .service(lambda_http::Adapter::from(app));
    lambda_http::lambda_runtime::run(service).await
}

/// Lambda sets `AWS_LAMBDA_RUNTIME_API` for its runtime interface; nothing else does.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Inside Lambda, the large buffers of an invocation (the event, its body, the image) come
/// from the heap and stay there for the next one, instead of being mapped fresh, faulted in
/// page by page and unmapped every time (docs/design-decisions.md has the figures). A
/// function's memory is reserved for it whether used or not; the HTTP server keeps glibc's
/// defaults, so its memory settles back after a burst. Call before any other thread starts.
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
