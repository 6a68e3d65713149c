//! The router as a plain HTTP server (outside Lambda): hyper, with limits on connections and
//! slow clients, and a graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::pipeline::{MAX_HEAD_BYTES, MAX_HEADER_FIELDS};

/// The longest head hyper reads: several times the longest head within the stated bounds,
/// and below hyper's read buffer (its default, about 400 KiB), which would otherwise cut a
/// head off wherever a read happened to end.
const HYPER_MAX_HEAD_BYTES: usize = 256 * 1024;
const _: () = assert!(HYPER_MAX_HEAD_BYTES > 4 * MAX_HEAD_BYTES);
/// Header fields hyper reads: twice the stated bound. hyper reserves room for all of them for
/// each head it parses, so this is not "unlimited".
const HYPER_MAX_HEADER_FIELDS: usize = 2 * MAX_HEADER_FIELDS;

/// How the HTTP server protects itself from clients: slow ones and too many at once.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    /// For the whole request head; the router's body reader applies it to each pause too.
    pub client_timeout: Duration,
}

/// Accepts connections while fewer than `max_connections` are open (past it, new ones wait
/// in the listen backlog and those already open are still served), drops a client that has
/// not sent a whole request head within `client_timeout`, and on `shutdown` stops accepting
/// and waits for open requests to finish. HTTP/1.1 only: API Gateway and curl speak it.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.client_timeout)
        // Above the stated bounds, so that every head within hyper's reach gets to
        // `pipeline::bounds` and its problem document; past these, hyper answers bare.
        .max_header_size(HYPER_MAX_HEAD_BYTES)
        .max_headers(HYPER_MAX_HEADER_FIELDS);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = async {
                let permit = Arc::clone(&open).acquire_owned().await.expect("never closed");
                (permit, listener.accept().await)
            } => accepted,
        };
        let (permit, stream) = match accepted {
            (permit, Ok((stream, _peer))) => (permit, stream),
            (_, Err(error)) => {
                // Out of file descriptors, say: the open connections still finish.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down; finishing in-flight requests");
    graceful.shutdown().await;
}

pub async fn shutdown_signal() {
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
}
