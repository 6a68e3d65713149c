//! Reading the invocation event: one copy of a large body fewer than lambda_http's reader.
//!
//! lambda_http reads an event by copying all of it into a `RawValue` and parsing that copy
//! as each event type in turn: for a large upload one more copy of the whole event and one
//! more pass over it, on top of the event the runtime holds and the body string it ends in
//! (docs/design-decisions.md has the figures).
//! Here the event is parsed once into a `serde_json::Value`, whose strings are then moved,
//! not copied, into the event type it is. Which type that is follows lambda_http's own order:
//! an event with `httpMethod` at its top and in its request context (which lambda_http's
//! first type requires) is a REST (v1) event; `"version": "2.0"` is an HTTP API or function
//! URL (v2) event; anything else (ALB, WebSocket, ...) goes to lambda_http's reader, from a
//! copy. `tests/api/lambda.rs` checks that both readers read every kind of event alike.

use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use lambda_http::request::LambdaRequest;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An invocation event of any kind lambda_http serves.
pub struct ApiEvent(pub LambdaRequest);

impl<'de> Deserialize<'de> for ApiEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let event = Value::deserialize(deserializer)?;
        let request = if event.get("httpMethod").is_some()
            && event.pointer("/requestContext/httpMethod").is_some()
        {
            LambdaRequest::ApiGatewayV1(
                ApiGatewayProxyRequest::deserialize(event).map_err(D::Error::custom)?,
            )
        } else if event.get("version").and_then(Value::as_str) == Some("2.0") {
            LambdaRequest::ApiGatewayV2(
                ApiGatewayV2httpRequest::deserialize(event).map_err(D::Error::custom)?,
            )
        } else {
            let text = serde_json::to_vec(&event).map_err(D::Error::custom)?;
            serde_json::from_slice(&text).map_err(D::Error::custom)?
        };
        Ok(Self(request))
    }
}
