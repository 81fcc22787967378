//! Pipedrive's rate limits: the headers on every response, the rolling burst window per token,
//! the daily token budget per company, and the 429s, all on a clock the test moves.

use std::sync::Arc;

use pipestack::api::rate_limit::{ManualClock, RateLimiter, RateLimits};
use pipestack::setup;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Resp, TestApp};

/// 2026-11-27 12:00:00 UTC.
const NOON: u64 = 1_795_780_800_000;
const DAY: u64 = 86_400_000;

async fn limited(limits: RateLimits) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(NOON));
    let c = clock.clone();
    let app =
        TestApp::spawn_with(move |o| o.rate_limiter = Some(RateLimiter::new(limits, c))).await;
    (app, clock)
}

fn small() -> RateLimits {
    RateLimits {
        burst_limit: 3,
        search_burst_limit: 2,
        burst_window_secs: 2,
        daily_tokens_per_seat: 100,
    }
}

#[track_caller]
fn header(r: &Resp, name: &str) -> String {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

#[track_caller]
fn assert_limits(r: &Resp, limit: u32, remaining: u32, reset: u64, daily: u64, left: u64) {
    assert_eq!(header(r, "x-ratelimit-limit"), limit.to_string());
    assert_eq!(header(r, "x-ratelimit-remaining"), remaining.to_string());
    assert_eq!(header(r, "x-ratelimit-reset"), reset.to_string());
    assert_eq!(
        header(r, "x-daily-ratelimit-token-limit"),
        daily.to_string()
    );
    assert_eq!(
        header(r, "x-daily-ratelimit-token-remaining"),
        left.to_string()
    );
}

#[tokio::test]
async fn rate_limits_are_off_by_default() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v2/persons").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("x-ratelimit-limit").is_none());
    assert!(r.headers.get("x-daily-ratelimit-token-limit").is_none());
}

#[tokio::test]
async fn every_response_carries_the_headers_and_each_operation_its_cost() {
    let (app, _clock) = limited(small()).await;
    // v2 list costs 10 of the daily budget (100 × one seat).
    let r = app.get("/api/v2/persons").await;
    assert_eq!(r.status, 200);
    assert_limits(&r, 3, 2, 2, 100, 90);
    // A v1 get costs 2, and errors are charged and carry the headers too.
    let r = app.get("/v1/persons/0").await;
    r.assert_error(400, "id");
    assert_limits(&r, 3, 1, 2, 100, 88);
    // A v2 get by id costs 1.
    let r = app.get("/api/v2/persons/999").await;
    assert_eq!(r.status, 404);
    assert_limits(&r, 3, 0, 2, 100, 87);
    // A v1 list costs 20 (a new window after 2 s).
    _clock.advance_ms(2000);
    let r = app.get("/v1/persons").await;
    assert_eq!(r.status, 200);
    assert_limits(&r, 3, 2, 2, 100, 67);
}

#[tokio::test]
async fn the_burst_window_rolls_and_429s_say_when_to_retry() {
    let (app, clock) = limited(small()).await;
    for remaining in [2, 1] {
        let r = app.get("/api/v2/persons/1").await;
        assert_eq!(header(&r, "x-ratelimit-remaining"), remaining.to_string());
        clock.advance_ms(500);
    }
    // Third request at t=1.0 s: the window is full after it.
    let r = app.get("/api/v2/persons/1").await;
    assert_limits(&r, 3, 0, 1, 100, 97);
    // The fourth is refused: the first request leaves the window at t=2.0 s.
    let r = app.get("/api/v2/persons/1").await;
    r.assert_error(429, "at most 3 requests per 2 s");
    assert_eq!(header(&r, "retry-after"), "1");
    assert_limits(&r, 3, 0, 1, 100, 97);
    // A refused request costs nothing, and neither does a write that was refused.
    let r = app
        .post("/api/v2/persons", &json!({"name": "Refused"}))
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(app.count_rows("persons").await, 0);
    clock.advance_ms(999);
    let r = app.get("/api/v2/persons/1").await;
    assert_eq!(r.status, 429, "still inside the window");
    clock.advance_ms(1);
    let r = app.get("/api/v2/persons/1").await;
    assert_eq!(r.status, 404, "the oldest request left the window");
    assert_limits(&r, 3, 0, 1, 100, 96);
}

