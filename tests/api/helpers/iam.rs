//! The suites under IAM as AWS enforces it (`make test-iam`, scripts/test-iam.sh): moto then
//! authorises every request against the policy of the user whose key signed it. Each app gets
//! its own IAM user whose inline policy is the function role's policy from template.yaml,
//! resolved to that app's bucket and table; setup and inspection use an administrator's key,
//! and `reconcile` an operator's, with the template's OperatorPolicy.
//!
//! What moto cannot check, and so this does not:
//! - DynamoDB resource ARNs: moto authorises DynamoDB actions against `*`, which no table ARN
//!   matches, so `${ImagesTable.Arn}` is resolved to `*`: a policy naming the wrong table (or
//!   index) passes here. The DynamoDB actions are checked.
//! - Condition keys: moto passes no request context to conditions, so a statement with a
//!   `Condition` never matches (it denies).
//! - A read of a missing key: real S3 answers 403 instead of 404 without `s3:ListBucket`;
//!   moto answers 404. Listing (a delete's thumbnails) does need it here, so its absence fails.
//! - Presigned URLs: moto checks no signature, expiry or signed header of a presigned request,
//!   nor the signer's permissions (the unit tests of the signing code check the URLs).
//! - The bucket policy (TLS only) and the role's trust policy: there is no role here, only a
//!   user with the role's policy.

use std::sync::OnceLock;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::Value;

/// Set by scripts/test-iam.sh: `IAM_TEST_ADMIN_KEY` (`id:secret`) and `IAM_TEST_POLICIES` (the
/// file scripts/template_policies.py wrote).
pub struct Enforced {
    pub admin: Credentials,
    policies: Value,
}

/// The IAM settings of this run, if IAM is enforced.
pub fn enforced() -> Option<&'static Enforced> {
    static ENFORCED: OnceLock<Option<Enforced>> = OnceLock::new();
    ENFORCED
        .get_or_init(|| {
            let key = std::env::var("IAM_TEST_ADMIN_KEY").ok()?;
            let (id, secret) = key
                .split_once(':')
                .expect("IAM_TEST_ADMIN_KEY is id:secret");
            let path = std::env::var("IAM_TEST_POLICIES")
                .expect("IAM_TEST_POLICIES with IAM_TEST_ADMIN_KEY");
            let policies = serde_json::from_slice(&std::fs::read(&path).expect("policies file"))
                .expect("policies JSON");
            Some(Enforced {
                admin: Credentials::new(id, secret, None, None, "iam-test-admin"),
                policies,
            })
        })
        .as_ref()
}

const REGION: &str = "us-east-1";

/// Which of the template's policies a user gets.
#[derive(Clone, Copy)]
pub enum Role {
    Function,
    Operator,
}

impl Enforced {
    /// A fresh IAM user with `role`'s policy for this bucket and table; its key.
    pub async fn user(&self, endpoint: &str, role: Role, bucket: &str, table: &str) -> Credentials {
        let name = format!(
            "{}-{}",
            match role {
                Role::Function => "function",
                Role::Operator => "operator",
            },
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let mut policy = self.policies[match role {
            Role::Function => "function",
            Role::Operator => "operator",
        }]
        .clone();
        for statement in policy["Statement"].as_array_mut().expect("statements") {
            statement["Resource"] = resolve(&statement["Resource"], bucket);
        }
        let policy = policy.to_string();
        let _ = table;
        assert!(
            !policy.contains("${"),
            "a reference left unresolved: {policy}"
        );
        self.call(endpoint, &[("Action", "CreateUser"), ("UserName", &name)])
            .await;
        self.call(
            endpoint,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", &name),
                ("PolicyName", "template"),
                ("PolicyDocument", &policy),
            ],
        )
        .await;
        let created = self
            .call(
                endpoint,
                &[("Action", "CreateAccessKey"), ("UserName", &name)],
            )
            .await;
        let field = |tag: &str| {
            let open = format!("<{tag}>");
            let start = created.find(&open).expect(tag) + open.len();
            let end = start + created[start..].find('<').expect(tag);
            created[start..end].to_owned()
        };
        Credentials::new(
            field("AccessKeyId"),
            field("SecretAccessKey"),
            None,
            None,
            "iam-test",
        )
    }

    /// One IAM query-API call, signed with the administrator's key; its answer's body.
    async fn call(&self, endpoint: &str, params: &[(&str, &str)]) -> String {
        let mut form = url_form(params);
        form.push_str("&Version=2010-05-08");
        let url = format!("{}/", endpoint.trim_end_matches('/'));
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let identity = self.admin.clone().into();
        let signing = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("iam")
            .time(SystemTime::now())
            .settings(signing_settings())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            [("content-type", content_type)].into_iter(),
            SignableBody::Bytes(form.as_bytes()),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &signing).unwrap().into_parts();
        let mut request = reqwest::Client::new()
            .post(&url)
            .header("content-type", content_type);
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        let response = request.body(form).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "IAM call answered {status}: {body}");
        body
    }
}

/// A statement's `Resource`, its references resolved: the bucket's ARN to this bucket's, and
/// the table's (and its indexes') to `*`, since moto authorises DynamoDB calls as if on resource
/// `*`, which no table ARN matches (see the list above).
fn resolve(resource: &Value, bucket: &str) -> Value {
    let one = |value: &Value| {
        let text = value.as_str().expect("a resource is a string");
        if text.starts_with("${ImagesTable.Arn}") {
            "*".to_owned()
        } else {
            text.replace("${ImagesBucket.Arn}", &format!("arn:aws:s3:::{bucket}"))
        }
    };
    match resource {
        Value::Array(items) => {
            let mut resolved: Vec<String> = items.iter().map(one).collect();
            resolved.dedup();
            Value::from(resolved)
        }
        single => Value::from(one(single)),
    }
}

/// With the body's hash in `x-amz-content-sha256`: moto re-signs the form it parsed, not the
/// bytes sent, and takes the hash from that header when there is one.
fn signing_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    settings
}

fn url_form(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(name, value)| {
            format!(
                "{name}={}",
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
