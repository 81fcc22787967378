//! Rendered list pages, kept by the version of the data they were rendered from
//! ([`Store::version`]): a page asked for again while nothing was committed anywhere (by this
//! process or another) is answered with the same bytes, without reading or rendering a person.
//! Any commit changes the version, and a page is only ever served for the version it was
//! looked up under, so nothing stale is served: a write acknowledged before a request began is
//! in the version that request sees.
//!
//! A page is kept per company, user (visibility) and exact path and query; only `200`s, and
//! not a page made of persons kept already (`MadeOfKept`). The engine decides whether there
//! is a version at all: SQLite in WAL mode has one (its snapshot), PostgreSQL and in-memory
//! SQLite have none, and there every request renders.
//!
//! A page rendered from reads later than the version it was looked up under (a commit landed
//! meanwhile) is kept under that older version; only requests that still see that version,
//! none once the commit is visible, can get it.
//!
//! What a page shows besides the database's rows comes partly from the store's caches of
//! sessions, users and fields, which another process's changes reach within
//! [`cached::TTL`](crate::store::cached::TTL): a page is served for at most that long after it
//! was rendered, so such a change is seen within twice that, never kept for good. (Changes
//! through this server forget those entries, which the version counts: seen at once.)
//!
//! [`Store::version`]: crate::domain::ports::Store::version

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{ApiResult, AppState};
use crate::domain::ports::DataVersion;
use crate::error::ApiError;

/// The most bytes of pages kept; past it the cache starts over. A v1 page of 100 persons is
/// ~135 KB, so this holds sixty of them within the memory budget (100 MB at a million persons,
/// where the server ran at 77 MB without the cache).
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// How long a page is served after it was rendered.
const TTL: Duration = crate::store::cached::TTL;

pub struct PageCache {
    pages: ByVersion<Key, Page>,
    outcomes: Outcomes,
}

impl Default for PageCache {
    fn default() -> Self {
        Self {
            pages: ByVersion::new(MAX_BYTES),
            outcomes: Outcomes::default(),
        }
    }
}

/// How often a cache had what was looked for (`hit`) or not (`miss`), for `/metrics`.
#[derive(Default)]
pub struct Outcomes {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Outcomes {
    pub fn count(&self, hits: u64, misses: u64) {
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
    }

    /// The counts as the counter `name`, in Prometheus' text format.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
        for (outcome, count) in [("hit", &self.hits), ("miss", &self.misses)] {
            out.push_str(&format!(
                "{name}{{outcome=\"{outcome}\"}} {}\n",
                count.load(Ordering::Relaxed)
            ));
        }
    }
}

/// Values rendered from one version of the data, each served for at most [`TTL`] after it was
/// kept: a value of another version is never kept beside them, and past `max_bytes` the cache
/// starts over. Pages here, and the persons a page is made of ([`crate::api::rendered`]).
pub struct ByVersion<K, V> {
    max_bytes: usize,
    entries: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    version: Option<DataVersion>,
    /// When the version was first seen.
    since: Instant,
    by_key: HashMap<K, Kept<V>>,
    bytes: usize,
}

impl<K, V> Entries<K, V> {
    fn of(version: &DataVersion) -> Self {
        Self {
            version: Some(version.clone()),
            since: Instant::now(),
            by_key: HashMap::new(),
            bytes: 0,
        }
    }
}

struct Kept<V> {
    value: V,
    size: usize,
    kept: Instant,
}

impl<K: Hash + Eq, V: Clone> ByVersion<K, V> {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            entries: Mutex::new(Entries {
                version: None,
                since: Instant::now(),
                by_key: HashMap::new(),
                bytes: 0,
            }),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether values are kept for `version` (none are for another), which was first seen
    /// at least `settled` ago; seeing it first lets go of another version's values.
    pub fn is_for(&self, version: &DataVersion, settled: Duration) -> bool {
        let mut entries = self.entries();
        if entries.version.as_ref() != Some(version) {
            let gone = std::mem::replace(&mut *entries, Entries::of(version));
            drop(entries);
            drop(gone);
            return settled.is_zero();
        }
        entries.since.elapsed() >= settled
    }

