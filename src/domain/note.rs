//! Notes (`/v1/notes`): HTML written about a person, an organization and/or a deal, pinned to
//! any of them or not. Their HTML is sanitized when written ([`super::html`]). Who sees a note:
//! its author, an admin, and any user who may see every item it is attached to.

use std::sync::Arc;

use super::error::DomainError;
use super::followers;
use super::ports::{Edit, Store};
use super::query::{ListQuery, SortField, one_page};
use super::references::{Reference, check_references};
use super::{Session, Timestamp, html, values};
use crate::domain::webhook::{ChangeSource, Stamp};

/// The longest note (Pipedrive documents about 100,000 characters).
pub const MAX_CONTENT: usize = 100_000;

/// The fields of a note as `/v1/noteFields` lists them: `(id, key, name, type, mandatory)`;
/// the pin flags are enums of `1` (Yes) and `0` (No), as Pipedrive's example shows.
pub const FIELDS: [(i64, &str, &str, &str, bool); 9] = [
    (1, "content", "Content", "text", true),
    (
        2,
        "pinned_to_deal_flag",
        "Note is pinned to deal",
        "enum",
        false,
    ),
    (
        3,
        "pinned_to_person_flag",
        "Note is pinned to person",
        "enum",
        false,
    ),
    (
        4,
        "pinned_to_organization_flag",
        "Note is pinned to organization",
        "enum",
        false,
    ),
    (5, "deal_id", "Deal", "deal", false),
    (6, "person_id", "Person", "people", false),
    (7, "org_id", "Organization", "org", false),
    (8, "user_id", "Author", "user", false),
    (9, "add_time", "Add time", "date", false),
];

/// What a note holds that a client sets.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct NoteValues {
    pub user_id: i64,
    pub content: String,
    pub deal_id: Option<i64>,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    pub pinned_to_deal: bool,
    pub pinned_to_person: bool,
    pub pinned_to_org: bool,
    pub add_time: Timestamp,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    pub id: i64,
    pub company_id: i64,
    pub values: NoteValues,
    pub last_update_user_id: i64,
    pub active: bool,
    pub update_time: Timestamp,
}

/// A note to insert: every rule has passed.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub company_id: i64,
    pub values: NoteValues,
    pub now: Timestamp,
    /// Where it is added: its webhook event's `change_source`.
    pub source: ChangeSource,
}

impl NewNote {
    pub fn stored(&self, id: i64) -> Note {
        Note {
            id,
            company_id: self.company_id,
            last_update_user_id: self.values.user_id,
            values: self.values.clone(),
            active: true,
            update_time: self.now,
        }
    }
}

/// What a client asked for; `None` leaves a value alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct NoteDraft {
    pub content: Option<String>,
    pub user_id: Option<i64>,
    pub deal_id: Option<Option<i64>>,
    pub person_id: Option<Option<i64>>,
    pub org_id: Option<Option<i64>>,
    pub pinned_to_deal: Option<bool>,
    pub pinned_to_person: Option<bool>,
    pub pinned_to_org: Option<bool>,
    pub add_time: Option<Timestamp>,
}

/// Which notes a list holds (never deleted ones).
#[derive(Debug, Clone, Default)]
pub struct NoteFilter {
    pub user_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    pub pinned_to_deal: Option<bool>,
    pub pinned_to_person: Option<bool>,
    pub pinned_to_org: Option<bool>,
    /// Added on or after / before the end of these days (`YYYY-MM-DD`, UTC).
    pub added_from: Option<Timestamp>,
    pub added_to: Option<Timestamp>,
    pub updated_since: Option<Timestamp>,
    /// Hide notes this user may not see (`None`: see all).
    pub viewer: Option<i64>,
}

/// What v1 lists may sort notes by.
pub fn sortable(f: SortField) -> bool {
    matches!(
        f,
        SortField::Id
            | SortField::UserId
            | SortField::DealId
            | SortField::PersonId
            | SortField::OrgId
            | SortField::Content
            | SortField::AddTime
            | SortField::UpdateTime
    )
}

pub fn note_not_found() -> DomainError {
    DomainError::NotFound("Note not found".into())
}

/// The note `draft` makes of `base`, and the references it makes anew. The one place every
/// rule of a note is written.
pub fn apply(
    session: &Session,
    base: &NoteValues,
    draft: &NoteDraft,
) -> Result<(NoteValues, Vec<Reference>), DomainError> {
    let d = draft.clone();
    let mut v = base.clone();
    if let Some(c) = d.content {
        let clean = html::sanitize(&c);
        if clean.trim().is_empty() {
            return Err(DomainError::invalid(
                "content",
                "must not be empty (once unsafe markup is removed)",
            ));
        }
        values::max_chars("content", &clean, MAX_CONTENT)?;
        v.content = clean;
    }
    if let Some(u) = d.user_id
        && u != v.user_id
    {
        if !session.user.is_admin {
            return Err(DomainError::Forbidden(
                "Only admins can set another user as a note's author".into(),
            ));
        }
        v.user_id = u;
    }
    if let Some(x) = d.deal_id {
        v.deal_id = x;
    }
    if let Some(x) = d.person_id {
        v.person_id = x;
    }
    if let Some(x) = d.org_id {
        v.org_id = x;
    }
    if v.deal_id.is_none() && v.person_id.is_none() && v.org_id.is_none() {
        return Err(DomainError::refused(
            "A note must be attached to a deal, person or organization: give deal_id, person_id or org_id",
        ));
    }
    let pin = |flag: Option<bool>, current: bool, attached: bool, field: &str| {
        let pinned = flag.unwrap_or(current) && (attached || flag.is_none());
        if flag == Some(true) && !attached {
            return Err(DomainError::invalid(
                field,
                "needs the note to be attached to that item",
            ));
        }
        Ok(pinned && attached)
    };
    v.pinned_to_deal = pin(
        d.pinned_to_deal,
        v.pinned_to_deal,
        v.deal_id.is_some(),
        "pinned_to_deal_flag",
    )?;
    v.pinned_to_person = pin(
        d.pinned_to_person,
        v.pinned_to_person,
        v.person_id.is_some(),
        "pinned_to_person_flag",
    )?;
    v.pinned_to_org = pin(
        d.pinned_to_org,
        v.pinned_to_org,
        v.org_id.is_some(),
        "pinned_to_organization_flag",
    )?;
    if let Some(t) = d.add_time {
        v.add_time = t;
    }
    let mut refs = Vec::new();
    if v.user_id != base.user_id {
        refs.push(Reference::user(v.user_id));
    }
    if v.deal_id != base.deal_id {
        refs.extend(v.deal_id.map(Reference::deal));
    }
    if v.person_id != base.person_id {
        refs.extend(v.person_id.map(Reference::person));
    }
    if v.org_id != base.org_id {
        refs.extend(v.org_id.map(Reference::org));
    }
    Ok((v, refs))
}

