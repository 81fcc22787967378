//! Pipedrive's rate limits, off unless `serve --rate-limits pipedrive|FILE` switches them on.
//!
//! Two limits, as Pipedrive documents them (API-NOTES §5):
//! - a burst limit per API token over a rolling window (2 s): at most `burst_limit` requests,
//!   `search_burst_limit` for the search endpoints (their own window);
//! - a daily token budget per company (`daily_tokens_per_seat` × active users), reset at
//!   midnight UTC, where each operation costs its `x-token-cost` from Pipedrive's spec (the
//!   route table's cost column).
//!
//! Every authenticated API response carries `x-ratelimit-limit`, `x-ratelimit-remaining`,
//! `x-ratelimit-reset` (seconds until a slot of the window frees), and
//! `x-daily-ratelimit-token-limit`/`-remaining`. Past a limit the answer is 429 in the envelope
//! with `Retry-After`; a refused request costs nothing. Time comes from a [`Clock`], so tests
//! move it by hand. Each token's window sits behind its own lock, taken for microseconds and
//! never across an await: one token's exhaustion does not slow another's requests.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::routes;
use crate::domain::Session;
use crate::error::ApiError;
use crate::store::Store;

const DAY_MS: u64 = 86_400_000;

/// The limits themselves: `pipedrive` is [`RateLimits::pipedrive`]; a file gives any of the
/// fields as JSON (the others keep Pipedrive's values).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Requests per token per window.
    pub burst_limit: u32,
    /// Search requests per token per window.
    pub search_burst_limit: u32,
    /// The rolling window, in seconds.
    pub burst_window_secs: u64,
    /// Daily tokens per active user of the company.
    pub daily_tokens_per_seat: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::pipedrive()
    }
}

impl RateLimits {
    /// Pipedrive's documented values for an API token on the Growth plan: 40 requests (10
    /// searches) per 2 s, and 30,000 × 2 (Growth's multiplier) tokens a day per seat.
    pub fn pipedrive() -> Self {
        Self {
            burst_limit: 40,
            search_burst_limit: 10,
            burst_window_secs: 2,
            daily_tokens_per_seat: 60_000,
        }
    }

    /// `pipedrive`, or the path of a JSON file of limits.
    pub fn from_arg(arg: &str) -> Result<Self, String> {
        if arg == "pipedrive" {
            return Ok(Self::pipedrive());
        }
        let text = std::fs::read_to_string(arg)
            .map_err(|e| format!("cannot read the rate-limit file {arg}: {e}"))?;
        let limits: Self =
            serde_json::from_str(&text).map_err(|e| format!("bad rate-limit file {arg}: {e}"))?;
        if limits.burst_limit == 0
            || limits.search_burst_limit == 0
            || limits.burst_window_secs == 0
        {
            return Err(format!(
                "bad rate-limit file {arg}: limits and the window must be at least 1"
            ));
        }
        Ok(limits)
    }
}

