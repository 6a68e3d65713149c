//! Start-up, in one place: from a checked `Config` to the SDK clients, the shared `AppState`
//! and the router, and from there to serving it over HTTP or inside Lambda. `main.rs`, the
//! sub-commands and the tests all build the application here.

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http_server::{self, ConnectionLimits};
use crate::state::AppState;
use crate::storage::BoxError;
use crate::{app, lambda, sdk};

/// The application: its state and the router that serves it.
pub struct Application {
    state: AppState,
    router: Router,
}

impl Application {
    /// With real SDK clients. Makes no network call: credentials and endpoints resolve lazily,
    /// on the first request.
    pub async fn build(config: Config) -> Result<Self, BoxError> {
        let sdk = sdk::load(&config).await;
        let (s3, dynamodb) = (sdk::s3(&sdk, &config), sdk::dynamodb(&sdk));
        Self::with_clients(config, s3, dynamodb)
    }

    /// With the clients given: other credentials, or mocked ones. Fails only when sign-in is
    /// configured and its HTTPS client cannot be set up (no trusted root certificates).
    pub fn with_clients(
        config: Config,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
    ) -> Result<Self, BoxError> {
        let state = AppState::new(config, s3, dynamodb)?;
        let router = app(state.clone());
        Ok(Self { state, router })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The router production serves, for a test to drive without a socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Inside Lambda: the runtime loop, one invocation at a time.
    pub async fn run_lambda(self) -> Result<(), lambda_http::Error> {
        lambda::run(self.router).await
    }

    /// Over HTTP on `BIND_ADDR` until SIGINT or SIGTERM; then in-flight requests finish, and so
    /// do the uploads and deletes whose clients left.
    pub async fn run_http(self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.state.config.bind_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "listening");
        self.serve(listener, http_server::shutdown_signal()).await;
        Ok(())
    }

    /// Over HTTP on `listener` until `shutdown`, with the configured connection limits.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let limits = ConnectionLimits {
            max_connections: self.state.config.max_connections,
            client_timeout: self.state.config.client_timeout,
        };
        http_server::serve(listener, self.router, limits, shutdown).await;
        self.state.store.finish_pending().await;
    }
}
