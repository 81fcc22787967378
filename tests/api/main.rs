//! Integration tests: the real router over real HTTP, a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod custom_fields;
mod errors;
mod followers;
mod helpers;
mod hostile;
mod isolation;
mod limits;
mod metrics;
mod openapi;
mod openapi_keys;
mod organizations;
mod organizations_full;
mod paging;
mod persons_add;
mod persons_get;
mod persons_v1;
mod persons_v2;
mod races;
mod rate_limits;
mod robustness;
mod search;
mod sorting;
mod tenants;
mod users;
