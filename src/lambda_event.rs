//! Reading the invocation event: one copy of a large body fewer than lambda_http's reader.
//!
//! lambda_http reads an event by copying all of it into a `RawValue` and parsing that copy
//! as each event type in turn. For a 4 MiB JSON upload that is one more 5.6 MB copy and one
//! more pass over it, on top of the event the runtime holds and the body string it ends in.
//! Here the event is parsed once into a `serde_json::Value`, whose strings are then moved,
//! not copied, into the event type it is. Which type that is follows lambda_http's own order:
//! an event with `httpMethod` at its top and in its request context (which lambda_http's
//! first type requires) is a REST (v1) event; `"version": "2.0"` is an HTTP API or function
//! URL (v2) event; anything else (ALB, WebSocket, ...) goes to lambda_http's reader, from a
//! copy.

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rest_event(body: &str, base64: bool) -> Value {
        json!({
            "resource": "/{proxy+}", "path": "/images", "httpMethod": "POST",
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "queryStringParameters": {"file_name": "a b.png"},
            "multiValueQueryStringParameters": {"file_name": ["a b.png"]},
            "pathParameters": {"proxy": "images"}, "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012", "resourceId": "abc", "stage": "Prod",
                "requestId": "r", "identity": {"sourceIp": "203.0.113.7"},
                "resourcePath": "/{proxy+}", "httpMethod": "POST", "apiId": "api",
                "path": "/Prod/images", "protocol": "HTTP/1.1", "requestTimeEpoch": 1_764_000_000_000_i64
            },
            "body": body, "isBase64Encoded": base64
        })
    }

    fn http_api_event() -> Value {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/images/x",
            "rawQueryString": "a=1", "cookies": ["c=1"], "headers": {"x-request-id": "abc"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                "domainPrefix": "api", "requestId": "r", "routeKey": "$default", "stage": "$default",
                "http": {"method": "DELETE", "path": "/images/x", "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.7", "userAgent": "t"},
                "time": "24/Nov/2026:23:45:24 +0000", "timeEpoch": 1_764_000_000_000_i64
            },
            "isBase64Encoded": false
        })
    }

    fn alb_event() -> Value {
        json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"}},
            "httpMethod": "GET", "path": "/images", "queryStringParameters": {},
            "headers": {"host": "example.com"}, "body": "", "isBase64Encoded": false
        })
    }

    /// The same event, read both ways, is the same request.
    fn assert_read_alike(event: &Value) {
        let text = serde_json::to_vec(event).unwrap();
        let ours: ApiEvent = serde_json::from_slice(&text).unwrap();
        let theirs: LambdaRequest = serde_json::from_slice(&text).unwrap();
        assert_eq!(format!("{:?}", ours.0), format!("{theirs:?}"));
    }

    #[test]
    fn reads_every_event_kind_as_lambda_http_does() {
        assert_read_alike(&rest_event(
            r#"{"file_name": "a\"b.png", "content": "QUJD"}"#,
            false,
        ));
        assert_read_alike(&rest_event("iVBORw0KGgo=", true));
        assert_read_alike(&http_api_event());
        assert_read_alike(&alb_event());
        let mut websocket = http_api_event();
        websocket.as_object_mut().unwrap().remove("version");
        let text = serde_json::to_vec(&websocket).unwrap();
        assert_eq!(
            serde_json::from_slice::<ApiEvent>(&text).is_ok(),
            serde_json::from_slice::<LambdaRequest>(&text).is_ok()
        );
    }

    #[test]
    fn the_event_kinds_are_told_apart() {
        let read = |event: Value| serde_json::from_value::<ApiEvent>(event).unwrap().0;
        assert!(matches!(
            read(rest_event("", false)),
            LambdaRequest::ApiGatewayV1(_)
        ));
        assert!(matches!(
            read(http_api_event()),
            LambdaRequest::ApiGatewayV2(_)
        ));
    }

    #[test]
    fn a_malformed_event_is_an_error() {
        let mut event = rest_event("", false);
        event["httpMethod"] = json!(7);
        assert!(serde_json::from_value::<ApiEvent>(event).is_err());
        assert!(serde_json::from_str::<ApiEvent>("[1]").is_err());
    }
}
