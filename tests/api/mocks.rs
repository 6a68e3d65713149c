//! Failure injection with aws-smithy-mocks: each SDK call the handlers make fails in turn,
//! and the answer and the calls that follow (the clean-up) are checked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use axum::body::Body;
use axum::http::{Request, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image_api::{Application, Config};
use tower::ServiceExt;

use crate::helpers::png;

const ID: &str = "6f9619ff-8b86-4011-b42d-00c04fc964ff";

fn s3(rules: &[&Rule]) -> aws_sdk_s3::Client {
    mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()))
}

fn dynamodb(rules: &[&Rule]) -> aws_sdk_dynamodb::Client {
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()))
}

async fn call(
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    request: Request<Body>,
) -> (u16, serde_json::Value) {
    let config = Config::from_lookup(|name| match name {
        "BUCKET_NAME" => Some("bucket".into()),
        "TABLE_NAME" => Some("table".into()),
        _ => None,
    })
    .unwrap();
    let response: Response<Body> = Application::with_clients(config, s3, dynamodb)
        .unwrap()
        .router()
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
    };
    (status, body)
}

fn upload_request() -> Request<Body> {
    let body = serde_json::json!({"file_name": "a.png", "content": STANDARD.encode(png(10))});
    Request::post("/images")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn delete() -> Request<Body> {
    Request::delete(format!("/images/{ID}"))
        .body(Body::empty())
        .unwrap()
}

fn dynamodb_error(
    status: u16,
    kind: &'static str,
) -> impl Fn() -> HttpResponse + Send + Sync + 'static {
    move || {
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected {kind}"}}"#
        );
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
    }
}

fn s3_error(status: u16, code: &'static str) -> impl Fn() -> HttpResponse + Send + Sync + 'static {
    move || {
        let body = format!(
            "<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>injected {code} at http://10.1.2.3</Message></Error>"
        );
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
    }
}

fn stored_item() -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.into());
    HashMap::from([
        ("id".into(), s(ID)),
        ("file_name".into(), s("a.png")),
        ("content_type".into(), s("image/png")),
        ("size".into(), AttributeValue::N("10".into())),
        ("created_at".into(), s("2026-01-01T00:00:00.000Z")),
    ])
}

fn assert_no_leak(body: &serde_json::Value) {
    let text = body.to_string();
    for secret in [
        "injected",
        "10.1.2.3",
        "Exception",
        "SlowDown",
        "InternalError",
    ] {
        assert!(!text.contains(secret), "error body leaks {secret}: {text}");
    }
}

fn assert_unavailable(status: u16, body: &serde_json::Value, context: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("upstream_unavailable")),
        "{context}: {body}"
    );
    assert_no_leak(body);
}

/// Records the key PutObject wrote, so later rules can insist on that exact key.
fn put_object_capturing() -> (Rule, Arc<Mutex<Option<String>>>) {
    let written = Arc::new(Mutex::new(None));
    let sink = written.clone();
    let rule = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |req| {
            *sink.lock().unwrap() = req.key().map(str::to_owned);
            true
        })
        .then_output(|| PutObjectOutput::builder().build());
    (rule, written)
}

fn delete_object_of(written: Arc<Mutex<Option<String>>>) -> Rule {
    mock!(aws_sdk_s3::Client::delete_object)
        .match_requests(move |req| {
            req.key().is_some() && req.key() == written.lock().unwrap().as_deref()
        })
        .then_output(|| DeleteObjectOutput::builder().build())
}

/// An upload whose PutObject succeeds and whose record is written by the `dynamodb` rules:
/// the answer, and the rule that counts deletes of exactly the object it wrote.
async fn upload_with(dynamodb_rules: &[&Rule]) -> ((u16, serde_json::Value), Rule) {
    let (put_object, written) = put_object_capturing();
    let delete_object = delete_object_of(written.clone());
    let answer = call(
        s3(&[&put_object, &delete_object]),
        dynamodb(dynamodb_rules),
        upload_request(),
    )
    .await;
    assert!(
        written
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|k| k.starts_with("images/"))
    );
    (answer, delete_object)
}

#[tokio::test]
async fn failing_put_object_answers_503_and_writes_no_record() {
    let put_object =
        mock!(aws_sdk_s3::Client::put_object).then_http_response(s3_error(503, "SlowDown"));
    let put_item =
        mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let (status, body) = call(s3(&[&put_object]), dynamodb(&[&put_item]), upload_request()).await;
    assert_unavailable(status, &body, "upload");
    assert_eq!(put_object.num_calls(), 1);
    assert_eq!(put_item.num_calls(), 0);
}

