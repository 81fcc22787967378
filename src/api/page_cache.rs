//! Rendered list pages, kept by the version of the data they were rendered from
//! ([`Store::version`]): a page asked for again while nothing was committed anywhere (by this
//! process or another) is answered with the same bytes, without reading or rendering a person.
//! Any commit changes the version, and a page is only ever served for the version it was
//! looked up under, so nothing stale is served: a write acknowledged before a request began is
//! in the version that request sees.
//!
//! A page is kept per company, user (visibility) and exact path and query; only `200`s. The
//! engine decides whether there is a version at all: SQLite in WAL mode has one (its snapshot),
//! PostgreSQL and in-memory SQLite have none, and there every request renders.
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

#[derive(Default)]
pub struct PageCache {
    pages: Mutex<Pages>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The pages of one version: a page of another version is never kept beside them.
#[derive(Default)]
struct Pages {
    version: Option<DataVersion>,
    by_key: HashMap<Key, Page>,
    bytes: usize,
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
    rendered: Instant,
}

impl Page {
    fn new(headers: HeaderMap, body: &[u8]) -> Self {
        Self {
            headers,
            // A copy of its own size: a rendered body's buffer has room to spare.
            body: Bytes::copy_from_slice(body),
            rendered: Instant::now(),
        }
    }

    fn size(&self, key: &Key) -> usize {
        self.body.len() + key.path_and_query.len()
    }
}

impl PageCache {
    fn get(&self, version: &DataVersion, key: &Key) -> Option<Page> {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.version.as_ref() != Some(version) {
            return None;
        }
        pages
            .by_key
            .get(key)
            .filter(|page| page.rendered.elapsed() < TTL)
            .cloned()
    }

    fn put(&self, version: DataVersion, key: Key, page: Page) {
        let size = page.size(&key);
        if size > MAX_BYTES {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.version.as_ref() != Some(&version) || pages.bytes + size > MAX_BYTES {
            *pages = Pages {
                version: Some(version),
                ..Pages::default()
            };
        }
        if let Some(old) = pages.by_key.insert(key.clone(), page) {
            pages.bytes -= old.size(&key);
        }
        pages.bytes += size;
    }

    /// Hits and misses, in Prometheus' text format.
    pub fn render_metrics(&self, out: &mut String) {
        out.push_str("# HELP pipestack_page_cache_requests_total List pages asked for where the store has a data version, by whether a page rendered for that version was served.\n");
        out.push_str("# TYPE pipestack_page_cache_requests_total counter\n");
        for (outcome, count) in [("hit", &self.hits), ("miss", &self.misses)] {
            out.push_str(&format!(
                "pipestack_page_cache_requests_total{{outcome=\"{outcome}\"}} {}\n",
                count.load(Ordering::Relaxed)
            ));
        }
    }
}

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
    /// else `render`'s (run only then, after the version was read), kept if it is a `200`.
    pub async fn serve(self, render: impl Future<Output = ApiResult>) -> ApiResult {
        // Without a version (or a session) there is nothing to key a page by; an error reading
        // it is the rendering's to meet and answer.
        let version = self.state.store.version().await.ok().flatten();
        let (Some(version), Some(key)) = (version, self.key) else {
            return render.await;
        };
        let cache = &self.state.pages;
        if let Some(page) = cache.get(&version, &key) {
            cache.hits.fetch_add(1, Ordering::Relaxed);
            let mut response = Response::new(Body::from(page.body));
            *response.headers_mut() = page.headers;
            return Ok(response);
        }
        cache.misses.fetch_add(1, Ordering::Relaxed);
        let response = render.await?;
        if response.status() != StatusCode::OK {
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
            let pages = cache.pages.lock().unwrap();
            assert_eq!(
                pages.by_key.len(),
                1,
                "only the last page fits after starting over"
            );
            assert_eq!(pages.bytes, half.len() + 2);
        }
        cache.put(version(1), key("/3"), page("short"));
        assert_eq!(cache.pages.lock().unwrap().bytes, "short".len() + 2);
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
        let mut old = page("old");
        old.rendered = Instant::now() - TTL;
        cache.put(version(1), key("/a"), old);
        assert!(cache.get(&version(1), &key("/a")).is_none());
    }
}
