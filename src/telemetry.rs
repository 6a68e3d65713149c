//! Logs: JSON lines in Lambda (CloudWatch parses them), readable text on a terminal. The span
//! that gives every line of a request its ids is opened by `pipeline::request_id`.

use std::future::Future;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

tokio::task_local! {
    /// The id of the request this task is serving, for problem documents.
    static REQUEST_ID: String;
}

/// The id of the request being served, if called while serving one (for problem documents).
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
/// Runs `work` as the serving of request `id` (`pipeline::request_id` decides the id).
pub async fn with_request_id<F: Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// The default keeps our logs at info and the SDK's quiet; `RUST_LOG` overrides it.
pub fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"))
}

pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .with_ansi(false)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.finish()),
    }
}

pub fn init(format: LogFormat) {
    tracing::subscriber::set_global_default(subscriber(format, filter(), std::io::stderr))
        .expect("logging is initialised once");
}
