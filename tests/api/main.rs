//! Black-box tests of the HTTP contract over real HTTP, against a moto server started by
//! `make test` (MOTO_ENDPOINT), plus failure injection with aws-smithy-mocks. One test binary
//! keeps link time down; every test gets its own bucket and table.

mod helpers;

mod cognito;
mod delete;
mod dimensions;
mod edge;
mod faults;
mod hardening;
mod idempotency;
mod lambda;
mod list;
mod mocks;
mod openapi;
mod owners;
mod process;
mod properties;
mod proxy;
mod read;
mod reconcile;
mod resilience;
mod routing;
mod runtime;
mod thumbnail_formats;
mod thumbnails;
mod upload;
mod uploads;
