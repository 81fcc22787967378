//! Listing persons: filters, sort orders and the two ways of paging (v1 offsets, v2 keyset
//! cursors), checked here once for both dialects.

use super::error::DomainError;
use super::person::Person;
use super::ports::Store;
use super::{Session, Timestamp};

/// The most items one page may hold, and the default.
pub const MAX_LIMIT: i64 = 500;
pub const DEFAULT_LIMIT: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Id,
    Name,
    FirstName,
    LastName,
    FirstChar,
    AddTime,
    UpdateTime,
    OwnerId,
    OrgId,
    VisibleTo,
    PrimaryEmail,
    /// Pipelines' and stages' position.
    OrderNr,
    /// Deals' title and value.
    Title,
    Value,
    /// Activities' due date (and time).
    DueDate,
    /// Notes' author, deal, person and content.
    UserId,
    DealId,
    PersonId,
    Content,
}

impl SortField {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "id" => Self::Id,
            "name" => Self::Name,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "first_char" => Self::FirstChar,
            "add_time" => Self::AddTime,
            "update_time" => Self::UpdateTime,
            "owner_id" => Self::OwnerId,
            "org_id" => Self::OrgId,
            "visible_to" => Self::VisibleTo,
            "primary_email" => Self::PrimaryEmail,
            "order_nr" => Self::OrderNr,
            "title" => Self::Title,
            "value" => Self::Value,
            "due_date" => Self::DueDate,
            "user_id" => Self::UserId,
            "deal_id" => Self::DealId,
            "person_id" => Self::PersonId,
            "content" => Self::Content,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::FirstChar => "first_char",
            Self::AddTime => "add_time",
            Self::UpdateTime => "update_time",
            Self::OwnerId => "owner_id",
            Self::OrgId => "org_id",
            Self::VisibleTo => "visible_to",
            Self::PrimaryEmail => "primary_email",
            Self::OrderNr => "order_nr",
            Self::Title => "title",
            Self::Value => "value",
            Self::DueDate => "due_date",
            Self::UserId => "user_id",
            Self::DealId => "deal_id",
            Self::PersonId => "person_id",
            Self::Content => "content",
        }
    }

    /// The integer key a keyset cursor carries for this field (only integer fields page by
    /// cursor: `id`, `add_time`, `update_time`).
    pub fn key_of(self, p: &Person) -> Option<i64> {
        match self {
            Self::Id => Some(p.id),
            Self::AddTime => Some(p.add_time.0),
            Self::UpdateTime => Some(p.update_time.0),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// Which persons a list holds. Deleted persons are never listed.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub owner_id: Option<i64>,
    pub org_id: Option<i64>,
    pub ids: Option<Vec<i64>>,
    /// Lower-cased; matched against the lower-cased first character of the name.
    pub first_char: Option<String>,
    /// `update_time >= since`.
    pub updated_since: Option<Timestamp>,
    /// `update_time < until`.
    pub updated_until: Option<Timestamp>,
    /// Hide private persons this user neither owns nor follows (`None`: see all).
    pub viewer: Option<i64>,
    /// Persons whose search text (name, emails, phone digits, custom values) contains this,
    /// lower-cased: the web app's search as one types, in the list's own order and pages.
    pub text: Option<String>,
    /// Persons whose name's sort key ([`sort_key`](super::collation::sort_key)) starts with
    /// this key.
    pub name_prefix: Option<String>,
    /// Persons with this label.
    pub label_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum Page {
    /// v1: skip `start` persons.
    Offset { start: i64 },
    /// v2: persons strictly after `(sort key, id)` in the query's order.
    After(Option<(i64, i64)>),
}

#[derive(Debug, Clone)]
pub struct PersonQuery {
    pub filter: PersonFilter,
    /// Sort keys in order; the store always adds `id` (in the last key's direction) as the
    /// final tiebreaker, so every order is total and pages never overlap.
    pub order: Vec<(SortField, Direction)>,
    pub page: Page,
    pub limit: i64,
}

/// One page of persons and whether more follow.
#[derive(Debug, Default)]
pub struct PersonPage {
    pub persons: Vec<Person>,
    pub more: bool,
}

/// A page of a list of pipelines, stages or deals: which items (`filter`), in what order,
/// from where, how many.
#[derive(Debug, Clone)]
pub struct ListQuery<F> {
    pub filter: F,
    /// Sort keys in order; the store ends every order with the id.
    pub order: Vec<(SortField, Direction)>,
    pub page: Page,
    pub limit: i64,
}

impl<F> ListQuery<F> {
    /// The first (largest) page of the items `filter` lets through, by id: for the short
    /// lists a page names all of (a company's pipelines and stages).
    pub fn first_page(filter: F) -> Self {
        Self {
            filter,
            order: Vec::new(),
            page: Page::Offset { start: 0 },
            limit: MAX_LIMIT,
        }
    }
}

/// Runs a list query for one item more than its page holds, to tell whether more follow:
/// the page and whether they do.
pub async fn one_page<F, T, Fut>(
    mut query: ListQuery<F>,
    run: impl FnOnce(ListQuery<F>) -> Fut,
) -> Result<(Vec<T>, bool), DomainError>
where
    Fut: Future<Output = Result<Vec<T>, super::ports::StoreError>>,
{
    let limit = query.limit;
    query.limit = limit + 1;
    let mut items = run(query).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    Ok((items, more))
}

/// Checks a page size: 1 to 500, 100 when absent.
pub fn limit(given: Option<i64>) -> Result<i64, DomainError> {
    match given {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(DomainError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// The active persons among `ids` (at most a page) that the session's user may see, by id: for
/// the items that name them (a page of deals).
pub async fn visible_persons(
    store: &dyn Store,
    session: &Session,
    mut ids: Vec<i64>,
) -> Result<Vec<Person>, DomainError> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = PersonQuery {
        filter: PersonFilter {
            ids: Some(ids),
            ..PersonFilter::default()
        },
        order: vec![(SortField::Id, Direction::Asc)],
        page: Page::Offset { start: 0 },
        limit: MAX_LIMIT,
    };
    Ok(list_persons(store, session, query).await?.persons)
}

/// Whether a list may be filtered by these items: each exists in the session's company and its
/// user may see it. A filter by one that may not be seen is a filter by nothing (an empty
/// page), answered as for one that does not exist.
pub async fn may_filter_by(
    store: &dyn Store,
    session: &Session,
    persons: &[i64],
    org: Option<i64>,
    deal: Option<i64>,
) -> Result<bool, DomainError> {
    for p in persons {
        if super::person::find_person(store, session, *p)
            .await
            .is_err_and(|e| e.is_not_found())
        {
            return Ok(false);
        }
    }
    if let Some(o) = org
        && !super::organization::exists_for(store, session, o).await?
    {
        return Ok(false);
    }
    if let Some(d) = deal
        && super::deal::find_deal(store, session, d)
            .await
            .is_err_and(|e| e.is_not_found())
    {
        return Ok(false);
    }
    Ok(true)
}

/// Lists persons of the session's company: the one implementation behind v1 and v2 lists.
pub async fn list_persons(
    store: &dyn Store,
    session: &Session,
    query: PersonQuery,
) -> Result<PersonPage, DomainError> {
    let Some((company_id, query, limit)) = listable(store, session, query).await? else {
        return Ok(PersonPage::default());
    };
    let mut persons = store.list_persons(company_id, query).await?;
    let more = persons.len() as i64 > limit;
    persons.truncate(limit as usize);
    Ok(PersonPage { persons, more })
}

/// [`list_persons`]' page as ids, in its order, and whether more follow: for a read that
/// renders persons it keeps ([`crate::api::rendered`]).
pub async fn list_person_ids(
    store: &dyn Store,
    session: &Session,
    query: PersonQuery,
) -> Result<(Vec<i64>, bool), DomainError> {
    let Some((company_id, query, limit)) = listable(store, session, query).await? else {
        return Ok((Vec::new(), false));
    };
    let mut ids = store.list_person_ids(company_id, query).await?;
    let more = ids.len() as i64 > limit;
    ids.truncate(limit as usize);
    Ok((ids, more))
}

/// The query a list of persons asks the store, seen as the session's user and asking one
/// more than the page to know whether more follow, with the page's limit; `None` when it is
/// filtered by an organization the user cannot see (an empty page).
async fn listable(
    store: &dyn Store,
    session: &Session,
    mut query: PersonQuery,
) -> Result<Option<(i64, PersonQuery, i64)>, DomainError> {
    if let Some(org) = query.filter.org_id
        && !super::organization::exists_for(store, session, org).await?
    {
        return Ok(None);
    }
    let limit = query.limit;
    query.filter.viewer = super::followers::viewer(session);
    query.limit = limit + 1;
    Ok(Some((session.company.id, query, limit)))
}

/// Whether persons can be sorted by a field.
pub fn person_sortable(f: SortField) -> bool {
    matches!(
        f,
        SortField::Id
            | SortField::Name
            | SortField::FirstName
            | SortField::LastName
            | SortField::FirstChar
            | SortField::AddTime
            | SortField::UpdateTime
            | SortField::OwnerId
            | SortField::OrgId
            | SortField::VisibleTo
            | SortField::PrimaryEmail
    )
}

/// Parses v1's `sort`: `"name ASC, add_time DESC"`, first-level fields only, each one the
/// items (`what`) can be sorted by.
pub fn parse_sort(
    s: &str,
    what: &str,
    sortable: fn(SortField) -> bool,
) -> Result<Vec<(SortField, Direction)>, DomainError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or_default();
        let field = SortField::from_name(name)
            .filter(|f| sortable(*f))
            .ok_or_else(|| {
                DomainError::invalid("sort", format!("cannot sort {what} by {name:?}"))
            })?;
        let dir = match words.next() {
            None => Direction::Asc,
            Some(d) => Direction::from_name(d).ok_or_else(|| {
                DomainError::invalid("sort", format!("direction must be ASC or DESC, got {d:?}"))
            })?,
        };
        if words.next().is_some() {
            return Err(DomainError::invalid(
                "sort",
                format!("expected \"field ASC|DESC\", got {part:?}"),
            ));
        }
        out.push((field, dir));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_strings_parse_with_default_ascending() {
        let s = parse_sort("name ASC, add_time desc,id", "persons", person_sortable).unwrap();
        assert_eq!(
            s,
            vec![
                (SortField::Name, Direction::Asc),
                (SortField::AddTime, Direction::Desc),
                (SortField::Id, Direction::Asc)
            ]
        );
        let persons = |s| parse_sort(s, "persons", person_sortable);
        assert!(persons("org_name ASC").is_err());
        assert!(persons("order_nr ASC").is_err());
        assert!(persons("name UP").is_err());
        assert!(persons("name ASC extra").is_err());
    }

    #[test]
    fn limits_are_one_to_five_hundred() {
        assert_eq!(limit(None).unwrap(), 100);
        assert_eq!(limit(Some(500)).unwrap(), 500);
        assert!(limit(Some(501)).is_err());
        assert!(limit(Some(0)).is_err());
    }
}
