//! The user pool's public keys: fetched when first needed, kept, and fetched again when a
//! token names a key they lack (Cognito rotates keys), at most once a minute, so that tokens
//! with made-up key ids cannot make the function hammer Cognito.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::token::Keys;
use crate::storage::BoxError;

/// A key set is a few kilobytes; a larger answer is not one.
const MAX_JWKS_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long a failed fetch is remembered while no keys are held: requests meanwhile get their
/// 503 at once instead of each waiting out a fetch of its own, one after another.
const FAILURE_MEMORY: Duration = Duration::from_secs(5);

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct KeySet {
    url: String,
    client: Client<Https, Empty<bytes::Bytes>>,
    keys: RwLock<Arc<Keys>>,
    /// When the keys were last fetched (or tried), held across the fetch so that one request
    /// fetches while the others wait for its result.
    fetched: tokio::sync::Mutex<Option<Instant>>,
    /// When a fetch last failed with no keys held (kept under `fetched`'s lock).
    failed: std::sync::Mutex<Option<Instant>>,
    /// `MIN_REFETCH_INTERVAL`, but for tests.
    refetch_after: Duration,
}

impl KeySet {
    pub fn new(url: String) -> Result<Self, BoxError> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        // The machine's trusted roots, needed only for https: an emulator's plain http key set
        // works where there are none (the stand-in image `sam local` runs in).
        let builder = if url.starts_with("https://") {
            builder.with_provider_and_native_roots(provider)?
        } else {
            builder.with_tls_config(
                rustls::ClientConfig::builder_with_provider(provider.into())
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )
        };
        let connector = builder.https_or_http().enable_http1().build();
        Ok(Self {
            url,
            client: Client::builder(TokioExecutor::new()).build(connector),
            keys: RwLock::new(Arc::new(Keys::default())),
            fetched: tokio::sync::Mutex::new(None),
            failed: std::sync::Mutex::new(None),
            refetch_after: MIN_REFETCH_INTERVAL,
        })
    }

    /// The keys held now (none before the first fetch).
    pub fn current(&self) -> Arc<Keys> {
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Keys that hold `kid` if the pool has it. Fetches when they do not and the last fetch
    /// is more than a minute old; errs only when no keys at all could be had.
    pub async fn with(&self, kid: &str) -> Result<Arc<Keys>, BoxError> {
        let keys = self.current();
        if keys.has(kid) {
            return Ok(keys);
        }
        let mut fetched = self.fetched.lock().await;
        let keys = self.current();
        let recent = fetched.is_some_and(|at| at.elapsed() < self.refetch_after);
        if keys.has(kid) || recent {
            return Ok(keys);
        }
        let failed = *self.failed.lock().unwrap_or_else(|e| e.into_inner());
        if keys.is_empty() && failed.is_some_and(|at| at.elapsed() < FAILURE_MEMORY) {
            return Err("the key set could not be fetched a moment ago".into());
        }
        *fetched = Some(Instant::now());
        match self.fetch().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&fresh);
                Ok(fresh)
            }
            Err(error) if keys.is_empty() => {
                // Nothing to check with: a request after FAILURE_MEMORY tries again.
                *fetched = None;
                *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                Err(error)
            }
            Err(error) => {
                tracing::warn!(%error, "could not refresh the user pool's keys; keeping the ones held");
                Ok(keys)
            }
        }
    }

    async fn fetch(&self) -> Result<Keys, BoxError> {
        let request = hyper::Request::get(&self.url).body(Empty::new())?;
        let body = tokio::time::timeout(FETCH_TIMEOUT, async {
            let response = self.client.request(request).await?;
            if !response.status().is_success() {
                return Err(format!("the key set answered {}", response.status()).into());
            }
            let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await?;
            Ok::<_, BoxError>(body.to_bytes())
        })
        .await
        .map_err(|_| "the key set did not answer in time")??;
        let keys = Keys::from_jwks(&body)?;
        tracing::info!(keys = keys.len(), url = %self.url, "fetched the user pool's keys");
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const MOTO_KEYS: &str = include_str!("../../fuzz/jwks/moto-public.json");

    /// Serves moto's key set under kid `first`, and from the second request on also under kid
    /// `rotated`, as a pool that has rotated its keys; counts the requests.
    async fn rotating_key_set() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/pool/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let served = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&served);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head).await;
                let first = MOTO_KEYS.replace("\"dummy\"", "\"first\"");
                let body = if n == 0 {
                    first
                } else {
                    let set: serde_json::Value = serde_json::from_str(&first).unwrap();
                    let mut rotated = set["keys"][0].clone();
                    rotated["kid"] = "rotated".into();
                    serde_json::json!({"keys": [set["keys"][0].clone(), rotated]}).to_string()
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (url, served)
    }

    /// A key set that accepts connections and never answers, counting them.
    async fn silent_key_set() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/pool/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn a_failed_fetch_is_remembered_so_concurrent_requests_do_not_queue_behind_fetches() {
        let (url, accepted) = silent_key_set().await;
        let keys = Arc::new(KeySet::new(url).unwrap());
        assert!(
            keys.with("dummy").await.is_err(),
            "the first fetch times out"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        let started = Instant::now();
        let requests: Vec<_> = (0..8)
            .map(|_| {
                let keys = Arc::clone(&keys);
                tokio::spawn(async move { keys.with("dummy").await.is_err() })
            })
            .collect();
        for request in requests {
            assert!(
                request.await.unwrap(),
                "refused while the failure is remembered"
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "no fetch of their own");
        // Far below one fetch's timeout; without the memory they took eight of them in turn.
        assert!(
            started.elapsed() < FETCH_TIMEOUT / 2,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_key_the_set_lacks_fetches_the_set_again_once_the_interval_has_passed() {
        for (interval, refetched) in [(Duration::ZERO, true), (MIN_REFETCH_INTERVAL, false)] {
            let (url, served) = rotating_key_set().await;
            let mut keys = KeySet::new(url).unwrap();
            keys.refetch_after = interval;
            assert!(keys.with("first").await.unwrap().has("first"));
            assert!(keys.with("first").await.unwrap().has("first"));
            assert_eq!(served.load(Ordering::SeqCst), 1, "kept once fetched");
            let after_rotation = keys.with("rotated").await.unwrap();
            assert_eq!(after_rotation.has("rotated"), refetched, "{interval:?}");
            assert_eq!(served.load(Ordering::SeqCst), 1 + usize::from(refetched));
        }
    }
}
