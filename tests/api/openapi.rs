use crate::helpers::spawn_app_at;

#[tokio::test]
async fn the_served_description_is_the_committed_one() {
    // No storage call is made, so no emulator is needed.
    let app = spawn_app_at("http://127.0.0.1:9", &[]).await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: serde_json::Value = response.json().await.unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/openapi.json").unwrap()).unwrap();
    assert!(
        served == committed,
        "docs/openapi.json is stale: run `make openapi` and commit it"
    );

    assert_eq!(served["openapi"], "3.1.0");
    let operations: Vec<&str> = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for id in [
        "upload_image",
        "list_images",
        "get_image",
        "get_image_content",
        "delete_image",
    ] {
        assert!(operations.contains(&id), "{id} is not described");
    }
    let upload = &served["paths"]["/images"]["post"]["responses"];
    assert_eq!(
        upload["201"]["links"]["GetImage"]["operationId"],
        "get_image"
    );
    for status in ["400", "413", "415", "500", "503"] {
        assert!(
            upload[status]["content"]["application/problem+json"].is_object(),
            "{status}"
        );
    }
}

/// The rules the server enforces that OpenAPI can state are stated, each checked against the
/// server's own answer to a value just past it.
#[tokio::test]
async fn the_description_states_the_rules_the_server_enforces() {
    let document: serde_json::Value =
        serde_json::from_str(&image_api::openapi::default_document()).unwrap();
    let upload = &document["components"]["schemas"]["UploadRequest"];
    assert_eq!(upload["additionalProperties"], false);
    let metadata = &upload["properties"]["metadata"];
    assert_eq!(metadata["propertyNames"]["minLength"], 1);
    assert_eq!(metadata["propertyNames"]["maxLength"], 128);
    assert_eq!(metadata["maxProperties"], 32);
    let file_name = &upload["properties"]["file_name"];
    assert_eq!(
        (
            file_name["minLength"].as_u64(),
            file_name["maxLength"].as_u64()
        ),
        (Some(1), Some(255))
    );
    let pattern = upload["properties"]["content"]["pattern"].as_str().unwrap();
    assert!(
        pattern.starts_with('^') && pattern.ends_with('$'),
        "{pattern}"
    );

    let parameters = document["paths"]["/images"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let parameter = |name: &str| &parameters.iter().find(|p| p["name"] == name).unwrap()["schema"];
    assert_eq!(parameter("limit")["minimum"], 1);
    assert_eq!(parameter("limit")["maximum"], 100);
    assert_eq!(parameter("next_token")["pattern"], "^[A-Za-z0-9_-]+$");
    assert_eq!(parameter("file_name")["minLength"], 1);

    // What the document states is what the server does, at the edges it names.
    let app = crate::helpers::spawn_app().await;
    let png = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crate::helpers::png(8),
    );
    let with_key = |key: &str| serde_json::json!({"file_name": "a.png", "content": png, "metadata": {key: "v"}});
    assert_eq!(
        app.post_json(&with_key(&"k".repeat(128))).await.status(),
        201
    );
    crate::helpers::assert_problem(app.post_json(&with_key("")).await, 400, "invalid_field").await;
    crate::helpers::assert_problem(
        app.post_json(&with_key(&"k".repeat(129))).await,
        400,
        "invalid_field",
    )
    .await;
    crate::helpers::assert_problem(app.get("/images?limit=101").await, 400, "invalid_query").await;
    crate::helpers::assert_problem(app.get("/images?next_token=a!").await, 400, "invalid_token")
        .await;
}

/// The served document states this deployment's direct-upload limit, not S3's ceiling.
#[tokio::test]
async fn the_served_description_states_the_configured_direct_upload_limit() {
    let app = spawn_app_at(
        "http://127.0.0.1:9",
        &[("MAX_DIRECT_UPLOAD_BYTES", "10485760")],
    )
    .await;
    let served: serde_json::Value = app.get_json("/openapi.json").await;
    let size = &served["components"]["schemas"]["CreateUpload"]["properties"]["size"];
    assert_eq!(size["maximum"], 10_485_760, "{size}");
    let committed = &image_api::openapi::default_document();
    let committed: serde_json::Value = serde_json::from_str(committed).unwrap();
    assert_eq!(
        committed["components"]["schemas"]["CreateUpload"]["properties"]["size"]["maximum"],
        image_api::config::DEFAULT_MAX_DIRECT_UPLOAD_BYTES
    );
}
