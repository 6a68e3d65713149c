//! API Gateway events through lambda_http's own adapter (what `lambda_http::run` uses) into
//! the same router, against the moto server: REST (payload v1) and HTTP API (v2) events.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::{Value, json};
use tower::ServiceExt;

use image_api::lambda::event::ApiEvent;

use crate::helpers::{TestApp, png, spawn_app};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Payload {
    RestV1,
    HttpV2,
}

/// A minimal but complete event, shaped like the ones API Gateway sends.
pub(crate) struct Event {
    method: &'static str,
    /// The path as API Gateway puts it in the event (may include a custom-domain base path).
    path: String,
    query: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
    body: Option<(String, bool)>,
    stage: &'static str,
}

impl Event {
    pub(crate) fn new(method: &'static str, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: None,
            stage: "Prod",
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn header(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((key, value.into()));
        self
    }

    pub(crate) fn binary_body(mut self, bytes: &[u8]) -> Self {
        self.body = Some((STANDARD.encode(bytes), true));
        self
    }

    pub(crate) fn text_body(mut self, text: impl Into<String>) -> Self {
        self.body = Some((text.into(), false));
        self
    }

    pub(crate) fn to_json(&self, payload: Payload) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let (body, encoded) = self
            .body
            .clone()
            .map_or((Value::Null, false), |(b, e)| (json!(b), e));
        match payload {
            Payload::RestV1 => {
                let query: serde_json::Map<String, Value> = self
                    .query
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                let multi_query: serde_json::Map<String, Value> = self
                    .query
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!([v])))
                    .collect();
                let multi_headers: serde_json::Map<String, Value> = self
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!([v])))
                    .collect();
                json!({
                    "resource": "/{proxy+}",
                    "path": self.path,
                    "httpMethod": self.method,
                    "headers": headers,
                    "multiValueHeaders": multi_headers,
                    "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query) },
                    "multiValueQueryStringParameters": if multi_query.is_empty() { Value::Null } else { Value::Object(multi_query) },
                    "pathParameters": {"proxy": self.path.trim_start_matches('/')},
                    "stageVariables": null,
                    "requestContext": {
                        "accountId": "123456789012",
                        "resourceId": "abc123",
                        "stage": self.stage,
                        "requestId": "apigw-request-id",
                        "identity": {"sourceIp": "203.0.113.7", "userAgent": "test"},
                        "resourcePath": "/{proxy+}",
                        "httpMethod": self.method,
                        "apiId": "api123",
                        "path": format!("/{}{}", self.stage, self.path),
                        "protocol": "HTTP/1.1",
                        "requestTimeEpoch": 1_764_000_000_000_i64
                    },
                    "body": body,
                    "isBase64Encoded": encoded
                })
            }
            Payload::HttpV2 => {
                let raw_query = self
                    .query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", utf8_query(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                json!({
                    "version": "2.0",
                    "routeKey": "$default",
                    "rawPath": self.path,
                    "rawQueryString": raw_query,
                    "headers": headers,
                    "requestContext": {
                        "accountId": "123456789012",
                        "apiId": "api123",
                        "domainName": "api123.execute-api.us-east-1.amazonaws.com",
                        "domainPrefix": "api123",
                        "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "test"},
                        "requestId": "apigw-request-id",
                        "routeKey": "$default",
                        "stage": "$default",
                        "time": "24/Nov/2026:23:45:24 +0000",
                        "timeEpoch": 1_764_000_000_000_i64
                    },
                    "body": body,
                    "isBase64Encoded": encoded
                })
            }
        }
    }
}

fn utf8_query(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The Lambda response as the runtime would send it back to API Gateway.
struct Reply(Value);

impl Reply {
    fn status(&self) -> u64 {
        self.0["statusCode"].as_u64().unwrap()
    }

    fn header(&self, name: &str) -> Option<String> {
        let find = |map: &Value| {
            map.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| match v {
                    Value::Array(values) => values[0].as_str().unwrap().to_owned(),
                    other => other.as_str().unwrap().to_owned(),
                })
        };
        find(&self.0["headers"]).or_else(|| find(&self.0["multiValueHeaders"]))
    }

    fn is_base64(&self) -> bool {
        self.0["isBase64Encoded"].as_bool().unwrap_or(false)
    }

    fn text(&self) -> &str {
        assert!(!self.is_base64(), "expected a text body: {}", self.0);
        self.0["body"].as_str().unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.text()).unwrap()
    }

    fn bytes(&self) -> Vec<u8> {
        assert!(self.is_base64(), "expected a binary body: {}", self.0);
        STANDARD.decode(self.0["body"].as_str().unwrap()).unwrap()
    }
}

