//! Logging inside Lambda. A binary of its own: the test installs the process-wide subscriber,
//! which tracing's per-callsite caches need to see the same way on every thread.

use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use image_api::telemetry::{self, LogFormat};
use image_api::{Application, Config};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_are_json_lines_carrying_the_lambda_request_id() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = telemetry::subscriber(
        LogFormat::Json,
        tracing_subscriber::EnvFilter::new("info"),
        move || sink.clone(),
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let get_item =
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get_item]);
    let s3 = mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        Vec::<&aws_smithy_mocks::Rule>::new()
    );
    let config = Config::from_lookup(|name| {
        matches!(name, "BUCKET_NAME" | "TABLE_NAME").then(|| "x".to_owned())
    })
    .unwrap();
    let router = Application::with_clients(config, s3, dynamodb)
        .unwrap()
        .router();

    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/images/6f9619ff-8b86-4011-b42d-00c04fc964ff",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api123", "requestId": "apigw-id", "routeKey": "$default", "stage": "$default",
            "http": {"method": "GET", "path": "/images/6f9619ff-8b86-4011-b42d-00c04fc964ff", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "t"}
        },
        "isBase64Encoded": false
    });
    let request: LambdaRequest = serde_json::from_value(event).unwrap();
    let mut context = Context::default();
    context.request_id = "req-7f3a-lambda".into();
    let response = Adapter::from(router)
        .oneshot(LambdaEvent::new(request, context))
        .await
        .unwrap();
    let response = serde_json::to_value(response).unwrap();
    assert_eq!(response["statusCode"], 404);
    assert_eq!(response["headers"]["x-request-id"], "req-7f3a-lambda");

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
        .collect();
    let finished = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request finished")
        .unwrap_or_else(|| panic!("no request log line in {text}"));
    assert_eq!(
        finished["span"]["lambda_request_id"], "req-7f3a-lambda",
        "{finished}"
    );
    assert_eq!(finished["span"]["request_id"], "req-7f3a-lambda");
    assert_eq!(finished["fields"]["status"], 404);
}