    /// The value kept for `key` under `version`, if it is still fresh.
    pub fn get(&self, version: &DataVersion, key: &K) -> Option<V> {
        self.get_many(version, [key]).pop().flatten()
    }

    /// [`get`](Self::get) for each of `keys`, under one lock.
    pub fn get_many<'k>(
        &self,
        version: &DataVersion,
        keys: impl IntoIterator<Item = &'k K>,
    ) -> Vec<Option<V>>
    where
        K: 'k,
    {
        let entries = self.entries();
        let current = entries.version.as_ref() == Some(version);
        keys.into_iter()
            .map(|key| {
                entries
                    .by_key
                    .get(key)
                    .filter(|kept| current && kept.kept.elapsed() < TTL)
                    .map(|kept| kept.value.clone())
            })
            .collect()
    }

    /// Keeps `values` (each with its size in bytes) under `version`, letting go of another
    /// version's: a value larger than the whole cache is not kept.
    pub fn put(&self, version: &DataVersion, values: impl IntoIterator<Item = (K, V, usize)>) {
        // What is let go is dropped after the lock is released.
        let mut gone = Vec::new();
        let mut entries = self.entries();
        if entries.version.as_ref() != Some(version) {
            gone.push(std::mem::replace(&mut *entries, Entries::of(version)));
        }
        for (key, value, size) in values {
            if size > self.max_bytes {
                continue;
            }
            if entries.bytes + size > self.max_bytes {
                gone.push(std::mem::replace(&mut *entries, Entries::of(version)));
            }
            let kept = Kept {
                value,
                size,
                kept: Instant::now(),
            };
            if let Some(old) = entries.by_key.insert(key, kept) {
                entries.bytes -= old.size;
            }
            entries.bytes += size;
        }
        drop(entries);
        drop(gone);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    company_id: i64,
    user_id: i64,
    path_and_query: String,
}

#[derive(Clone)]
struct Page {
    headers: HeaderMap,
    body: Bytes,
}

impl Page {
    fn new(headers: HeaderMap, body: &[u8]) -> Self {
        Self {
            headers,
            // A copy of its own size: a rendered body's buffer has room to spare.
            body: Bytes::copy_from_slice(body),
        }
    }

    fn size(&self, key: &Key) -> usize {
        self.body.len() + key.path_and_query.len()
    }
}

impl PageCache {
    fn get(&self, version: &DataVersion, key: &Key) -> Option<Page> {
        self.pages.get(version, key)
    }

    fn put(&self, version: DataVersion, key: Key, page: Page) {
        let size = page.size(&key);
        self.pages.put(&version, [(key, page, size)]);
    }

    /// Hits and misses, in Prometheus' text format.
    pub fn render_metrics(&self, out: &mut String) {
        self.outcomes.render(
            out,
            "pipestack_page_cache_requests_total",
            "List pages asked for where the store has a data version, by whether a page rendered for that version was served.",
        );
    }
}

/// Marks a page made of parts kept already (the persons a v1 page renders, [`rendered`]): it is
/// not kept as well. Making it again costs a copy of those parts, and keeping it only churned
/// memory: pages at random offsets at a million persons ran as fast without it, the server ~20
/// MB smaller.
///
/// [`rendered`]: super::rendered
#[derive(Clone, Copy)]
pub struct MadeOfKept;

/// A request for a list page that may be answered from the cache: extract it beside the
/// handler's other arguments and hand [`serve`](Self::serve) the rendering.
pub struct CachedPage {
    state: AppState,
    key: Option<Key>,
}

