//! The compiled binary and the setup script, run as a user would run them.

use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_dynamodb::types::TableDescription;

use crate::helpers::{create_table, moto_endpoint, png, spawn_app_at};

const BINARY: &str = env!("CARGO_BIN_EXE_image-api");

/// The compiled binary serving HTTP on `addr`, with nothing but the settings given.
fn start_server(
    endpoint: &str,
    bucket: &str,
    table: &str,
    addr: &str,
    extra: &[(&str, &str)],
) -> tokio::process::Child {
    tokio::process::Command::new(BINARY)
        .env_clear()
        .env("BUCKET_NAME", bucket)
        .env("TABLE_NAME", table)
        .env("LOCALSTACK_ENDPOINT", endpoint)
        .env("BIND_ADDR", addr)
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn refuses_to_start_without_required_settings() {
    for (present, missing) in [("TABLE_NAME", "BUCKET_NAME"), ("BUCKET_NAME", "TABLE_NAME")] {
        let output = Command::new(BINARY)
            .env_clear()
            .env(present, "x")
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(missing), "{stderr}");
    }
    let output = Command::new(BINARY)
        .env_clear()
        .env("BUCKET_NAME", "b")
        .env("TABLE_NAME", "t")
        .env("MAX_UPLOAD_BYTES", "lots")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("MAX_UPLOAD_BYTES"));
}

#[tokio::test]
async fn serves_over_http_and_drains_in_flight_requests_on_sigterm() {
    let resources = spawn_app_at(&moto_endpoint(), &[]).await;
    resources.create_resources().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = start_server(
        &moto_endpoint(),
        &resources.bucket,
        &resources.table,
        &addr,
        &[],
    );
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    wait_until_serving(&http, &base).await;

    // An upload whose body is still arriving when SIGTERM lands must complete.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(receiver));
    let upload = tokio::spawn(
        http.post(format!("{base}/images?file_name=slow.png"))
            .header("content-type", "image/png")
            .body(body)
            .send(),
    );
    let image = png(1000);
    sender.send(Ok(image[..500].to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    sender.send(Ok(image[500..].to_vec())).await.unwrap();
    drop(sender);

    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), 201);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

async fn wait_until_serving(http: &reqwest::Client, base: &str) {
    for _ in 0..100 {
        if http
            .get(format!("{base}/images"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the binary never answered at {base}");
}

fn thread_count(child: &tokio::process::Child) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id().unwrap())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no thread count in {status}"))
}

#[tokio::test]
async fn the_http_server_serves_on_one_thread_unless_given_a_pool() {
    let resources = spawn_app_at(&moto_endpoint(), &[]).await;
    resources.create_resources().await;
    let http = reqwest::Client::new();
    for (extra, threads) in [(&[][..], 1), (&[("TOKIO_WORKER_THREADS", "3")][..], 4)] {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = start_server(
            &moto_endpoint(),
            &resources.bucket,
            &resources.table,
            &addr,
            extra,
        );
        let base = format!("http://{addr}");
        wait_until_serving(&http, &base).await;
        // Uploads too: they are what a pool of threads would be woken for.
        for _ in 0..5 {
            let response = http
                .post(format!("{base}/images?file_name=t.png"))
                .header("content-type", "image/png")
                .body(png(2000))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
        assert_eq!(thread_count(&child), threads, "{extra:?}");
    }
}

fn tokio_stream_from<T: Send + 'static>(
    receiver: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

fn run_setup_script(endpoint: &str, bucket: &str, table: &str) -> std::process::Output {
    Command::new("./setup-localstack.sh")
        .env("LOCALSTACK_ENDPOINT", endpoint)
        .env("BUCKET_NAME", bucket)
        .env("TABLE_NAME", table)
        .output()
        .expect("run setup-localstack.sh (the aws CLI must be on PATH: `make test` puts .venv/bin there)")
}

/// The parts of a table description that the code depends on, in a comparable form.
fn shape(table: &TableDescription) -> String {
    let mut attributes: Vec<String> = table
        .attribute_definitions()
        .iter()
        .map(|a| format!("{}:{}", a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    attributes.sort();
    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        schema
            .iter()
            .map(|k| format!("{}:{}", k.attribute_name(), k.key_type().as_str()))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut indexes: Vec<String> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let projection = i
                .projection()
                .and_then(|p| p.projection_type())
                .map(|p| p.as_str().to_owned());
            format!(
                "{}[{}]{:?}",
                i.index_name().unwrap_or_default(),
                keys(i.key_schema()),
                projection
            )
        })
        .collect();
    indexes.sort();
    format!(
        "attributes={attributes:?} key={} indexes={indexes:?}",
        keys(table.key_schema())
    )
}

#[tokio::test]
async fn setup_script_creates_the_tables_the_code_expects_and_is_idempotent() {
    let app = spawn_app_at(&moto_endpoint(), &[]).await;
    for _ in 0..2 {
        let output = run_setup_script(&moto_endpoint(), &app.bucket, &app.table);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    app.s3
        .head_bucket()
        .bucket(&app.bucket)
        .send()
        .await
        .expect("bucket exists");
    let scripted = app
        .dynamodb
        .describe_table()
        .table_name(&app.table)
        .send()
        .await
        .unwrap();
    let scripted = scripted.table().unwrap();
    assert_eq!(scripted.table_status().map(|s| s.as_str()), Some("ACTIVE"));

    let reference = format!("{}-ref", app.table);
    create_table(&app.dynamodb, &reference).await;
    let expected = app
        .dynamodb
        .describe_table()
        .table_name(&reference)
        .send()
        .await
        .unwrap();
    assert_eq!(shape(scripted), shape(expected.table().unwrap()));

    // And the app works on what the script made.
    let created = app.create("scripted.png", &png(3)).await;
    assert!(app.record(created["id"].as_str().unwrap()).await.is_some());
}

#[test]
fn setup_script_fails_clearly_when_nothing_answers() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let output = run_setup_script(&endpoint, "b", "t");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no S3 endpoint answers") && stderr.contains(&endpoint),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_smoke_script_passes_against_the_server() {
    let app = crate::helpers::spawn_app().await;
    let output = tokio::process::Command::new("./scripts/smoke.sh")
        .arg(&app.address)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("smoke test passed"));
}

#[tokio::test]
async fn nothing_touches_the_network_before_the_first_request() {
    // A fake backend that only counts connections.
    let backend = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    backend.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", backend.local_addr().unwrap());
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = start_server(&endpoint, "b", "t", &addr, &[]);
    let mut listening = false;
    for _ in 0..200 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(listening, "the binary never listened on {addr}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        backend.accept().is_err(),
        "the binary called a backend before any request"
    );

    // The first request is what reaches the backend (which never answers; the request is not awaited).
    let request = tokio::spawn(
        reqwest::Client::new()
            .get(format!("http://{addr}/images"))
            .send(),
    );
    let mut connected = false;
    for _ in 0..200 {
        if backend.accept().is_ok() {
            connected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(connected, "the first request never reached the backend");
    request.abort();
    child.kill().await.unwrap();
}
