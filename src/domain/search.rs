//! Searching persons: term rules, field selection, matching and ranking (exact > prefix >
//! substring), shared by v1 and v2 search.

use super::error::DomainError;
use super::fields::{self, Fields};
use super::person::{Person, digits};
use super::ports::Store;
use super::{Kind, Session};

/// Which fields a search looks at (`fields=name,email,…`; all when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchFields {
    pub name: bool,
    pub email: bool,
    pub phone: bool,
    pub notes: bool,
    pub custom_fields: bool,
}

impl SearchFields {
    pub const ALL: Self = Self {
        name: true,
        email: true,
        phone: true,
        notes: true,
        custom_fields: true,
    };

    const NONE: Self = Self {
        name: false,
        email: false,
        phone: false,
        notes: false,
        custom_fields: false,
    };

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut f = Self::NONE;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "name" => f.name = true,
                "email" => f.email = true,
                "phone" => f.phone = true,
                "notes" => f.notes = true,
                "custom_fields" => f.custom_fields = true,
                other => {
                    return Err(DomainError::invalid(
                        "fields",
                        format!(
                            "{other:?} is not searchable: use name, email, phone, notes or custom_fields"
                        ),
                    ));
                }
            }
        }
        Ok(if f == Self::NONE { Self::ALL } else { f })
    }
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub term: String,
    pub fields: SearchFields,
    pub exact_match: bool,
    pub org_id: Option<i64>,
}

/// One hit: the person and how well it matched (1.0 exact, 0.8 prefix, 0.6 word prefix,
/// 0.4 substring).
#[derive(Debug, Clone)]
pub struct Hit {
    pub score: f64,
    pub person: Person,
    /// The values of searchable custom fields that matched.
    pub custom_matches: Vec<String>,
    /// The text of the person's notes that matched.
    pub note_matches: Vec<String>,
}

/// Checks the term: at least 2 characters, or 1 with `exact_match`.
pub fn check_term(term: Option<&str>, exact: bool) -> Result<String, DomainError> {
    let term = term.map(str::trim).unwrap_or("");
    if term.is_empty() {
        return Err(DomainError::Required("term".into()));
    }
    let min = if exact { 1 } else { 2 };
    if term.chars().count() < min {
        return Err(DomainError::invalid(
            "term",
            format!("must be at least {min} characters long"),
        ));
    }
    Ok(term.to_owned())
}

/// Every matching, non-deleted person of the company, best first (ties by id).
pub async fn search_persons(
    store: &dyn Store,
    session: &Session,
    q: &SearchQuery,
) -> Result<Vec<Hit>, DomainError> {
    // Persons of an organization the user may not see are searched like those of one that
    // does not exist: none.
    if let Some(org) = q.org_id
        && !super::organization::exists_for(store, session, org).await?
    {
        return Ok(Vec::new());
    }
    let needle = q.term.to_lowercase();
    let phone_needle = phone_term(&q.term);
    let viewer = super::followers::viewer(session);
    // Exact matches on emails are an index lookup; everything else goes through the
    // (trigram) search index, unless only emails are searched exactly.
    let only_emails_exactly = q.exact_match
        && q.fields.email
        && !(q.fields.name || q.fields.phone || q.fields.custom_fields);
    let mut candidates = if only_emails_exactly {
        Vec::new()
    } else {
        store
            .search_candidates(session.company.id, &needle, q.org_id, viewer)
            .await?
    };
    let add = |more: Vec<Person>, candidates: &mut Vec<Person>| {
        for p in more {
            if !candidates.iter().any(|c| c.id == p.id) {
                candidates.push(p);
            }
        }
    };
    if q.exact_match && q.fields.email {
        let found = store
            .persons_by_email(session.company.id, &needle, q.org_id, viewer)
            .await?;
        add(found, &mut candidates);
    }
    if let Some(d) = &phone_needle
        && q.fields.phone
        && d != &needle
    {
        let found = store
            .search_candidates(session.company.id, d, q.org_id, viewer)
            .await?;
        add(found, &mut candidates);
    }
    // Persons whose notes match, found from the notes (a person found by nothing else is
    // loaded, as the user may see it and within the organization asked for).
    let mut noted = if q.fields.notes {
        super::note::texts_matching(store, session, Kind::Person, &needle).await?
    } else {
        std::collections::HashMap::new()
    };
    let missing: Vec<i64> = noted
        .keys()
        .copied()
        .filter(|id| !candidates.iter().any(|c| c.id == *id))
        .collect();
    let found = super::query::visible_persons(store, session, missing).await?;
    add(
        found
            .into_iter()
            .filter(|p| q.org_id.is_none_or(|o| p.org_id == Some(o)))
            .collect(),
        &mut candidates,
    );
    let fields = if q.fields.custom_fields {
        Fields::load(store, Kind::Person, session.company.id).await?
    } else {
        Fields::none(Kind::Person)
    };
    let mut hits: Vec<Hit> = candidates
        .into_iter()
        .filter_map(|person| {
            let mut best = score(&person, q, &needle, phone_needle.as_deref());
            let mut custom_matches = Vec::new();
            for def in fields.custom() {
                let Some(text) = person
                    .custom_fields
                    .get(&def.key)
                    .and_then(|v| fields::search_text(def, v))
                else {
                    continue;
                };
                if let Some(s) = score_value(&text.to_lowercase(), &needle, q.exact_match) {
                    best = Some(best.map_or(s, |b: f64| b.max(s)));
                    custom_matches.push(text);
                }
            }
            let mut note_matches = Vec::new();
            for text in noted.remove(&person.id).unwrap_or_default() {
                if let Some(s) = score_value(&text.to_lowercase(), &needle, q.exact_match) {
                    best = Some(best.map_or(s, |b: f64| b.max(s)));
                    note_matches.push(text);
                }
            }
            best.map(|score| Hit {
                score,
                person,
                custom_matches,
                note_matches,
            })
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.person.id.cmp(&b.person.id))
    });
    Ok(hits)
}

