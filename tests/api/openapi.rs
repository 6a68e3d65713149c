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