#[tokio::test]
async fn search_has_its_own_lower_limit() {
    let (app, _clock) = limited(small()).await;
    for _ in 0..2 {
        let r = app.get("/api/v2/persons/search?term=abc").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(header(&r, "x-ratelimit-limit"), "2");
    }
    let r = app.get("/v1/persons/search?term=abc").await;
    r.assert_error(429, "at most 2 search requests per 2 s");
    // Other requests still have their own window.
    let r = app.get("/api/v2/persons").await;
    assert_eq!(r.status, 200);
    assert_limits(&r, 3, 2, 2, 100, 50);
}

#[tokio::test]
async fn one_token_exhausted_does_not_limit_another() {
    let (app, _clock) = limited(small()).await;
    let other = setup::add_user(app.store.as_ref(), app.company.id, "Other", "o@x.io")
        .await
        .unwrap();
    let (_, foreign) = app.other_company("Foreign").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v2/persons/1").await.status, 404);
    }
    assert_eq!(app.get("/api/v2/persons/1").await.status, 429);
    // Same company, another token: its own window (the daily budget is the company's).
    let r = app.get_as(&other.api_token, "/api/v2/persons/1").await;
    assert_eq!(r.status, 404);
    assert_limits(&r, 3, 2, 2, 200, 196);
    let r = app.get_as(&foreign.api_token, "/api/v2/persons/1").await;
    assert_eq!(r.status, 404);
    assert_limits(&r, 3, 2, 2, 100, 99);
}

#[tokio::test]
async fn the_daily_budget_is_the_companys_and_resets_at_midnight_utc() {
    let (app, clock) = limited(RateLimits {
        burst_limit: 1000,
        ..small()
    })
    .await;
    let (_, foreign) = app.other_company("Foreign").await;
    // 100 tokens: ten v2 lists.
    for i in 0..10 {
        let r = app.get("/api/v2/persons").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            header(&r, "x-daily-ratelimit-token-remaining"),
            (90 - 10 * i).to_string()
        );
    }
    let r = app.get("/api/v2/persons").await;
    r.assert_error(429, "Daily token budget exhausted");
    // Noon to midnight: 12 hours.
    assert_eq!(header(&r, "retry-after"), (12 * 3600).to_string());
    assert_eq!(header(&r, "x-daily-ratelimit-token-remaining"), "0");
    // Another company is untouched.
    let r = app.get_as(&foreign.api_token, "/api/v2/persons").await;
    assert_eq!(r.status, 200);
    // A second before midnight: still exhausted. At midnight: a new budget.
    clock.set_ms(NOON + 12 * 3600 * 1000 - 1000);
    assert_eq!(app.get("/api/v2/persons").await.status, 429);
    clock.set_ms(NOON - 12 * 3600 * 1000 + DAY);
    let r = app.get("/api/v2/persons").await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "x-daily-ratelimit-token-remaining"), "90");
}

#[tokio::test]
async fn unauthenticated_requests_are_not_charged() {
    let (app, _clock) = limited(small()).await;
    for _ in 0..5 {
        let r = app.call(Method::GET, "/api/v2/persons", None, None).await;
        r.assert_error(401, "unauthorized");
        assert!(r.headers.get("x-ratelimit-limit").is_none());
    }
    let r = app.get("/api/v2/persons").await;
    assert_limits(&r, 3, 2, 2, 100, 90);
}

#[test]
fn the_pipedrive_preset_and_files() {
    let p = RateLimits::from_arg("pipedrive").unwrap();
    assert_eq!(
        p,
        RateLimits {
            burst_limit: 40,
            search_burst_limit: 10,
            burst_window_secs: 2,
            daily_tokens_per_seat: 60_000
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("limits.json");
    std::fs::write(&file, r#"{"burst_limit": 5}"#).unwrap();
    let l = RateLimits::from_arg(file.to_str().unwrap()).unwrap();
    assert_eq!(l.burst_limit, 5);
    assert_eq!(l.daily_tokens_per_seat, 60_000);
    std::fs::write(&file, r#"{"burst": 5}"#).unwrap();
    let e = RateLimits::from_arg(file.to_str().unwrap()).unwrap_err();
    assert!(e.contains("unknown field"), "{e}");
    std::fs::write(&file, r#"{"burst_window_secs": 0}"#).unwrap();
    assert!(RateLimits::from_arg(file.to_str().unwrap()).is_err());
    assert!(RateLimits::from_arg("/no/such/file").is_err());
}