/// A term that looks like a phone number, as digits (`"+1 555-12"` → `"155512"`).
fn phone_term(term: &str) -> Option<String> {
    let d = digits(term);
    let phoneish = term
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    (phoneish && d.len() >= 2).then_some(d)
}

fn score(p: &Person, q: &SearchQuery, needle: &str, phone_needle: Option<&str>) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut consider = |value: &str, needle: &str| {
        if let Some(s) = score_value(&value.to_lowercase(), needle, q.exact_match) {
            best = Some(best.map_or(s, |b: f64| b.max(s)));
        }
    };
    if q.fields.name {
        consider(&p.name, needle);
    }
    if q.fields.email {
        for c in &p.emails {
            consider(&c.value, needle);
        }
    }
    if q.fields.phone {
        for c in &p.phones {
            consider(&c.value, needle);
            if let Some(d) = phone_needle {
                consider(&digits(&c.value), d);
            }
        }
    }
    best
}

/// How well one value matches: 1.0 exact, 0.8 prefix, 0.6 word prefix, 0.4 substring.
pub fn score_value(value: &str, needle: &str, exact: bool) -> Option<f64> {
    if value.is_empty() {
        return None;
    }
    if value == needle {
        return Some(1.0);
    }
    if exact {
        return None;
    }
    if value.starts_with(needle) {
        return Some(0.8);
    }
    let word_start = value
        .match_indices(needle)
        .any(|(i, _)| !value[..i].chars().last().is_some_and(char::is_alphanumeric));
    if word_start {
        return Some(0.6);
    }
    value.contains(needle).then_some(0.4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_rank_exact_over_prefix_over_word_over_substring() {
        assert_eq!(score_value("will smith", "will smith", false), Some(1.0));
        assert_eq!(score_value("will smith", "wil", false), Some(0.8));
        assert_eq!(score_value("will smith", "smi", false), Some(0.6));
        assert_eq!(score_value("will smith", "mit", false), Some(0.4));
        assert_eq!(score_value("will smith", "mit", true), None);
        assert_eq!(
            score_value("a@example.com", "a@example.com", true),
            Some(1.0)
        );
    }

    #[test]
    fn terms_need_two_characters_or_one_when_exact() {
        assert!(check_term(Some("a"), false).is_err());
        assert!(check_term(Some("a"), true).is_ok());
        assert!(check_term(Some(" "), true).is_err());
        assert!(check_term(None, false).is_err());
    }

    #[test]
    fn fields_parse_and_default_to_all() {
        assert_eq!(SearchFields::parse("").unwrap(), SearchFields::ALL);
        let f = SearchFields::parse("email").unwrap();
        assert!(f.email && !f.name);
        assert!(SearchFields::parse("address").is_err());
    }
}
