use std::sync::Arc;

use crate::auth::Auth;
use crate::config::Config;
use crate::storage::{BoxError, Catalog, ImageStore, Objects};

/// What every handler shares: the storage (SDK clients inside) and the settings.
#[derive(Clone)]
pub struct AppState {
    pub store: ImageStore,
    pub config: Arc<Config>,
    /// Tells whose each request is.
    pub auth: Arc<Auth>,
}

impl AppState {
    /// Fails only when sign-in is configured and its HTTPS client cannot be set up (no trusted
    /// root certificates on the machine).
    pub fn new(
        config: Config,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
    ) -> Result<Self, BoxError> {
        let store = ImageStore::new(
            Objects::new(s3, &config.bucket_name),
            Catalog::new(dynamodb, &config.table_name, config.owner.clone()),
        );
        let auth = Auth::from_config(&config)?;
        Ok(Self {
            store,
            config: Arc::new(config),
            auth: Arc::new(auth),
        })
    }
}
