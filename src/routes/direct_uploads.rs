//! Direct uploads: `POST /uploads` plans one and hands out presigned requests, the client
//! sends the bytes straight to S3, and `POST /uploads/{id}/complete` makes the image.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::extract::Idempotency;
use super::extract::body::read_body;
use super::paths;
use crate::domain::{
    CompleteUpload, CreateUpload, Fingerprint, ImageRecord, NewUpload, Owner, completed_parts,
    inspect,
};
use crate::error::{ApiError, Problem};
use crate::responses::StillRunning;
use crate::state::AppState;
use crate::storage::{Completion, PresignedPart};

/// A plan's body, and a completion's: small JSON documents.
const BODY_LIMIT: usize = 64 * 1024;

/// A planned upload: send each part, then complete.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadPlan {
    /// The upload's id, which becomes the image's.
    #[schema(value_type = String, format = Uuid)]
    id: String,
    /// After this, the URLs no longer work and the upload cannot be completed.
    #[schema(value_type = String, format = DateTime)]
    expires_at: String,
    size: u64,
    /// Every part but the last has this many bytes.
    part_size: u64,
    /// In order. `PUT` each part's bytes to its `url` with exactly its `headers`, and keep the
    /// `ETag` of each answer for `complete`.
    parts: Vec<PresignedPart>,
}

#[utoipa::path(post, path = paths::UPLOADS, operation_id = "create_upload", tag = "uploads",
    params(Idempotency),
    request_body(content = CreateUpload, content_type = "application/json"),
    responses(
        (status = 201, description = "Planned: send the parts, then complete", body = UploadPlan,
            links(
                ("CompleteUpload" = (operation_id = "complete_upload", parameters(("id" = "$response.body#/id")))),
                ("AbortUpload" = (operation_id = "abort_upload", parameters(("id" = "$response.body#/id")))),
            )),
        StillRunning,
        (status = 413, description = "The declared size exceeds MAX_DIRECT_UPLOAD_BYTES", body = Problem),
        (status = 422, description = "The `Idempotency-Key` was used with a different request (`idempotency_key_reused`)", body = Problem),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    idempotency: Idempotency,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let body = read_body(
        body,
        &headers,
        BODY_LIMIT,
        BODY_LIMIT,
        config.client_timeout,
    )
    .await?;
    let new = NewUpload::from_json(&body, config.max_direct_upload_bytes)?;
    let (part_bytes, ttl) = (config.upload_part_bytes, config.upload_ttl);
    let once = idempotency.once(|| Fingerprint::of(&[b"POST", paths::UPLOADS.as_bytes(), &body]));
    let store = &state.store;
    let ticket = match once {
        None => {
            let owner = idempotency.owner;
            store.begin_upload(owner, new, part_bytes, ttl).await?
        }
        Some(request) => {
            store
                .begin_upload_once(request, new, part_bytes, ttl)
                .await?
        }
    };
    let plan = UploadPlan {
        id: ticket.upload.id.to_string(),
        expires_at: ticket.upload.expires_at.to_string(),
        size: ticket.upload.size,
        part_size: ticket.upload.plan.part_size,
        parts: ticket.parts,
    };
    Ok((StatusCode::CREATED, Json(plan)).into_response())
}

#[utoipa::path(post, path = paths::UPLOAD_COMPLETE, operation_id = "complete_upload", tag = "uploads",
    params(paths::UploadPath),
    request_body(content = CompleteUpload, content_type = "application/json",
        description = "The parts and their ETags (may be empty for a one-part upload)"),
    responses(
        (status = 201, description = "The image is made", body = ImageRecord,
            headers(("Location" = String, description = "`/images/{id}` of the new image"))),
        (status = 200, description = "Completed before (a repeat after a lost answer): the same image", body = ImageRecord,
            headers(("Location" = String, description = "`/images/{id}` of the image"))),
        (status = 404, description = "No such upload: never planned, expired, aborted or refused", body = Problem),
        (status = 409, description = "Parts are missing, or the bytes are not the declared size (`upload_incomplete`); the detail says which", body = Problem),
        (status = 415, description = "The bytes are not a supported image; they are deleted", body = Problem),
        (status = 422, description = "The image's header declares more than MAX_PIXELS pixels, or cannot be read; the bytes are deleted", body = Problem),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    owner: Owner,
    paths::UploadPath { id }: paths::UploadPath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let timeout = state.config.client_timeout;
    let body = read_body(body, &headers, BODY_LIMIT, BODY_LIMIT, timeout).await?;
    let parts = completed_parts(&body)?;
    let max_pixels = state.config.max_pixels;
    let judge = move |head: &[u8]| inspect(head, max_pixels);
    let (status, record) = match state
        .store
        .complete_upload(&owner, id, parts, judge)
        .await?
    {
        Completion::Created(record) => (StatusCode::CREATED, record),
        Completion::Already(record) => (StatusCode::OK, record),
    };
    Ok((
        status,
        [(header::LOCATION, paths::image(record.id))],
        Json(record),
    )
        .into_response())
}

#[utoipa::path(delete, path = paths::UPLOAD, operation_id = "abort_upload", tag = "uploads",
    params(paths::UploadPath),
    responses(
        (status = 204, description = "Aborted, or nothing to abort: its bytes and its plan are gone"),
        (status = 409, description = "The upload is completed (`upload_completed`): delete the image instead", body = Problem),
    )
)]
pub async fn abort(
    State(state): State<AppState>,
    owner: Owner,
    paths::UploadPath { id }: paths::UploadPath,
) -> Result<StatusCode, ApiError> {
    state.store.abort_upload(&owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