impl FromRequestParts<AppState> for CachedPage {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .extensions
            .get::<std::sync::Arc<crate::domain::Session>>()
            .map(|session| Key {
                company_id: session.company.id,
                user_id: session.user.id,
                path_and_query: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            });
        Ok(Self {
            state: state.clone(),
            key,
        })
    }
}

impl CachedPage {
    /// The page for the data as it is now: the kept one if it was rendered for this version,
    /// else `render`'s (run only then, after the version was read, and told it to key what it
    /// keeps of its own), kept if it is a `200` not marked [`MadeOfKept`].
    pub async fn serve<F: Future<Output = ApiResult>>(
        self,
        render: impl FnOnce(Option<DataVersion>) -> F,
    ) -> ApiResult {
        // Without a version (or a session) there is nothing to key a page by; an error reading
        // it is the rendering's to meet and answer.
        let version = self.state.store.version().await.ok().flatten();
        let (Some(version), Some(key)) = (version, self.key) else {
            return render(None).await;
        };
        let cache = &self.state.pages;
        if let Some(page) = cache.get(&version, &key) {
            cache.outcomes.count(1, 0);
            let mut response = Response::new(Body::from(page.body));
            *response.headers_mut() = page.headers;
            return Ok(response);
        }
        cache.outcomes.count(0, 1);
        let response = render(Some(version.clone())).await?;
        if response.status() != StatusCode::OK
            || response.extensions().get::<MadeOfKept>().is_some()
        {
            return Ok(response);
        }
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| ApiError::Internal(format!("rendering a response: {e}")))?;
        cache.put(version, key, Page::new(parts.headers.clone(), &body));
        Ok(Response::from_parts(parts, Body::from(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> Key {
        Key {
            company_id: 1,
            user_id: 1,
            path_and_query: path.into(),
        }
    }

    fn page(body: &str) -> Page {
        Page::new(HeaderMap::new(), body.as_bytes())
    }

    fn version(n: u8) -> DataVersion {
        DataVersion(Box::new([n]))
    }

    #[test]
    fn a_page_is_served_only_for_the_version_it_was_kept_under() {
        let cache = PageCache::default();
        cache.put(version(1), key("/a"), page("one"));
        assert_eq!(cache.get(&version(1), &key("/a")).unwrap().body, "one");
        assert!(cache.get(&version(2), &key("/a")).is_none());
        assert!(cache.get(&version(1), &key("/b")).is_none());
        cache.put(version(2), key("/b"), page("two"));
        assert!(
            cache.get(&version(1), &key("/a")).is_none(),
            "a new version drops the old pages"
        );
        assert_eq!(cache.get(&version(2), &key("/b")).unwrap().body, "two");
    }

    #[test]
    fn the_cache_starts_over_past_its_size_and_counts_a_replaced_page_once() {
        let cache = PageCache::default();
        let half = "x".repeat(MAX_BYTES / 2);
        for path in ["/1", "/2", "/3"] {
            cache.put(version(1), key(path), page(&half));
        }
        {
            let pages = cache.pages.entries();
            assert_eq!(
                pages.by_key.len(),
                1,
                "only the last page fits after starting over"
            );
            assert_eq!(pages.bytes, half.len() + 2);
        }
        cache.put(version(1), key("/3"), page("short"));
        assert_eq!(cache.pages.entries().bytes, "short".len() + 2);
        cache.put(version(1), key("/huge"), page(&"x".repeat(MAX_BYTES + 1)));
        assert!(cache.get(&version(1), &key("/huge")).is_none());
        assert!(
            cache.get(&version(1), &key("/3")).is_some(),
            "a page too large to keep empties nothing"
        );
    }

    #[test]
    fn a_page_is_served_for_at_most_the_ttl() {
        let cache = PageCache::default();
        cache.put(version(1), key("/a"), page("old"));
        cache
            .pages
            .entries()
            .by_key
            .get_mut(&key("/a"))
            .unwrap()
            .kept = Instant::now() - TTL;
        assert!(cache.get(&version(1), &key("/a")).is_none());
    }
}
