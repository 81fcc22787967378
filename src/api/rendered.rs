//! Persons as a list page rendered them, kept by the version of the data they were rendered
//! from, as the [page cache](super::page_cache) keeps whole pages: a page the page cache does
//! not hold (another offset, another limit) reads only its persons' ids and renders only the
//! persons no page rendered for this version. Any commit changes the version, and a person is
//! only ever served for the version it was looked up under, so nothing stale is served (the
//! page cache's reasoning holds here word for word, [`TTL`](crate::store::cached::TTL) too).
//!
//! A person is kept per company, user (what they may see decides counts and organizations)
//! and shape, with the owner and organization it names, which the page's `related_objects`
//! list.

use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::page_cache::{ByVersion, Outcomes};
use crate::domain::Session;
use crate::domain::ports::DataVersion;
use crate::error::ApiError;

/// The most bytes of persons kept; past it the cache starts over. A v1 person is ~1.4 KB, so
/// this holds ~2,800 of them (the page cache keeps twice as much).
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// How long a version stands before its pages keep persons: while commits follow each other
/// closely (a burst of writes, the search index merging after a start), each version would
/// serve a page or two, and keeping their persons only churns memory (measured: 50 MB more
/// at its peak at a million persons).
const SETTLED: Duration = Duration::from_millis(50);

/// How a person was rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// v1's person, as `GET /v1/persons` lists it.
    V1,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    company_id: i64,
    user_id: i64,
    shape: Shape,
    id: i64,
}

/// A person's JSON as rendered, and the items it refers to.
#[derive(Clone)]
pub struct Rendered {
    pub json: Json,
    pub owner_id: i64,
    pub org_id: Option<i64>,
}

/// Rendered JSON, written into a response as it is (shared, not copied: a boxed value moved
/// into an `Arc` would be copied once more).
#[derive(Clone)]
pub struct Json(Arc<Box<RawValue>>);

impl Json {
    pub fn new(value: &impl Serialize) -> Result<Self, ApiError> {
        serde_json::value::to_raw_value(value)
            .map(|raw| Self(Arc::new(raw)))
            .map_err(|e| ApiError::Internal(format!("rendering a person: {e}")))
    }

    fn len(&self) -> usize {
        self.0.get().len()
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

pub struct RenderedPersons {
    persons: ByVersion<Key, Rendered>,
    outcomes: Outcomes,
}

impl Default for RenderedPersons {
    fn default() -> Self {
        Self {
            persons: ByVersion::new(MAX_BYTES),
            outcomes: Outcomes::default(),
        }
    }
}

impl RenderedPersons {
    fn key(session: &Session, shape: Shape, id: i64) -> Key {
        Key {
            company_id: session.company.id,
            user_id: session.user.id,
            shape,
            id,
        }
    }

    /// Whether persons are kept for `version`: once it has stood for [`SETTLED`] since a page
    /// first asked (the first asking lets go of what other versions kept).
    pub fn holds(&self, version: &DataVersion) -> bool {
        self.persons.is_for(version, SETTLED)
    }

    /// The persons `ids` as kept for `version`, where they are.
    pub fn get(
        &self,
        version: &DataVersion,
        session: &Session,
        shape: Shape,
        ids: &[i64],
    ) -> Vec<Option<Rendered>> {
        let keys: Vec<Key> = ids
            .iter()
            .map(|id| Self::key(session, shape, *id))
            .collect();
        let kept = self.persons.get_many(version, &keys);
        let hits = kept.iter().filter(|k| k.is_some()).count() as u64;
        self.outcomes.count(hits, ids.len() as u64 - hits);
        kept
    }

    /// Keeps persons (by id) rendered for `version`.
    pub fn put(
        &self,
        version: &DataVersion,
        session: &Session,
        shape: Shape,
        persons: impl IntoIterator<Item = (i64, Rendered)>,
    ) {
        self.persons.put(
            version,
            persons.into_iter().map(|(id, rendered)| {
                let size = rendered.json.len() + std::mem::size_of::<(Key, Rendered)>();
                (Self::key(session, shape, id), rendered, size)
            }),
        );
    }

    /// Hits and misses, in Prometheus' text format.
    pub fn render_metrics(&self, out: &mut String) {
        self.outcomes.render(
            out,
            "pipestack_rendered_persons_total",
            "Persons a list page looked for among those rendered for its data version, by whether one was kept.",
        );
    }
}
