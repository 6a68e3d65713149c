use std::collections::HashMap;
use std::net::ToSocketAddrs;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image_api::storage::schema;
use image_api::{AppState, Application, Config};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

mod iam;

/// Small upload limit for tests, so limit tests move kilobytes, not megabytes.
pub const TEST_MAX_UPLOAD: usize = 64 * 1024;

/// The moto server the integration tests run against: `MOTO_ENDPOINT`, checked once to
/// answer, so that a missing emulator is one clear message instead of a storage error deep in
/// some test.
pub fn moto_endpoint() -> String {
    static CHECKED: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let how = "The integration tests need a moto server (S3 and DynamoDB over HTTP): \
               `make test-rust` installs and starts one. By hand: \
               `python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt`, then \
               `./scripts/with-moto.sh cargo test` (or start `.venv/bin/moto_server -p 5000` \
               and set MOTO_ENDPOINT=http://127.0.0.1:5000).";
    CHECKED
        .get_or_init(|| {
            let endpoint = std::env::var("MOTO_ENDPOINT")
                .map_err(|_| format!("MOTO_ENDPOINT is not set. {how}"))?;
            let address = endpoint
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned();
            let answers = address
                .to_socket_addrs()
                .ok()
                .and_then(|mut addrs| addrs.next())
                .is_some_and(|addr| {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
                });
            if answers {
                Ok(endpoint)
            } else {
                Err(format!("MOTO_ENDPOINT={endpoint} does not answer. {how}"))
            }
        })
        .clone()
        .unwrap_or_else(|message| panic!("{message}"))
}

/// A running app on its own port, with its own bucket and table.
#[derive(Clone)]
pub struct TestApp {
    /// The emulator, as the app reaches it.
    pub endpoint: String,
    pub address: String,
    pub state: AppState,
    /// The same router the server runs, for driving it without a socket (Lambda events).
    pub router: axum::Router,
    pub http: reqwest::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub bucket: String,
    pub table: String,
}

pub async fn spawn_app() -> TestApp {
    let app = spawn_app_at(&moto_endpoint(), &[]).await;
    app.create_resources().await;
    app
}

/// An app pointed at `endpoint`, with settings overridden by `extra`; creates nothing.
pub async fn spawn_app_at(endpoint: &str, extra: &[(&str, &str)]) -> TestApp {
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let bucket = format!("test-{suffix}");
    let table = format!("test-{suffix}");
    let max = TEST_MAX_UPLOAD.to_string();
    let mut settings: HashMap<&str, &str> = HashMap::from([
        ("BUCKET_NAME", bucket.as_str()),
        ("TABLE_NAME", table.as_str()),
        ("LOCALSTACK_ENDPOINT", endpoint),
        ("MAX_UPLOAD_BYTES", max.as_str()),
    ]);
    settings.extend(extra.iter().copied());
    let config = Config::from_lookup(|name| settings.get(name).map(|v| v.to_string()))
        .expect("valid test config");
    // `extra` may name another app's bucket and table, to share them.
    let (bucket, table) = (config.bucket_name.clone(), config.table_name.clone());

    let sdk = image_api::sdk::load(&config).await;
    // Under enforced IAM the test itself acts as an administrator, the app as the function.
    let (sdk, app_sdk) = match iam::enforced() {
        None => (sdk.clone(), sdk),
        Some(enforced) => {
            let function = enforced
                .user(endpoint, iam::Role::Function, &bucket, &table)
                .await;
            (
                with_credentials(&sdk, enforced.admin.clone()),
                with_credentials(&sdk, function),
            )
        }
    };
    let s3 = image_api::sdk::s3(&sdk, &config);
    let dynamodb = image_api::sdk::dynamodb(&sdk);
    let application = Application::with_clients(
        config.clone(),
        image_api::sdk::s3(&app_sdk, &config),
        image_api::sdk::dynamodb(&app_sdk),
    )
    .unwrap();
    let (state, router) = (application.state().clone(), application.router());

    // The server the binary runs, with its limits on connections.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(application.serve(listener, std::future::pending()));

    TestApp {
        endpoint: endpoint.to_owned(),
        address,
        state,
        router,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        s3,
        dynamodb,
        bucket,
        table,
    }
}

fn with_credentials(
    sdk: &aws_config::SdkConfig,
    key: aws_credential_types::Credentials,
) -> aws_config::SdkConfig {
    sdk.to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(key))
        .build()
}

/// The table as `setup-localstack.sh` creates it (a test checks the two agree).
pub async fn create_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let index = |name: &str, partition: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(partition, KeyType::Hash))
            .key_schema(key(schema::CREATED_KEY, KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .unwrap()
    };
    dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(schema::ID))
        .attribute_definitions(attribute(schema::OWNER))
        .attribute_definitions(attribute(schema::OWNER_FILE_NAME))
        .attribute_definitions(attribute(schema::CREATED_KEY))
        .key_schema(key(schema::ID, KeyType::Hash))
        .global_secondary_indexes(index(schema::BY_OWNER_INDEX, schema::OWNER))
        .global_secondary_indexes(index(
            schema::BY_OWNER_FILE_NAME_INDEX,
            schema::OWNER_FILE_NAME,
        ))
        .send()
        .await
        .expect("create test table");
}

