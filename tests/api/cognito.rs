//! Sign-in with Cognito, against moto's `cognito-idp`: real user pools, app clients, users and
//! RS256 access tokens, and the server verifying them itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, assert_problem, moto_endpoint, spawn_app_at};
use crate::owners::assert_isolated;

/// One call of Cognito's JSON API (moto checks no signature, as a page's calls carry none).
pub async fn cognito(action: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(moto_endpoint())
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{action}: {status} {answer}");
    answer
}

pub struct Pool {
    pub id: String,
    pub client: String,
}

impl Pool {
    pub async fn create() -> Pool {
        let name = format!("pool-{}", uuid::Uuid::new_v4().simple());
        let pool = cognito("CreateUserPool", json!({"PoolName": name})).await;
        let id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
        let client = Self::client_of(&id).await;
        Pool { id, client }
    }

    /// Another app client of the pool.
    async fn client_of(pool: &str) -> String {
        let client = cognito(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "test",
                   "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
        client["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn add_user(&self, name: &str, password: &str) {
        cognito(
            "AdminCreateUser",
            json!({"UserPoolId": self.id, "Username": name, "MessageAction": "SUPPRESS"}),
        )
        .await;
        cognito(
            "AdminSetUserPassword",
            json!({"UserPoolId": self.id, "Username": name, "Password": password, "Permanent": true}),
        )
        .await;
    }

    /// `AuthenticationResult` of a password sign-in through `client`.
    pub async fn sign_in_with(&self, client: &str, name: &str, password: &str) -> Value {
        let answer = cognito(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": name, "PASSWORD": password}}),
        )
        .await;
        answer["AuthenticationResult"].clone()
    }

    pub async fn access_token(&self, name: &str, password: &str) -> String {
        self.sign_in_with(&self.client, name, password).await["AccessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn issuer(&self) -> String {
        format!("https://cognito-idp.us-east-1.amazonaws.com/{}", self.id)
    }
}

/// An app that accepts the access tokens of `pool`'s app client, its keys read from the
/// emulator because `COGNITO_ENDPOINT` says so.
pub async fn spawn_signed_in_app(pool: &Pool) -> TestApp {
    let app = spawn_app_at(
        &moto_endpoint(),
        &[
            ("COGNITO_USER_POOL_ID", &pool.id),
            ("COGNITO_CLIENT_IDS", &pool.client),
            ("COGNITO_ENDPOINT", &moto_endpoint()),
        ],
    )
    .await;
    app.create_resources().await;
    app
}

/// Tokens no server should accept, each wrong in one way, for `pool` and the user of `access`
/// (tests/support/forge_tokens.py).
fn forge(pool: &Pool, access: &str) -> serde_json::Map<String, Value> {
    let given = json!({"issuer": pool.issuer(), "client_id": pool.client,
                       "sub": claims_of(access)["sub"]});
    let venv = std::env::var("VENV").unwrap_or_else(|_| ".venv".into());
    let output = std::process::Command::new(format!("{venv}/bin/python"))
        .arg("tests/support/forge_tokens.py")
        .arg(given.to_string())
        .output()
        .expect("python from the test venv");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn two_signed_in_users_never_reach_each_others_images() {
    let pool = Pool::create().await;
    pool.add_user("alice", "Alice-Passw0rd!").await;
    pool.add_user("bob", "Bob-Passw0rd!").await;
    let app = spawn_signed_in_app(&pool).await;
    let alice = app.signed_in(&pool.access_token("alice", "Alice-Passw0rd!").await);
    let bob = app.signed_in(&pool.access_token("bob", "Bob-Passw0rd!").await);
    assert_isolated(&alice, &bob).await;
}

async fn assert_unauthorized(response: reqwest::Response, what: &str) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{what}"
    );
    let problem = assert_problem(response, 401, "unauthorized").await;
    eprintln!("{what}: {}", problem["detail"]);
}

#[tokio::test]
async fn every_missing_forged_or_wrong_token_gets_401() {
    let pool = Pool::create().await;
    pool.add_user("carol", "Carol-Passw0rd!").await;
    let app = spawn_signed_in_app(&pool).await;
    let signed_in = pool
        .sign_in_with(&pool.client, "carol", "Carol-Passw0rd!")
        .await;
    let access = signed_in["AccessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        app.signed_in(&access).get("/images").await.status(),
        StatusCode::OK
    );

    // No token, on every route; the page, its assets and the API description stay open.
    let id = uuid::Uuid::new_v4();
    for (method, path) in [
        ("GET", "/images".to_owned()),
        ("POST", "/images".to_owned()),
        ("GET", format!("/images/{id}")),
        ("DELETE", format!("/images/{id}")),
        ("GET", format!("/images/{id}/content")),
        ("GET", format!("/images/{id}/thumbnail?size=64")),
        // Who the caller is comes first: a bad query is not judged for a stranger.
        ("GET", format!("/images/{id}/thumbnail?size=7")),
        ("GET", "/images?limit=0".to_owned()),
        ("POST", "/uploads".to_owned()),
        ("DELETE", format!("/uploads/{id}")),
        ("POST", format!("/uploads/{id}/complete")),
    ] {
        let request = app
            .http
            .request(method.parse().unwrap(), app.url(&path))
            .header("content-type", "application/json")
            .body("{}");
        assert_unauthorized(request.send().await.unwrap(), &format!("{method} {path}")).await;
    }
    for open in ["/", "/assets/app.js", "/openapi.json"] {
        assert_eq!(app.get(open).await.status(), StatusCode::OK, "{open}");
    }
    for header in [
        "Basic YWxpY2U6cGFzcw==",
        "Bearer",
        "Bearer    ",
        "token abc",
    ] {
        let response = app.get_with("/images", "authorization", header).await;
        assert_unauthorized(response, header).await;
    }

    // Real tokens that are not this API's: another pool's, another client's, an id token.
    let other_pool = Pool::create().await;
    other_pool.add_user("carol", "Carol-Passw0rd!").await;
    let foreign = other_pool.access_token("carol", "Carol-Passw0rd!").await;
    let other_client = Pool::client_of(&pool.id).await;
    let wrong_client = pool
        .sign_in_with(&other_client, "carol", "Carol-Passw0rd!")
        .await["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_token = signed_in["IdToken"].as_str().unwrap().to_owned();
    for (what, token) in [
        ("another pool's", foreign),
        ("another client's", wrong_client),
        ("an id token", id_token),
        ("garbage", "not.a.token".to_owned()),
        ("far too long", format!("{}.e30.x", "e".repeat(9_000))),
    ] {
        assert_unauthorized(app.signed_in(&token).get("/images").await, what).await;
    }

    // Forged ones, signed with moto's own key where a signature is needed, each wrong in one
    // way; `well_formed` is the control that proves the rest fail for their fault alone.
    let forged = forge(&pool, &access);
    assert!(forged.len() >= 14, "{forged:?}");
    for (what, token) in &forged {
        let response = app.signed_in(token.as_str().unwrap()).get("/images").await;
        if what == "well_formed" {
            assert_eq!(response.status(), StatusCode::OK, "{what}");
        } else {
            assert_unauthorized(response, what).await;
        }
    }
}

/// Serves `document` at any path, counting the requests (the pool's key set, as Cognito would).
async fn key_set_server(document: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            counted.fetch_add(1, Ordering::SeqCst);
            let document = document.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    document.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.write_all(&document).await;
            });
        }
    });
    (address, count)
}