async fn invoke_with(app: &TestApp, payload: Payload, event: &Event, request_id: &str) -> Reply {
    let request: LambdaRequest =
        serde_json::from_value(event.to_json(payload)).expect("a valid API Gateway event");
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    let adapter = Adapter::from(app.router.clone());
    let response = adapter
        .oneshot(LambdaEvent::new(request, context))
        .await
        .unwrap();
    Reply(serde_json::to_value(response).unwrap())
}

async fn invoke(app: &TestApp, payload: Payload, event: Event) -> Reply {
    invoke_with(app, payload, &event, "lambda-invocation-id").await
}

async fn round_trip(payload: Payload, mount: &str) {
    let app = spawn_app().await;
    let image = png(700);
    let context = format!("{payload:?} mounted at {mount:?}");

    // Raw upload: API Gateway hands the binary body over base64-encoded.
    let created = invoke(
        &app,
        payload,
        Event::new("POST", format!("{mount}/images"))
            .query("file_name", "ünï.png")
            .header("content-type", "image/png")
            .binary_body(&image),
    )
    .await;
    assert_eq!(created.status(), 201, "{context}: {}", created.0);
    assert_eq!(
        created.header("content-type").as_deref(),
        Some("application/json")
    );
    let record = created.json();
    let id = record["id"].as_str().unwrap().to_owned();
    assert_eq!(created.header("location"), Some(format!("/images/{id}")));
    assert_eq!(record["file_name"], "ünï.png");
    assert_eq!(
        app.object(&id).await.unwrap().0,
        image,
        "{context}: stored bytes differ"
    );

    // JSON upload, text body.
    let body = json!({"file_name": "j.png", "content": STANDARD.encode(png(5))}).to_string();
    let json_upload = invoke(
        &app,
        payload,
        Event::new("POST", format!("{mount}/images"))
            .header("content-type", "application/json")
            .text_body(body),
    )
    .await;
    assert_eq!(json_upload.status(), 201, "{context}: {}", json_upload.0);

    let listed = invoke(
        &app,
        payload,
        Event::new("GET", format!("{mount}/images")).query("limit", "1"),
    )
    .await;
    assert_eq!(listed.status(), 200, "{context}");
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);
    assert!(listed.json()["next_token"].is_string());

    let fetched = invoke(
        &app,
        payload,
        Event::new("GET", format!("{mount}/images/{id}")),
    )
    .await;
    assert_eq!(fetched.status(), 200, "{context}");
    assert_eq!(
        STANDARD
            .decode(fetched.json()["content"].as_str().unwrap())
            .unwrap(),
        image
    );

    let content = invoke(
        &app,
        payload,
        Event::new("GET", format!("{mount}/images/{id}/content")),
    )
    .await;
    assert_eq!(content.status(), 200, "{context}");
    assert_eq!(content.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(content.bytes(), image, "{context}: downloaded bytes differ");

    let not_allowed = invoke(
        &app,
        payload,
        Event::new("PUT", format!("{mount}/images/{id}")),
    )
    .await;
    assert_eq!(not_allowed.status(), 405);
    assert_eq!(
        not_allowed.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(not_allowed.json()["code"], "method_not_allowed");
    assert!(
        not_allowed
            .header("allow")
            .is_some_and(|a| a.contains("DELETE"))
    );

    let bad_id = invoke(
        &app,
        payload,
        Event::new("GET", format!("{mount}/images/nope")),
    )
    .await;
    assert_eq!(
        (bad_id.status(), bad_id.json()["code"].as_str()),
        (400, Some("invalid_id"))
    );

    let deleted = invoke(
        &app,
        payload,
        Event::new("DELETE", format!("{mount}/images/{id}")),
    )
    .await;
    assert_eq!(deleted.status(), 204, "{context}");
    assert!(app.object(&id).await.is_none() && app.record(&id).await.is_none());
    let again = invoke(
        &app,
        payload,
        Event::new("DELETE", format!("{mount}/images/{id}")),
    )
    .await;
    assert_eq!(again.status(), 404);
    assert_eq!(again.json()["code"], "not_found");

    let unknown = invoke(
        &app,
        payload,
        Event::new("GET", format!("{mount}/elsewhere")),
    )
    .await;
    assert_eq!(
        (unknown.status(), unknown.json()["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn rest_api_events_with_the_stage_in_the_path() {
    round_trip(Payload::RestV1, "").await;
}

#[tokio::test]
async fn rest_api_events_behind_a_custom_domain_base_path() {
    round_trip(Payload::RestV1, "/api/v1").await;
}

#[tokio::test]
async fn http_api_events() {
    round_trip(Payload::HttpV2, "").await;
}

#[tokio::test]
async fn http_api_events_behind_a_custom_domain_base_path() {
    round_trip(Payload::HttpV2, "/api").await;
}

#[tokio::test]
async fn errors_keep_the_problem_format_inside_lambda() {
    let app = spawn_app().await;
    for payload in [Payload::RestV1, Payload::HttpV2] {
        let bad = invoke(
            &app,
            payload,
            Event::new("POST", "/images")
                .header("content-type", "application/json")
                .text_body("{\"file_name\": 1}"),
        )
        .await;
        assert_eq!(bad.status(), 400);
        assert_eq!(
            bad.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let body = bad.json();
        assert_eq!(body["status"], 400);
        assert_eq!(body["code"], "invalid_field");
    }
}

/// An ALB event, which the event builder does not make.
fn alb_event() -> Value {
    json!({
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"}},
        "httpMethod": "GET", "path": "/images", "queryStringParameters": {},
        "headers": {"host": "example.com"}, "body": "", "isBase64Encoded": false
    })
}

/// `ApiEvent` (what the binary reads events with) and lambda_http's own reader make the same
/// request of every kind of event, from its bytes, as the runtime hands them over.
#[test]
fn the_event_reader_reads_events_as_lambda_http_does() {
    let read = |event: &Value| {
        let text = serde_json::to_vec(event).unwrap();
        let ours = serde_json::from_slice::<ApiEvent>(&text).map(|e| e.0);
        let theirs = serde_json::from_slice::<LambdaRequest>(&text);
        (ours, theirs)
    };
    let json_upload = Event::new("POST", "/images")
        .header("content-type", "application/json")
        .text_body(r#"{"file_name": "a\"b.png", "content": "QUJD"}"#);
    let raw_upload = Event::new("POST", "/images")
        .query("file_name", "a b.png")
        .header("content-type", "image/png")
        .binary_body(&png(64));
    for payload in [Payload::RestV1, Payload::HttpV2] {
        for event in [&json_upload, &raw_upload] {
            let (ours, theirs) = read(&event.to_json(payload));
            let ours = ours.unwrap();
            assert_eq!(format!("{ours:?}"), format!("{:?}", theirs.unwrap()));
            match payload {
                Payload::RestV1 => assert!(matches!(ours, LambdaRequest::ApiGatewayV1(_))),
                Payload::HttpV2 => assert!(matches!(ours, LambdaRequest::ApiGatewayV2(_))),
            }
        }
    }
    let (ours, theirs) = read(&alb_event());
    let ours = ours.unwrap();
    assert_eq!(format!("{ours:?}"), format!("{:?}", theirs.unwrap()));
    assert!(matches!(ours, LambdaRequest::Alb(_)));

    // Without its `version`, a v2 event is read (or refused) by lambda_http's reader alike.
    let mut unversioned = raw_upload.to_json(Payload::HttpV2);
    unversioned.as_object_mut().unwrap().remove("version");
    let (ours, theirs) = read(&unversioned);
    assert_eq!(ours.is_ok(), theirs.is_ok());

    let mut malformed = json_upload.to_json(Payload::RestV1);
    malformed["httpMethod"] = json!(7);
    assert!(read(&malformed).0.is_err());
    assert!(serde_json::from_str::<ApiEvent>("[1]").is_err());
}