/// Milliseconds since the Unix epoch; tests use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> u64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A clock that moves only when told to.
#[derive(Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn at(ms: u64) -> Self {
        Self(AtomicU64::new(ms))
    }

    pub fn advance_ms(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_ms(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The requests of one token in the current window, oldest first.
#[derive(Default)]
struct Window(VecDeque<u64>);

impl Window {
    /// Forgets requests that left the window; returns how many remain.
    fn trim(&mut self, now: u64, window_ms: u64) -> usize {
        while self.0.front().is_some_and(|&t| t + window_ms <= now) {
            self.0.pop_front();
        }
        self.0.len()
    }

    /// Seconds until the oldest request leaves the window (the window's length when empty).
    fn reset_secs(&self, now: u64, window_ms: u64) -> u64 {
        let until = self
            .0
            .front()
            .map_or(window_ms, |&t| (t + window_ms).saturating_sub(now));
        until.div_ceil(1000).max(1)
    }
}

/// A company's spend today.
struct Daily {
    day: u64,
    budget: u64,
    used: u64,
}

type Shared<T> = Arc<Mutex<T>>;

pub struct RateLimiter {
    limits: RateLimits,
    clock: Arc<dyn Clock>,
    /// Cost and whether it is a search, by matched route path, then method.
    costs: HashMap<String, Vec<(Method, u32, bool)>>,
    windows: Mutex<HashMap<(i64, bool), Shared<Window>>>,
    daily: Mutex<HashMap<i64, Shared<Daily>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a request was told.
pub struct Verdict {
    limit: u32,
    remaining: u32,
    reset: u64,
    daily_limit: u64,
    daily_remaining: u64,
    refused: Option<ApiError>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits, clock: Arc<dyn Clock>) -> Self {
        let mut costs: HashMap<String, Vec<(Method, u32, bool)>> = HashMap::new();
        for e in routes::table() {
            for prefix in e.dialect.prefixes() {
                costs
                    .entry(format!("{prefix}{}", e.path))
                    .or_default()
                    .push((e.method.clone(), e.cost, e.path.ends_with("/search")));
            }
        }
        Self {
            limits,
            clock,
            costs,
            windows: Mutex::default(),
            daily: Mutex::default(),
        }
    }

    fn window(&self, user_id: i64, search: bool) -> Shared<Window> {
        lock(&self.windows)
            .entry((user_id, search))
            .or_default()
            .clone()
    }

    /// Today's spend of a company, if it has made a request since the process started.
    fn daily(&self, company_id: i64) -> Option<Shared<Daily>> {
        lock(&self.daily).get(&company_id).cloned()
    }

    /// What the matched route costs, and whether it is a search.
    fn cost(&self, method: &Method, path: Option<&MatchedPath>) -> (u32, bool) {
        path.and_then(|p| self.costs.get(p.as_str()))
            .and_then(|ops| ops.iter().find(|(m, _, _)| m == method))
            .map_or((1, false), |&(_, cost, search)| (cost, search))
    }

    fn decide(&self, user_id: i64, cost: u32, search: bool, daily: &Shared<Daily>) -> Verdict {
        let now = self.clock.now_ms();
        let window_ms = self.limits.burst_window_secs * 1000;
        let limit = if search {
            self.limits.search_burst_limit
        } else {
            self.limits.burst_limit
        };
        let window = self.window(user_id, search);
        let mut window = lock(&window);
        let used = window.trim(now, window_ms) as u32;
        let mut daily = lock(daily);
        let mut verdict = Verdict {
            limit,
            remaining: limit.saturating_sub(used),
            reset: window.reset_secs(now, window_ms),
            daily_limit: daily.budget,
            daily_remaining: daily.budget.saturating_sub(daily.used),
            refused: None,
        };
        if used >= limit {
            verdict.refused = Some(ApiError::TooManyRequests {
                message: format!(
                    "Request over limit: at most {limit} {}requests per {} s per API token",
                    if search { "search " } else { "" },
                    self.limits.burst_window_secs
                ),
                retry_after: verdict.reset,
            });
            return verdict;
        }
        if daily.used + u64::from(cost) > daily.budget {
            let until_midnight = DAY_MS - now % DAY_MS;
            verdict.refused = Some(ApiError::TooManyRequests {
                message: format!(
                    "Daily token budget exhausted: {} of {} tokens used today (this request costs {cost}); it resets at midnight UTC",
                    daily.used, daily.budget
                ),
                retry_after: until_midnight.div_ceil(1000),
            });
            return verdict;
        }
        daily.used += u64::from(cost);
        window.0.push_back(now);
        verdict.remaining = limit - used - 1;
        verdict.reset = window.reset_secs(now, window_ms);
        verdict.daily_remaining = daily.budget - daily.used;
        verdict
    }
}

impl RateLimiter {
    /// Counts a request of `session` on the matched route: the verdict whose headers go on the
    /// response, or the 429 (with those headers) to answer instead. Called by authentication.
    pub async fn admit(
        &self,
        store: &dyn Store,
        session: &Session,
        method: &Method,
        matched: Option<&MatchedPath>,
    ) -> Result<Verdict, Response> {
        let (company_id, user_id) = (session.company.id, session.user.id);
        let (cost, search) = self.cost(method, matched);
        let day = self.clock.now_ms() / DAY_MS;
        let daily = match self.daily(company_id) {
            Some(d) if lock(&d).day == day => d,
            existing => {
                // A new day (or a first request): the budget follows today's active seats.
                let seats = match store.users(company_id).await {
                    Ok(users) => users.iter().filter(|u| u.active).count().max(1) as u64,
                    Err(e) => return Err(ApiError::from(e).into_response()),
                };
                let budget = self.limits.daily_tokens_per_seat * seats;
                let fresh = || Daily {
                    day,
                    budget,
                    used: 0,
                };
                match existing {
                    Some(d) => {
                        let mut g = lock(&d);
                        if g.day != day {
                            *g = fresh();
                        }
                        drop(g);
                        d
                    }
                    None => lock(&self.daily)
                        .entry(company_id)
                        .or_insert_with(|| Arc::new(Mutex::new(fresh())))
                        .clone(),
                }
            }
        };
        let mut verdict = self.decide(user_id, cost, search, &daily);
        match verdict.refused.take() {
            None => Ok(verdict),
            Some(e) => {
                let mut response = e.into_response();
                verdict.set_headers(response.headers_mut());
                Err(response)
            }
        }
    }
}

impl Verdict {
    pub fn set_headers(&self, h: &mut HeaderMap) {
        h.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
        h.insert(
            "x-daily-ratelimit-token-limit",
            HeaderValue::from(self.daily_limit),
        );
        h.insert(
            "x-daily-ratelimit-token-remaining",
            HeaderValue::from(self.daily_remaining),
        );
    }
}
