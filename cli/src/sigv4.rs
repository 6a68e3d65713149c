//! SigV4 for API Gateway's `AWS_IAM` mode, by `aws-sigv4` (the signer the AWS SDKs use).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign as sign_parts};
use aws_sigv4::sign::v4;

/// Why a request could not be signed.
#[derive(Debug)]
pub struct SignError(String);

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot sign the request: {}", self.0)
    }
}

impl std::error::Error for SignError {}

/// Adds the SigV4 headers (`authorization`, `x-amz-date`, and `x-amz-security-token` for
/// temporary credentials) to `request`, whose body is `body`.
pub fn sign(
    request: &mut reqwest::Request,
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), SignError> {
    let failed = |e: &dyn std::fmt::Display| SignError(e.to_string());
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    // The host is signed: reqwest adds it when it sends, so it is named here.
    let host = request
        .url()
        .host_str()
        .map(|host| match request.url().port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        })
        .unwrap_or_default();
    let mut headers: Vec<(String, String)> = vec![("host".into(), host)];
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|e| failed(&e))?;
        headers.push((name.as_str().to_owned(), value.to_owned()));
    }
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.url().as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _signature) = sign_parts(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    for (name, value) in instructions.headers() {
        let name: reqwest::header::HeaderName = name.parse().map_err(|e| failed(&e))?;
        let value = value.parse().map_err(|e| failed(&e))?;
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// The "get-vanilla" and "post-vanilla" cases of AWS's SigV4 test suite
    /// (aws-sig-v4-test-suite): same credentials, time, region and service; the signatures
    /// are the suite's.
    #[test]
    fn signs_as_the_aws_test_suite_says() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test-suite",
        );
        // 2015-08-30T12:36:00Z
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        for (method, signature) in [
            (
                reqwest::Method::GET,
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                reqwest::Method::POST,
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
        ] {
            let url = "https://example.amazonaws.com/".parse().unwrap();
            let mut request = reqwest::Request::new(method.clone(), url);
            sign(
                &mut request,
                b"",
                &credentials,
                "us-east-1",
                "service",
                time,
            )
            .unwrap();
            let authorization = request.headers()["authorization"].to_str().unwrap();
            assert_eq!(
                authorization,
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                     SignedHeaders=host;x-amz-date, Signature={signature}"
                ),
                "{method}"
            );
            assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
        }
    }
}