#[tokio::test]
async fn failing_put_item_rolls_back_the_object_it_just_wrote() {
    for (status, kind, expected) in [
        (400, "ProvisionedThroughputExceededException", 503),
        (500, "InternalServerError", 503),
        (400, "ValidationException", 500),
    ] {
        let put_item = mock!(aws_sdk_dynamodb::Client::put_item)
            .then_http_response(dynamodb_error(status, kind));
        let delete_item = mock!(aws_sdk_dynamodb::Client::delete_item)
            .then_output(|| DeleteItemOutput::builder().build());
        let ((answer, body), delete_object) = upload_with(&[&put_item, &delete_item]).await;
        assert_eq!(answer, expected, "{kind}: {body}");
        assert_no_leak(&body);
        // One write; the record is made absent first, then the just-written object deleted.
        let calls = [&put_item, &delete_item, &delete_object].map(Rule::num_calls);
        assert_eq!(calls, [1, 1, 1], "{kind}");
    }
}

#[tokio::test]
async fn when_the_record_state_is_unknown_the_object_is_kept() {
    let put_item = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_http_response(dynamodb_error(500, "InternalServerError"));
    let delete_item = mock!(aws_sdk_dynamodb::Client::delete_item)
        .then_http_response(dynamodb_error(500, "InternalServerError"));
    let ((status, _), delete_object) = upload_with(&[&put_item, &delete_item]).await;
    assert_eq!(status, 503);
    assert_eq!(
        delete_object.num_calls(),
        0,
        "deleting the object could leave a record pointing at nothing"
    );
}

#[tokio::test]
async fn a_conditional_failure_on_our_own_fresh_id_means_the_write_landed() {
    let put_item = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_http_response(dynamodb_error(400, "ConditionalCheckFailedException"));
    let ((status, body), delete_object) = upload_with(&[&put_item]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(delete_object.num_calls(), 0);
}

#[tokio::test]
async fn failing_get_item_answers_503_on_every_read() {
    for path in [format!("/images/{ID}"), format!("/images/{ID}/content")] {
        let get_item = mock!(aws_sdk_dynamodb::Client::get_item)
            .then_http_response(dynamodb_error(400, "ThrottlingException"));
        let get_object = mock!(aws_sdk_s3::Client::get_object)
            .then_http_response(s3_error(500, "InternalError"));
        let (status, body) = call(s3(&[&get_object]), dynamodb(&[&get_item]), get(&path)).await;
        assert_unavailable(status, &body, &path);
        assert_eq!(get_object.num_calls(), 0);
    }
}

#[tokio::test]
async fn failing_get_object_answers_503() {
    for path in [format!("/images/{ID}"), format!("/images/{ID}/content")] {
        let get_item = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
            GetItemOutput::builder()
                .set_item(Some(stored_item()))
                .build()
        });
        let get_object = mock!(aws_sdk_s3::Client::get_object)
            .then_http_response(s3_error(500, "InternalError"));
        let (status, body) = call(s3(&[&get_object]), dynamodb(&[&get_item]), get(&path)).await;
        assert_unavailable(status, &body, &path);
        assert_eq!(get_object.num_calls(), 1);
    }
}

#[tokio::test]
async fn failing_query_answers_503_or_500_without_details() {
    for (status, kind, expected) in [
        (400, "ThrottlingException", 503),
        (400, "ValidationException", 500),
        (400, "ResourceNotFoundException", 500),
    ] {
        let query =
            mock!(aws_sdk_dynamodb::Client::query).then_http_response(dynamodb_error(status, kind));
        let (answer, body) = call(s3(&[]), dynamodb(&[&query]), get("/images")).await;
        assert_eq!(answer, expected, "{kind}");
        assert_eq!(
            body["code"],
            if expected == 503 {
                "upstream_unavailable"
            } else {
                "internal"
            }
        );
        assert_no_leak(&body);
    }
}

fn record_marked() -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|req| {
            req.update_expression()
                .is_some_and(|update| update.contains("#state = :deleting"))
        })
        .then_output(|| UpdateItemOutput::builder().build())
}