impl TestApp {
    pub async fn create_resources(&self) {
        self.s3
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .expect("create test bucket");
        create_table(&self.dynamodb, &self.table).await;
    }

    /// The same app, called by whoever `access_token` is (every request of `http` carries it).
    pub fn signed_in(&self, access_token: &str) -> TestApp {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = format!("Bearer {access_token}");
        headers.insert("authorization", value.parse().unwrap());
        TestApp {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .default_headers(headers)
                .build()
                .unwrap(),
            ..self.clone()
        }
    }

    /// A second server on this app's bucket and table, whose images are `owner`'s.
    pub async fn beside(&self, owner: &str) -> TestApp {
        let shared = [
            ("BUCKET_NAME", self.bucket.as_str()),
            ("TABLE_NAME", self.table.as_str()),
            ("IMAGE_OWNER", owner),
        ];
        spawn_app_at(&moto_endpoint(), &shared).await
    }

    /// The owner every image of this app belongs to (no sign-in).
    pub fn owner(&self) -> image_api::domain::Owner {
        self.state.config.owner.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn upload(&self, file_name: &str, bytes: &[u8]) -> Response {
        self.post_json(&json!({"file_name": file_name, "content": STANDARD.encode(bytes)}))
            .await
    }

    /// Uploads and returns the created record, asserting success.
    pub async fn create(&self, file_name: &str, bytes: &[u8]) -> Value {
        let response = self.upload(file_name, bytes).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// `create`, and the id of the image it made.
    pub async fn created_id(&self, file_name: &str, bytes: &[u8]) -> String {
        self.create(file_name, bytes).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn post_json(&self, body: &Value) -> Response {
        self.http
            .post(self.url("/images"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn upload_raw(&self, query: &str, content_type: &str, bytes: Vec<u8>) -> Response {
        self.http
            .post(self.url(&format!("/images{query}")))
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// The JSON body of a GET, whatever its status (the caller's assertions say what it is).
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    pub async fn get_with(&self, path: &str, header: &str, value: impl AsRef<str>) -> Response {
        self.http
            .get(self.url(path))
            .header(header, value.as_ref())
            .send()
            .await
            .unwrap()
    }

    /// Runs the reconcile pass on this app's bucket and table.
    /// Runs the reconcile pass on this app's bucket and table, as an operator would.
    pub async fn reconcile(&self, grace_secs: u64, repair: bool) -> image_api::reconcile::Report {
        let options = image_api::reconcile::Options {
            grace: Duration::from_secs(grace_secs),
            repair,
        };
        image_api::reconcile::run(&self.operator_store().await, &options)
            .await
            .unwrap()
    }

    /// The app's storage as an operator reaches it (`reconcile`, `adopt`): under enforced IAM
    /// with a fresh operator's key, else the app's own.
    pub async fn operator_store(&self) -> image_api::storage::ImageStore {
        use image_api::storage::{Catalog, ImageStore, Objects};

        let Some(operator) = self.operator().await else {
            return self.state.store.clone();
        };
        let sdk = with_credentials(&image_api::sdk::load(&self.state.config).await, operator);
        ImageStore::new(
            Objects::new(image_api::sdk::s3(&sdk, &self.state.config), &self.bucket),
            Catalog::new(image_api::sdk::dynamodb(&sdk), &self.table, self.owner()),
        )
    }

    /// Under enforced IAM, a fresh operator's key (the template's OperatorPolicy).
    async fn operator(&self) -> Option<aws_credential_types::Credentials> {
        let enforced = iam::enforced()?;
        Some(
            enforced
                .user(
                    &self.endpoint,
                    iam::Role::Operator,
                    &self.bucket,
                    &self.table,
                )
                .await,
        )
    }

    /// The environment that gives a subcommand the operator's key (none without IAM).
    pub async fn operator_env(&self) -> Vec<(&'static str, String)> {
        match self.operator().await {
            None => Vec::new(),
            Some(key) => vec![
                ("AWS_ACCESS_KEY_ID", key.access_key_id().to_owned()),
                ("AWS_SECRET_ACCESS_KEY", key.secret_access_key().to_owned()),
            ],
        }
    }

    /// What a delete that failed after its first step leaves: the record marked for deletion
    /// (out of both indexes), its objects still there. Written by hand, as the schema says.
    pub async fn mark_deleting(&self, id: &str) {
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key(schema::ID, AttributeValue::S(id.to_owned()))
            .update_expression("SET #state = :deleting REMOVE #created_key")
            .expression_attribute_names("#state", schema::STATE)
            .expression_attribute_names("#created_key", schema::CREATED_KEY)
            .expression_attribute_values(":deleting", AttributeValue::S(schema::DELETING.into()))
            .send()
            .await
            .unwrap();
    }

    pub async fn delete(&self, id: &str) -> Response {
        self.http
            .delete(self.url(&format!("/images/{id}")))
            .send()
            .await
            .unwrap()
    }

    /// The ids of every object in the bucket, read straight from S3.
    pub async fn object_ids(&self) -> Vec<String> {
        self.keys_under("images/")
            .await
            .into_iter()
            .map(|key| key["images/".len()..].to_owned())
            .collect()
    }

    /// Every key of the bucket under `prefix`.
    pub async fn keys_under(&self, prefix: &str) -> Vec<String> {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect()
    }

    /// The image object's tags, as (key, value) pairs.
    pub async fn tags(&self, id: &str) -> Vec<(String, String)> {
        let output = self
            .s3
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(format!("images/{id}"))
            .send()
            .await
            .unwrap();
        output
            .tag_set()
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect()
    }

    /// The stored object, read straight from S3.
    pub async fn object(&self, id: &str) -> Option<(Vec<u8>, Option<String>)> {
        let output = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(format!("images/{id}"))
            .send()
            .await;
        match output {
            Ok(output) => {
                let content_type = output.content_type.clone();
                Some((output.body.collect().await.unwrap().to_vec(), content_type))
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
            Err(error) => panic!("S3 read failed: {error:?}"),
        }
    }

    /// The stored record, read straight from DynamoDB.
    pub async fn record(
        &self,
        id: &str,
    ) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key(
                schema::ID,
                aws_sdk_dynamodb::types::AttributeValue::S(id.to_owned()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }
}

/// Bytes that sniff as PNG: the signature, then `len` bytes of filler.
pub fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0".to_vec();
    bytes.extend((0..len).map(|i| (i % 251) as u8));
    bytes
}

/// Asserts an RFC 9457 problem document with the given status and code; returns its body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status for expected code {code}"
    );
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    assert!(request_id.is_some(), "every response carries x-request-id");
    assert_eq!(body["request_id"].as_str(), request_id.as_deref(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], format!("urn:image-api:problem:{code}"));
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// The ids of a listing's page, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Stores an image through the storage layer with a chosen creation time, for ordering and
/// date-filter tests that cannot wait for real clocks.
pub async fn seed(app: &TestApp, file_name: &str, created_at: &str) -> String {
    use image_api::domain::{FileName, ImageId, ImageRecord, Metadata, Timestamp};
    use image_api::storage::{Catalog, ImageStore, Objects};

    let store = ImageStore::new(
        Objects::new(app.s3.clone(), &app.bucket),
        Catalog::new(app.dynamodb.clone(), &app.table, app.owner()),
    );
    let bytes = png(8);
    let record = ImageRecord {
        id: ImageId::new(),
        owner: app.owner(),
        file_name: FileName::parse(file_name.to_owned()).unwrap(),
        content_type: imaging::media::MediaType::Png,
        size: bytes.len() as u64,
        created_at: Timestamp::parse_stored(created_at).expect("stored timestamp format"),
        metadata: Metadata::default(),
        // As records written before dimensions were read.
        width: None,
        height: None,
    };
    store.create(&record, bytes.into()).await.unwrap();
    record.id.to_string()
}

/// Direct uploads, as a client does them: plan, PUT the parts to their URLs, complete.
impl TestApp {
    pub async fn plan(&self, file_name: &str, size: usize) -> Value {
        let response = self
            .http
            .post(self.url("/uploads"))
            .json(&json!({"file_name": file_name, "size": size, "metadata": {"camera": "x100"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// PUTs each part's slice of `bytes` to its URL with its headers; returns the parts to
    /// complete with (number and ETag), in order.
    pub async fn send_parts(&self, plan: &Value, bytes: &[u8], skip: &[u64]) -> Value {
        let part_size = plan["part_size"].as_u64().unwrap() as usize;
        let mut completed = Vec::new();
        for part in plan["parts"].as_array().unwrap() {
            let number = part["number"].as_u64().unwrap();
            if skip.contains(&number) {
                continue;
            }
            assert_eq!(part["method"], "PUT");
            let start = (number as usize - 1) * part_size;
            let end = (start + part_size).min(bytes.len());
            // Straight to S3, with nothing of the API's (no `Authorization`).
            let mut request = reqwest::Client::new().put(part["url"].as_str().unwrap());
            for (name, value) in part["headers"].as_object().unwrap() {
                if name != "content-length" {
                    request = request.header(name, value.as_str().unwrap());
                }
            }
            let response = request
                .body(bytes[start..end].to_vec())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{:?}", response.status());
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            completed.push(json!({"number": number, "etag": etag}));
        }
        json!({"parts": completed})
    }

    pub async fn complete(&self, id: &str, parts: &Value) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/uploads/{id}/complete")))
            .json(parts)
            .send()
            .await
            .unwrap()
    }

    pub async fn abort(&self, id: &str) -> reqwest::Response {
        self.http
            .delete(self.url(&format!("/uploads/{id}")))
            .send()
            .await
            .unwrap()
    }
}

/// A JPEG of `width` x `height`, encoded by the `image` crate.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    pixels.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// `jpeg` with an EXIF APP1 segment (little-endian TIFF) whose only tag is the orientation,
/// right after SOI, as cameras write it.
pub fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    imaging::samples::with_orientation(jpeg, orientation, imaging::samples::ByteOrder::Little)
}
