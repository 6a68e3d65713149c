//! What the service and Cognito answer, as types: a field the client needs is read by name
//! once, here, instead of looked up in a JSON value wherever it is used.

use serde::{Deserialize, Serialize};

/// An image record. Fields this client does not show (`metadata`, and any a newer service
/// adds) are kept in `other`, so `list --json` prints records whole.
#[derive(Deserialize, Serialize)]
pub struct Record {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// What `get` needs of a record to name the file it saves.
#[derive(Deserialize)]
pub struct Named {
    pub file_name: String,
    pub content_type: String,
}

/// A page of `GET /images`.
#[derive(Deserialize)]
pub struct Page {
    pub items: Vec<Record>,
    pub next_token: Option<String>,
}

/// The body of `POST /uploads`.
#[derive(Serialize)]
pub struct CreateUpload<'a> {
    pub file_name: &'a str,
    pub size: u64,
}

/// A planned direct upload, as much of it as the client uses.
#[derive(Deserialize)]
pub struct Plan {
    pub id: String,
    pub part_size: u64,
    pub parts: Vec<PlannedPart>,
}

#[derive(Deserialize)]
pub struct PlannedPart {
    pub number: u64,
    pub method: String,
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
}

/// The body of `POST /uploads/{id}/complete`: the ETag of each part sent (none for one part).
#[derive(Serialize)]
pub struct Completion {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<SentPart>,
}

#[derive(Serialize)]
pub struct SentPart {
    pub number: u64,
    pub etag: String,
}

/// An error body: the service's problem document, or API Gateway's `{"message"}`.
#[derive(Deserialize, Default)]
pub struct Problem {
    pub detail: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

/// An answer of Cognito's `InitiateAuth` or `RespondToAuthChallenge`, or its refusal.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CognitoAnswer {
    pub challenge_name: Option<String>,
    pub session: Option<String>,
    pub authentication_result: Option<Tokens>,
    #[serde(rename = "message")]
    pub message: Option<String>,
    #[serde(rename = "__type")]
    pub kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tokens {
    pub access_token: String,
    /// Only a password sign-in gives one; a refresh keeps the one it used.
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: u64,
}