/// The keys are fetched once and kept; tokens naming a key the pool does not have do not make
/// the function fetch them again within the minute; and with no keys to be had, a token gets
/// a prompt 503 (a missing one still its 401).
/// The S3 and DynamoDB emulator's address is not where keys come from: without
/// `COGNITO_ENDPOINT` they are fetched from Cognito itself (unreachable here, and without this
/// emulator's pool anyway), so a token the emulator signed, valid in every other way, is refused.
#[tokio::test]
async fn a_valid_emulator_token_is_refused_when_only_the_emulator_endpoint_is_set() {
    let pool = Pool::create().await;
    pool.add_user("erin", "Erin-Passw0rd!").await;
    let access = pool.access_token("erin", "Erin-Passw0rd!").await;
    let trusted = spawn_signed_in_app(&pool).await;
    assert_eq!(
        trusted.signed_in(&access).get("/images").await.status(),
        StatusCode::OK
    );

    let emulator_only = spawn_app_at(
        &moto_endpoint(),
        &[
            ("COGNITO_USER_POOL_ID", &pool.id),
            ("COGNITO_CLIENT_IDS", &pool.client),
        ],
    )
    .await;
    emulator_only.create_resources().await;
    let refused = emulator_only.signed_in(&access).get("/images").await;
    assert_problem(refused, 503, "upstream_unavailable").await;
}

#[tokio::test]
async fn the_key_set_is_fetched_once_and_not_on_every_unknown_key() {
    let pool = Pool::create().await;
    pool.add_user("dana", "Dana-Passw0rd!").await;
    let access = pool.access_token("dana", "Dana-Passw0rd!").await;
    let jwks = reqwest::get(format!(
        "{}/{}/.well-known/jwks.json",
        moto_endpoint(),
        pool.id
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap()
    .to_vec();
    let (keys_at, fetches) = key_set_server(jwks).await;
    let app = spawn_app_at(
        &moto_endpoint(),
        &[
            ("COGNITO_USER_POOL_ID", &pool.id),
            ("COGNITO_CLIENT_IDS", &pool.client),
            ("COGNITO_ENDPOINT", &keys_at),
        ],
    )
    .await;
    app.create_resources().await;
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "fetched when first needed"
    );
    let dana = app.signed_in(&access);
    assert_eq!(dana.get("/images").await.status(), StatusCode::OK);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let unknown = forge(&pool, &access)["unknown_key"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..5 {
        assert_unauthorized(app.signed_in(&unknown).get("/images").await, "unknown key").await;
    }
    assert_eq!(dana.get("/images").await.status(), StatusCode::OK);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "no fetch per unknown key"
    );

    let nowhere = spawn_app_at(
        &moto_endpoint(),
        &[
            ("COGNITO_USER_POOL_ID", &pool.id),
            ("COGNITO_CLIENT_IDS", &pool.client),
            ("COGNITO_ENDPOINT", "http://127.0.0.1:9"),
        ],
    )
    .await;
    let started = std::time::Instant::now();
    let refused = nowhere.signed_in(&access).get("/images").await;
    assert_problem(refused, 503, "upstream_unavailable").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_unauthorized(nowhere.get("/images").await, "no token").await;
}
