//! AWS SDK clients, built once at start and shared by every request.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

use crate::config::Config;

/// Bounds chosen so a request whose backend is down gets its 503 promptly even when it makes
/// four calls in a row (an upload whose record write fails and is rolled back), while the
/// largest legitimate call (a whole image's PutObject) stays far below the attempt bound. The
/// README states what a client can expect from them.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn load(config: &Config) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard());
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &config.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if config.use_test_credentials {
        loader =
            loader.credentials_provider(Credentials::new("test", "test", None, None, "emulator"));
    }
    loader.load().await
}

pub fn s3(sdk: &SdkConfig, config: &Config) -> aws_sdk_s3::Client {
    // Emulators serve buckets by path, not by virtual-host name.
    let s3_config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(config.endpoint.is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

pub fn dynamodb(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}
