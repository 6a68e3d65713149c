//! `login` and `logout`, for stacks deployed with `AuthMode=COGNITO`: a password sign-in
//! against Cognito's API (USER_PASSWORD_AUTH), whose refresh token is kept in the user's config
//! directory (mode 0600) and turned into a fresh access token whenever the kept one is about
//! to expire.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::Failure;
use crate::records::{CognitoAnswer, Tokens};

/// An access token this close to its expiry is renewed before use.
const RENEW_BEFORE: Duration = Duration::from_secs(120);

/// One API's sign-in, as kept on disk.
#[derive(Serialize, Deserialize, Clone)]
pub struct Login {
    /// Cognito's API (`https://cognito-idp.{region}.amazonaws.com`, or an emulator).
    pub cognito_endpoint: String,
    pub client_id: String,
    pub username: String,
    pub refresh_token: String,
    pub access_token: String,
    /// Epoch seconds.
    pub expires_at: u64,
}

/// Where the sign-ins are kept: `{config dir}/image-api/credentials.json`, one per API URL.
fn store_path() -> Result<PathBuf, Failure> {
    let dir = dirs::config_dir()
        .ok_or_else(|| Failure::new("no config directory to keep the sign-in in (set HOME)"))?;
    Ok(dir.join("image-api").join("credentials.json"))
}

fn read_all() -> Result<BTreeMap<String, Login>, Failure> {
    let path = store_path()?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Failure::new(format!("{} is not readable: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Failure::new(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes the whole store, readable by its owner only, through a file renamed into place.
fn write_all(logins: &BTreeMap<String, Login>) -> Result<(), Failure> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = store_path()?;
    let fail = |e: std::io::Error| Failure::new(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().expect("a file in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(fail)?;
    let part = path.with_extension("json.part");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&part)
        .map_err(fail)?;
    file.write_all(&serde_json::to_vec_pretty(logins).expect("serialisable"))
        .map_err(fail)?;
    std::fs::rename(&part, &path).map_err(fail)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One call of Cognito's JSON API (unsigned, as its public clients make them).
async fn cognito(
    http: &reqwest::Client,
    endpoint: &str,
    action: &str,
    body: Value,
) -> Result<CognitoAnswer, Failure> {
    let response = http
        .post(format!("{}/", endpoint.trim_end_matches('/')))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .json(&body)
        .send()
        .await
        .map_err(|e| Failure::new(format!("cannot reach Cognito at {endpoint}: {e}")))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let answer: Option<CognitoAnswer> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let answer = answer.unwrap_or_default();
        let why = answer.message.or(answer.kind);
        let why = why.as_deref().unwrap_or("no reason given");
        return Err(Failure::new(format!("Cognito refused: {why} ({status})")));
    }
    answer.ok_or_else(|| Failure::new("an unreadable answer from Cognito"))
}

/// Signs in with a password and keeps the sign-in for `api`. A first sign-in with a temporary
/// password (an administrator made the user) sets the password `new_password` gives.
pub async fn login(
    http: &reqwest::Client,
    api: &str,
    cognito_endpoint: &str,
    client_id: &str,
    username: &str,
    password: &str,
    new_password: impl FnOnce() -> Result<String, Failure>,
) -> Result<(), Failure> {
    let mut answer = cognito(
        http,
        cognito_endpoint,
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
               "AuthParameters": {"USERNAME": username, "PASSWORD": password}}),
    )
    .await?;
    if answer.challenge_name.as_deref() == Some("NEW_PASSWORD_REQUIRED") {
        let new_password = new_password()?;
        answer = cognito(
            http,
            cognito_endpoint,
            "RespondToAuthChallenge",
            json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": client_id,
                   "Session": answer.session,
                   "ChallengeResponses": {"USERNAME": username, "NEW_PASSWORD": new_password}}),
        )
        .await?;
    }
    if let Some(challenge) = answer.challenge_name {
        return Err(Failure::new(format!(
            "Cognito asks for {challenge}, which image-api-cli does not answer (it answers NEW_PASSWORD_REQUIRED only)"
        )));
    }
    let tokens = tokens(answer)?;
    let login = Login {
        cognito_endpoint: cognito_endpoint.trim_end_matches('/').to_owned(),
        client_id: client_id.to_owned(),
        username: username.to_owned(),
        refresh_token: tokens
            .refresh_token
            .ok_or_else(|| Failure::new("Cognito's answer has no RefreshToken"))?,
        access_token: tokens.access_token,
        expires_at: now() + tokens.expires_in,
    };
    let mut logins = read_all()?;
    logins.insert(api.to_owned(), login);
    write_all(&logins)
}

fn tokens(answer: CognitoAnswer) -> Result<Tokens, Failure> {
    answer
        .authentication_result
        .ok_or_else(|| Failure::new("Cognito's answer has no AuthenticationResult"))
}

/// Forgets the sign-in for `api`; whether there was one.
pub fn logout(api: &str) -> Result<bool, Failure> {
    let mut logins = read_all()?;
    let had = logins.remove(api).is_some();
    if had {
        write_all(&logins)?;
    }
    Ok(had)
}

/// An access token for `api` from the kept sign-in, renewed first if it is about to expire;
/// `None` when nobody logged in to it.
pub async fn access_token(http: &reqwest::Client, api: &str) -> Result<Option<String>, Failure> {
    let mut logins = read_all()?;
    let Some(login) = logins.get_mut(api) else {
        return Ok(None);
    };
    if now() + RENEW_BEFORE.as_secs() < login.expires_at {
        return Ok(Some(login.access_token.clone()));
    }
    let answer = cognito(
        http,
        &login.cognito_endpoint,
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": login.client_id,
               "AuthParameters": {"REFRESH_TOKEN": login.refresh_token}}),
    )
    .await
    .map_err(|failure| {
        Failure::new(format!(
            "the sign-in of {} has ended ({failure}): run `image-api-cli login` again",
            login.username
        ))
    })?;
    let tokens = tokens(answer)?;
    login.access_token = tokens.access_token;
    login.expires_at = now() + tokens.expires_in;
    let token = login.access_token.clone();
    write_all(&logins)?;
    Ok(Some(token))
}
