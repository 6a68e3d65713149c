//! A fault-injecting TCP proxy between the app and the emulator. One request per connection
//! (it answers with `Connection: close`), so each request can be given its own fate:
//! refused, stalled, answered 500/503 without reaching the emulator, or forwarded and then
//! cut off halfway or dropped, which leaves a write applied whose answer never arrives.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Refuse,
    Stall,
    Status500,
    Status503,
    CutResponse,
    DropResponse,
}

pub const ALL_FAULTS: [Fault; 6] = [
    Fault::Refuse,
    Fault::Stall,
    Fault::Status500,
    Fault::Status503,
    Fault::CutResponse,
    Fault::DropResponse,
];

#[derive(Clone, Copy, Debug, Default)]
pub struct Plan {
    /// Fractions of S3 and DynamoDB requests that get a fault.
    pub s3: f64,
    pub dynamodb: f64,
}

pub struct FaultyProxy {
    pub endpoint: String,
    plan: Arc<Mutex<Plan>>,
    pub injected: Arc<AtomicU64>,
}

impl FaultyProxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let injected = Arc::new(AtomicU64::new(0));
        let (shared_plan, counter) = (plan.clone(), injected.clone());
        tokio::spawn(async move {
            let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
            while let Ok((client, _)) = listener.accept().await {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let roll = (seed >> 11) as f64 / (1u64 << 53) as f64;
                let pick = ALL_FAULTS[((seed >> 33) % ALL_FAULTS.len() as u64) as usize];
                let plan = *shared_plan.lock().unwrap();
                let (upstream, counter) = (upstream.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, plan, roll, pick, &counter).await;
                });
            }
        });
        Self {
            endpoint,
            plan,
            injected,
        }
    }

    pub fn set(&self, plan: Plan) {
        *self.plan.lock().unwrap() = plan;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    plan: Plan,
    roll: f64,
    fault: Fault,
    injected: &AtomicU64,
) -> std::io::Result<()> {
    // Read the head, then as much body as Content-Length says.
    let mut request = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let head_end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(i) = find(&request, b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            line.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let dynamodb = header("x-amz-target").is_some_and(|t| t.starts_with("DynamoDB"));
    let fraction = if dynamodb { plan.dynamodb } else { plan.s3 };
    let fault = (roll < fraction).then_some(fault);
    if fault.is_some() {
        injected.fetch_add(1, Ordering::Relaxed);
    }

    match fault {
        Some(Fault::Refuse) => return Ok(()),
        Some(Fault::Stall) => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            return Ok(());
        }
        Some(status @ (Fault::Status500 | Fault::Status503)) => {
            let (code, text) = if status == Fault::Status500 {
                (500, "Internal Server Error")
            } else {
                (503, "Service Unavailable")
            };
            let body = if dynamodb {
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}"#.to_owned()
            } else {
                "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>injected</Message></Error>".to_owned()
            };
            let response = format!(
                "HTTP/1.1 {code} {text}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(response.as_bytes()).await?;
            return client.shutdown().await;
        }
        _ => {}
    }

    // Forward with `Connection: close`, so the emulator's answer ends at EOF.
    let mut forwarded = Vec::with_capacity(request.len() + 32);
    for line in head[..head_end - 4].split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            forwarded.extend_from_slice(line.as_bytes());
            forwarded.extend_from_slice(b"\r\n");
        }
    }
    forwarded.extend_from_slice(b"connection: close\r\n\r\n");
    forwarded.extend_from_slice(&request[head_end..]);
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&forwarded).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;

    match fault {
        Some(Fault::DropResponse) => Ok(()),
        Some(Fault::CutResponse) => {
            client.write_all(&response[..response.len() / 2]).await?;
            client.shutdown().await
        }
        _ => {
            client.write_all(&response).await?;
            client.shutdown().await
        }
    }
}
