//! One search across persons, organizations and deals (`itemSearch`), ranked as each
//! entity's own search ranks, and the search of one field's values (`itemSearch/field`).
//! Each entity's search keeps its own rules (visibility, which values are searchable); this
//! module only chooses which run, with which fields, and merges their hits.

use serde_json::Value;

use super::deal::{self, Deal, DealSearch};
use super::error::DomainError;
use super::fields::{self, Fields};
use super::organization::{self, OrgSearchFields, Organization};
use super::person::Person;
use super::ports::Store;
use super::query::{Direction, Page, PersonFilter, PersonQuery, SortField};
use super::search::{self, Hit, SearchFields, SearchQuery};
use super::{Kind, Session};

/// The item types Pipedrive searches. pipestack has persons, organizations and deals; the
/// others are accepted and have no items.
pub const ITEM_TYPES: [&str; 8] = [
    "deal",
    "person",
    "organization",
    "product",
    "lead",
    "file",
    "mail_attachment",
    "project",
];

/// The fields `itemSearch` takes; each item type searches those that apply to it.
pub const SEARCH_FIELDS: [&str; 9] = [
    "address",
    "code",
    "custom_fields",
    "email",
    "name",
    "notes",
    "phone",
    "title",
    "description",
];

#[derive(Debug, Clone)]
pub struct ItemQuery {
    pub term: String,
    /// Item types named (none: all).
    pub types: Vec<String>,
    /// Fields named (none: all).
    pub fields: Vec<String>,
    pub exact_match: bool,
}

impl ItemQuery {
    fn wants_type(&self, t: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|n| n == t)
    }

    fn wants_field(&self, f: &str) -> bool {
        self.fields.is_empty() || self.fields.iter().any(|n| n == f)
    }
}

/// One found item.
#[derive(Debug, Clone)]
pub enum Found {
    Person(Hit),
    Organization(f64, Organization),
    Deal(f64, Deal),
}

impl Found {
    pub fn score(&self) -> f64 {
        match self {
            Self::Person(h) => h.score,
            Self::Organization(s, _) | Self::Deal(s, _) => *s,
        }
    }

    /// The order of types among equal scores (deals, organizations, persons: as in
    /// Pipedrive's example) and the item's id: with the score, a total order.
    pub fn rank(&self) -> (u8, i64) {
        match self {
            Self::Deal(_, d) => (0, d.id),
            Self::Organization(_, o) => (1, o.id),
            Self::Person(h) => (2, h.person.id),
        }
    }
}

/// Every matching item the session may see, best first.
pub async fn search_items(
    store: &dyn Store,
    session: &Session,
    q: &ItemQuery,
) -> Result<Vec<Found>, DomainError> {
    let mut found = Vec::new();
    let custom = q.wants_field("custom_fields");
    let person_fields = SearchFields {
        name: q.wants_field("name"),
        email: q.wants_field("email"),
        phone: q.wants_field("phone"),
        notes: q.wants_field("notes"),
        custom_fields: custom,
    };
    if q.wants_type("person")
        && (person_fields.name
            || person_fields.email
            || person_fields.phone
            || person_fields.notes
            || person_fields.custom_fields)
    {
        let sq = SearchQuery {
            term: q.term.clone(),
            fields: person_fields,
            exact_match: q.exact_match,
            org_id: None,
        };
        let hits = search::search_persons(store, session, &sq).await?;
        found.extend(hits.into_iter().map(Found::Person));
    }
    let org_fields = OrgSearchFields {
        name: q.wants_field("name"),
        address: q.wants_field("address"),
        custom_fields: custom,
        notes: q.wants_field("notes"),
    };
    if q.wants_type("organization")
        && (org_fields.name || org_fields.address || org_fields.custom_fields || org_fields.notes)
    {
        let hits =
            organization::search_organizations(store, session, &q.term, org_fields, q.exact_match)
                .await?;
        found.extend(hits.into_iter().map(|(s, o)| Found::Organization(s, o)));
    }
    let within = DealSearch {
        title: q.wants_field("title"),
        custom_fields: custom,
        notes: q.wants_field("notes"),
        ..DealSearch::default()
    };
    if q.wants_type("deal") && (within.title || within.custom_fields || within.notes) {
        let hits = deal::search_deals(store, session, &q.term, &within, q.exact_match).await?;
        found.extend(hits.into_iter().map(|(s, d)| Found::Deal(s, d)));
    }
    found.sort_by(|a, b| {
        b.score()
            .total_cmp(&a.score())
            .then(a.rank().cmp(&b.rank()))
    });
    Ok(found)
}

/// How a field search matches (case-sensitive, as Pipedrive documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldMatch {
    Exact,
    Beginning,
    Middle,
}

impl FieldMatch {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "exact" => Self::Exact,
            "beginning" => Self::Beginning,
            "middle" => Self::Middle,
            _ => return None,
        })
    }

    fn matches(self, value: &str, term: &str) -> bool {
        match self {
            Self::Exact => value == term,
            Self::Beginning => value.starts_with(term),
            Self::Middle => value.contains(term),
        }
    }
}