/// Every rule for a new note that needs no store (the API and the importer).
pub fn prepare_note(
    session: &Session,
    draft: &NoteDraft,
    now: Timestamp,
) -> Result<(NewNote, Vec<Reference>), DomainError> {
    if draft.content.is_none() {
        return Err(DomainError::Required("content".into()));
    }
    let base = NoteValues {
        user_id: session.user.id,
        add_time: now,
        ..NoteValues::default()
    };
    let (values, refs) = apply(session, &base, draft)?;
    Ok((
        NewNote {
            company_id: session.company.id,
            values,
            now,
            source: session.source,
        },
        refs,
    ))
}

/// A note the session's user may see, not deleted, or 404.
pub async fn find_note(store: &dyn Store, session: &Session, id: i64) -> Result<Note, DomainError> {
    store
        .note(session.company.id, id, followers::viewer(session))
        .await?
        .filter(|n| n.active)
        .ok_or_else(note_not_found)
}

/// `POST /v1/notes`.
pub async fn add_note(
    store: &dyn Store,
    session: &Session,
    draft: NoteDraft,
) -> Result<Note, DomainError> {
    let (new, refs) = prepare_note(session, &draft, session.now())?;
    check_references(store, session, &refs).await?;
    Ok(store.insert_note(new).await?)
}

/// `PUT /v1/notes/{id}`: given fields change, decided again inside the write on the note as
/// it is there (a reference only that decision makes is a 409).
pub async fn update_note(
    store: &dyn Store,
    session: &Session,
    current: Note,
    draft: NoteDraft,
) -> Result<Note, DomainError> {
    let id = current.id;
    let (values, checked) = apply(session, &current.values, &draft)?;
    check_references(store, session, &checked).await?;
    if values == current.values {
        return Ok(current);
    }
    let me = session.clone();
    let edit: Edit<Note, NoteValues> = Arc::new(move |n| {
        let (values, refs) = apply(&me, &n.values, &draft)?;
        match refs.into_iter().find(|r| !checked.contains(r)) {
            Some(_) => Err(DomainError::Conflict(
                "The note was changed by another request meanwhile; read it again and retry."
                    .into(),
            )),
            None => Ok(values),
        }
    });
    store
        .update_note(session.company.id, id, edit, Stamp::by(session))
        .await?
        .ok_or_else(note_not_found)
}

/// `DELETE /v1/notes/{id}`: the note leaves every list and count.
pub async fn delete_note(store: &dyn Store, session: &Session, id: i64) -> Result<(), DomainError> {
    find_note(store, session, id).await?;
    if store
        .delete_note(session.company.id, id, Stamp::by(session))
        .await?
    {
        Ok(())
    } else {
        Err(note_not_found())
    }
}

/// One page of notes and whether more follow; a filter by an item the user may not see is a
/// filter by nothing.
pub async fn list_notes(
    store: &dyn Store,
    session: &Session,
    mut query: ListQuery<NoteFilter>,
) -> Result<(Vec<Note>, bool), DomainError> {
    let f = &query.filter;
    let persons: Vec<i64> = f.person_id.into_iter().collect();
    if !super::query::may_filter_by(store, session, &persons, f.org_id, f.deal_id).await? {
        return Ok((Vec::new(), false));
    }
    query.filter.viewer = followers::viewer(session);
    one_page(query, |q| store.list_notes(session.company.id, q)).await
}

/// The text of the notes (that the session's user may see) on items of `kind` whose text
/// contains `needle` (lower-cased), by item: what searches with `fields=notes` look at.
pub async fn texts_matching(
    store: &dyn Store,
    session: &Session,
    kind: super::Kind,
    needle: &str,
) -> Result<std::collections::HashMap<i64, Vec<String>>, DomainError> {
    let notes = store
        .notes_containing(session.company.id, kind, needle, followers::viewer(session))
        .await?;
    let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for n in notes {
        let item = match kind {
            super::Kind::Person => n.values.person_id,
            super::Kind::Organization => n.values.org_id,
            super::Kind::Deal => n.values.deal_id,
        };
        let text = html::text(&n.values.content);
        if let Some(item) = item
            && text.to_lowercase().contains(needle)
        {
            out.entry(item).or_default().push(text);
        }
    }
    Ok(out)
}
