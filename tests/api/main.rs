//! Integration tests: the real router over real HTTP, a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod errors;
mod helpers;
mod organizations;
mod persons_add;
mod persons_get;
mod tenants;
mod users;
