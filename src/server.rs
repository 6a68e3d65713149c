//! The two ways to serve the router: inside Lambda, or as a plain HTTP server.

use std::net::SocketAddr;

use axum::Router;
use lambda_http::LambdaEvent;

use crate::lambda_event::ApiEvent;

/// lambda_http's runtime loop and adapter, with the event read by `ApiEvent`.
pub async fn run_lambda(app: Router) -> Result<(), lambda_http::Error> {
    let service = tower::ServiceBuilder::new()
        .map_request(|event: LambdaEvent<ApiEvent>| {
            LambdaEvent::new(event.payload.0, event.context)
        })
        .service(lambda_http::Adapter::from(app));
    lambda_http::lambda_runtime::run(service).await
}

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
pub async fn run_http(app: Router, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let interrupt = async {
        tokio::signal::ctrl_c()
            .await
            .expect("SIGINT handler installs");
    };
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs")
            .recv()
            .await;
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing in-flight requests");
}
