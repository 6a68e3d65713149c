//! The image resource: `POST` and `GET /images` (upload, list), `GET` and `DELETE
//! /images/{id}` (the record, its content, removal).

pub(crate) mod delete;
pub(crate) mod list;
pub(crate) mod read;
pub(crate) mod upload;