/// The built-in fields a field search takes, per kind; custom fields of the searchable types
/// (address, text, numbers, phone) are taken too.
fn searchable_builtin(kind: Kind, key: &str) -> bool {
    match kind {
        Kind::Person => matches!(key, "name" | "email" | "phone"),
        Kind::Organization => matches!(key, "name" | "address"),
        Kind::Deal => key == "title",
    }
}

/// Items of `kind` whose field `key` matches `term`, with the matching value, by id.
pub async fn search_field(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    key: &str,
    term: &str,
    how: FieldMatch,
) -> Result<Vec<(i64, Value)>, DomainError> {
    let fields = Fields::load(store, kind, session.company.id).await?;
    let def = fields.defs.iter().find(|d| d.key == key).ok_or_else(|| {
        DomainError::invalid("field_key", format!("no {} field {key:?}", kind.as_str()))
    })?;
    if !(def.searchable() || (!def.is_custom && searchable_builtin(kind, key))) {
        return Err(DomainError::invalid(
            "field_key",
            format!("the field {key:?} is not searchable"),
        ));
    }
    let needle = term.to_lowercase();
    let viewer = super::followers::viewer(session);
    let values_of = |custom: &serde_json::Map<String, Value>| -> Vec<String> {
        custom
            .get(key)
            .and_then(|v| fields::search_text(def, v))
            .into_iter()
            .collect()
    };
    let company = session.company.id;
    let mut out: Vec<(i64, Value)> = Vec::new();
    let mut keep = |id: i64, values: Vec<String>| {
        if let Some(v) = values.into_iter().find(|v| how.matches(v, term)) {
            out.push((id, Value::String(v)));
        }
    };
    match kind {
        Kind::Person => {
            let candidates = store
                .search_candidates(company, &needle, None, viewer)
                .await?;
            let candidates = with_email_matches(store, session, candidates, key, &needle).await?;
            for p in candidates {
                let values = match key {
                    "name" => vec![p.name.clone()],
                    "email" => p.emails.iter().map(|c| c.value.clone()).collect(),
                    "phone" => p.phones.iter().map(|c| c.value.clone()).collect(),
                    _ => values_of(&p.custom_fields),
                };
                keep(p.id, values);
            }
        }
        Kind::Organization => {
            for o in store
                .search_organization_candidates(company, &needle, viewer)
                .await?
            {
                let values = match key {
                    "name" => vec![o.name.clone()],
                    "address" => o.address.clone().into_iter().collect(),
                    _ => values_of(&o.custom_fields),
                };
                keep(o.id, values);
            }
        }
        Kind::Deal => {
            for d in store
                .search_deal_candidates(company, &needle, viewer)
                .await?
            {
                let values = match key {
                    "title" => vec![d.title.clone()],
                    _ => values_of(&d.custom_fields),
                };
                keep(d.id, values);
            }
        }
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

/// Persons found by an exact email (an index lookup the substring search may not need, but
/// one that finds them however large the company).
async fn with_email_matches(
    store: &dyn Store,
    session: &Session,
    mut candidates: Vec<Person>,
    key: &str,
    needle: &str,
) -> Result<Vec<Person>, DomainError> {
    if key != "email" {
        return Ok(candidates);
    }
    let viewer = super::followers::viewer(session);
    for p in store
        .persons_by_email(session.company.id, needle, None, viewer)
        .await?
    {
        if !candidates.iter().any(|c| c.id == p.id) {
            candidates.push(p);
        }
    }
    Ok(candidates)
}

/// The newest deals (at most 100) of each person and organization found, and the newest
/// persons (at most 100) of each organization found: `search_for_related_items`.
pub async fn related_items(
    store: &dyn Store,
    session: &Session,
    found: &[Found],
) -> Result<Vec<Found>, DomainError> {
    const MOST: i64 = 100;
    let mut out: Vec<Found> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in found {
        let filter = match f {
            Found::Person(h) => deal::DealFilter {
                person_id: Some(h.person.id),
                ..deal::DealFilter::default()
            },
            Found::Organization(_, o) => deal::DealFilter {
                org_id: Some(o.id),
                ..deal::DealFilter::default()
            },
            Found::Deal(..) => continue,
        };
        let query = super::query::ListQuery {
            filter: deal::DealFilter {
                live: true,
                archived: Some(false),
                ..filter
            },
            order: vec![(SortField::AddTime, Direction::Desc)],
            page: Page::Offset { start: 0 },
            limit: MOST,
        };
        let (deals, _) = deal::list_deals(store, session, query).await?;
        for d in deals {
            if seen.insert((0, d.id)) {
                out.push(Found::Deal(0.0, d));
            }
        }
        if let Found::Organization(_, o) = f {
            let page = super::query::list_persons(
                store,
                session,
                PersonQuery {
                    filter: PersonFilter {
                        org_id: Some(o.id),
                        ..PersonFilter::default()
                    },
                    order: vec![(SortField::AddTime, Direction::Desc)],
                    page: Page::Offset { start: 0 },
                    limit: MOST,
                },
            )
            .await?;
            for p in page.persons {
                if seen.insert((2, p.id)) {
                    out.push(Found::Person(Hit {
                        score: 0.0,
                        person: p,
                        custom_matches: Vec::new(),
                        note_matches: Vec::new(),
                    }));
                }
            }
        }
    }
    Ok(out)
}
