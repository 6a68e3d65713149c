use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Any error, with what caused it, for logging (never for clients).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A storage failure, sorted by what the client should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Unreachable, timing out, throttling or failing on its side: worth retrying.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug, a missing table, denied permissions, a malformed record.
    #[error("storage failed: {0}")]
    Internal(#[source] BoxError),
}

impl StorageError {
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }
}

/// Error codes AWS services use for throttling and transient trouble on their side.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
];

impl<E> From<SdkError<E, HttpResponse>> for StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(error: SdkError<E, HttpResponse>) -> Self {
        let transient = match &error {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                status >= 500
                    || status == 429
                    || service
                        .err()
                        .code()
                        .is_some_and(|code| TRANSIENT_CODES.contains(&code))
            }
            _ => false,
        };
        let boxed: BoxError = Box::new(error);
        if transient {
            Self::Unavailable(boxed)
        } else {
            Self::Internal(boxed)
        }
    }
}