#[tokio::test]
async fn failing_to_mark_the_record_keeps_the_object() {
    let update_item = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_http_response(dynamodb_error(500, "InternalServerError"));
    let delete_object = mock!(aws_sdk_s3::Client::delete_object)
        .then_output(|| DeleteObjectOutput::builder().build());
    let (status, body) = call(s3(&[&delete_object]), dynamodb(&[&update_item]), delete()).await;
    assert_unavailable(status, &body, "delete");
    assert_eq!(
        delete_object.num_calls(),
        0,
        "the record still exists, so its object must stay"
    );
}

/// Another owner's id and an id nobody has both fail the one conditional write the same
/// way, and neither reaches S3 (the S3 client here answers nothing).
#[tokio::test]
async fn a_delete_without_an_own_record_is_one_conditional_write_and_no_s3_call() {
    let update_item = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_http_response(dynamodb_error(400, "ConditionalCheckFailedException"));
    let (status, body) = call(s3(&[]), dynamodb(&[&update_item]), delete()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    assert_eq!(update_item.num_calls(), 1);
}

#[tokio::test]
async fn failing_delete_object_is_finished_by_a_repeat() {
    let marked = record_marked();
    let delete_item = mock!(aws_sdk_dynamodb::Client::delete_item)
        .then_output(|| DeleteItemOutput::builder().build());
    let delete_object =
        mock!(aws_sdk_s3::Client::delete_object).then_http_response(s3_error(503, "SlowDown"));
    let (status, body) = call(
        s3(&[&delete_object]),
        dynamodb(&[&marked, &delete_item]),
        delete(),
    )
    .await;
    assert_unavailable(status, &body, "delete");
    assert_eq!(delete_item.num_calls(), 0, "the mark stays for the repeat");

    // The repeat finds the mark, removes the object and the thumbnails, then the mark.
    let marked = record_marked();
    let mark_removed = mock!(aws_sdk_dynamodb::Client::delete_item)
        .match_requests(|req| {
            req.condition_expression() == Some("#state = :state")
                && req
                    .expression_attribute_values()
                    .and_then(|values| values.get(":state"))
                    == Some(&AttributeValue::S("deleting".into()))
        })
        .then_output(|| DeleteItemOutput::builder().build());
    let object_deleted = mock!(aws_sdk_s3::Client::delete_object)
        .match_requests(|req| req.key() == Some(&format!("images/{ID}")))
        .then_output(|| DeleteObjectOutput::builder().build());
    // Whatever thumbnails lie under the image's prefix are deleted.
    let thumbnails_listed = mock!(aws_sdk_s3::Client::list_objects_v2)
        .match_requests(|req| req.prefix() == Some(&format!("thumbnails/{ID}/")))
        .then_output(|| {
            aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output::builder()
                .contents(
                    aws_sdk_s3::types::Object::builder()
                        .key(format!("thumbnails/{ID}/256"))
                        .build(),
                )
                .build()
        });
    let thumbnails_deleted = mock!(aws_sdk_s3::Client::delete_objects)
        .match_requests(|req| {
            req.delete().is_some_and(|batch| {
                batch.objects().len() == 1
                    && batch.objects()[0].key() == format!("thumbnails/{ID}/256")
            })
        })
        .then_output(|| {
            aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput::builder().build()
        });
    let (status, _) = call(
        s3(&[&object_deleted, &thumbnails_listed, &thumbnails_deleted]),
        dynamodb(&[&marked, &mark_removed]),
        delete(),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(object_deleted.num_calls(), 1);
    assert_eq!(thumbnails_deleted.num_calls(), 1);
    assert_eq!(mark_removed.num_calls(), 1);
}

#[tokio::test]
async fn a_malformed_stored_record_is_a_500_not_a_panic() {
    let get_item = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        let mut item = stored_item();
        item.insert("size".into(), AttributeValue::S("ten".into()));
        GetItemOutput::builder().set_item(Some(item)).build()
    });
    let (status, body) = call(
        s3(&[]),
        dynamodb(&[&get_item]),
        get(&format!("/images/{ID}")),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (500, Some("internal")));
}

#[tokio::test]
async fn a_panic_inside_a_handler_becomes_a_500_problem() {
    let get_item =
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| panic!("injected panic"));
    let (status, body) = call(
        s3(&[]),
        dynamodb(&[&get_item]),
        get(&format!("/images/{ID}")),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (500, Some("internal")));
    assert_no_leak(&body);
}
