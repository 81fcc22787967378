//! The commands on persons: add (and the store-free rules the importer shares), find, change,
//! delete and merge. Both dialects call these.

use std::sync::Arc;

use super::contacts::{marketing_change, marketing_status_for, normalize_contacts};
use super::name::{name_must_be_given, resolve_name, resolve_update_name};
use super::{Contact, NewPerson, Person, PersonChanges, PersonDraft, digits};
use crate::domain::error::DomainError;
use crate::domain::fields::Fields;
use crate::domain::followers::can_see_person;
use crate::domain::ports::{Edit, MergeEdit, Store};
use crate::domain::references::{
    Reference, check_labels, check_references, merge_custom_values, new_custom_values,
};
use crate::domain::webhook::Stamp;
use crate::domain::{Kind, Session, Timestamp, Visibility};

/// Every rule for a new person that needs no store: the person to insert and the references
/// it makes. The API and the importer both go through here.
pub fn prepare_person(
    session: &Session,
    fields: &Fields,
    draft: PersonDraft,
    now: Timestamp,
) -> Result<(NewPerson, Vec<Reference>), DomainError> {
    let name = resolve_name(
        draft.name.as_deref(),
        draft.first_name.as_deref(),
        draft.last_name.as_deref(),
    )?
    .ok_or_else(name_must_be_given)?;
    let emails = normalize_contacts("email", draft.emails.unwrap_or_default())?;
    let phones = normalize_contacts("phone", draft.phones.unwrap_or_default())?;
    let marketing_status = marketing_status_for(session, draft.marketing_status, &emails)?;
    let mut refs = Vec::new();
    let owner_id = match draft.owner_id {
        Some(id) => {
            refs.push(Reference::owner(id));
            id
        }
        None => session.user.id,
    };
    let org_id = draft.org_id.flatten();
    if let Some(id) = org_id {
        refs.push(Reference::org(id));
    }
    let label_ids = check_labels(fields, draft.label_ids.unwrap_or_default())?;
    let custom_fields = new_custom_values(fields, draft.custom_fields, &mut refs)?;
    let new = NewPerson {
        company_id: session.company.id,
        owner_id,
        org_id,
        name: name.name,
        first_name: name.first_name,
        last_name: name.last_name,
        emails,
        phones,
        label_ids,
        visible_to: draft.visible_to.unwrap_or(Visibility::DEFAULT),
        marketing_status,
        custom_fields,
        add_time: draft.add_time.unwrap_or(now),
        update_time: now,
        followers: vec![owner_id],
        created_by: session.user.id,
        source: session.source,
    };
    Ok((new, refs))
}

/// Adds a person: the one implementation behind v1 `POST /persons` and v2 `POST /persons`.
pub async fn add_person(
    store: &dyn Store,
    session: &Session,
    draft: PersonDraft,
) -> Result<Person, DomainError> {
    let fields = Fields::load(store, Kind::Person, session.company.id).await?;
    let (new, refs) = prepare_person(session, &fields, draft, session.now())?;
    check_references(store, session, &refs).await?;
    Ok(store.insert_person(new).await?)
}

pub fn person_not_found() -> DomainError {
    DomainError::NotFound("Person not found".into())
}

/// A person of the session's company that its user may see (deleted ones too), or 404: a
/// person one may not see is answered exactly like one that does not exist.
pub async fn find_person(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Person, DomainError> {
    store
        .person(session.company.id, id)
        .await?
        .filter(|p| can_see_person(session, p))
        .ok_or_else(person_not_found)
}

/// Like [`find_person`], but not deleted.
pub async fn active_person(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Person, DomainError> {
    find_person(store, session, id).await.and_then(|p| {
        if p.active {
            Ok(p)
        } else {
            Err(person_not_found())
        }
    })
}

/// Changes a person: the one implementation behind v1 `PUT` and v2 `PATCH`. Absent fields are
/// left alone; lists (emails, phones, labels) are replaced whole; `update_time` moves when
/// something changes.
///
/// The change is decided twice by [`person_changes`]: here, on `current` (the person as found
/// by [`active_person`], looked up before the body was read, so a person one may not see is a
/// 404 whatever the body says), to refuse a bad request and check what it refers to; then
/// inside the write's transaction, on the person as it is there, so that what a concurrent
/// write did (another custom value, the other name part, the one marketing change) is built
/// on, never undone.
pub async fn update_person(
    store: &dyn Store,
    session: &Session,
    current: Person,
    draft: PersonDraft,
) -> Result<Person, DomainError> {
    let fields = Fields::load(store, Kind::Person, session.company.id).await?;
    let (changes, checked) = person_changes(session, &fields, &current, draft.clone())?;
    check_references(store, session, &checked).await?;
    if changes.is_empty() {
        // Nothing to change: no write, and `update_time` stays (syncs by `updated_since` must
        // not see an untouched person again).
        return Ok(current);
    }
    let (company_id, id, by) = (session.company.id, current.id, Stamp::by(session));
    let session = session.clone();
    let edit: Edit<Person, PersonChanges> = Arc::new(move |person| {
        let (changes, refs) = person_changes(&session, &fields, person, draft.clone())?;
        // What the change refers to was checked on the person as read; a reference that only
        // the person as it is now makes (its owner changed meanwhile) was not, so the change
        // is refused rather than written unchecked.
        match refs.into_iter().find(|r| !checked.contains(r)) {
            Some(_) => Err(changed_meanwhile()),
            None => Ok(changes),
        }
    });
    store
        .update_person(company_id, id, edit, by)
        .await?
        .ok_or_else(person_not_found)
}

/// The answer to a change that could not be applied to the person as it now is.
fn changed_meanwhile() -> DomainError {
    DomainError::Conflict(
        "The person was changed by another request meanwhile; read it again and retry.".into(),
    )
}

/// What `draft` changes on `current` (nothing where it sets what `current` holds), and the
/// references the changes make: the rules of an update, with no store.
pub fn person_changes(
    session: &Session,
    fields: &Fields,
    current: &Person,
    draft: PersonDraft,
) -> Result<(PersonChanges, Vec<Reference>), DomainError> {
    let mut changes = PersonChanges {
        name: resolve_update_name(
            current,
            draft.name.as_deref(),
            draft.first_name.as_deref(),
            draft.last_name.as_deref(),
        )?,
        emails: draft
            .emails
            .map(|e| normalize_contacts("email", e))
            .transpose()?,
        phones: draft
            .phones
            .map(|p| normalize_contacts("phone", p))
            .transpose()?,
        visible_to: draft.visible_to,
        add_time: draft.add_time,
        ..PersonChanges::default()
    };
    let emails = changes.emails.as_deref().unwrap_or(&current.emails);
    changes.marketing_status = marketing_change(session, current, draft.marketing_status, emails)?;
    let mut refs = Vec::new();
    // Sending back the current owner or organization changes nothing, so it is not checked
    // again (a read-modify-write client must not fail because that owner was deactivated);
    // the same holds for custom values that refer to users, organizations or persons.
    if let Some(owner) = draft.owner_id.filter(|o| *o != current.owner_id) {
        refs.push(Reference::owner(owner));
        changes.owner_id = Some(owner);
    }
    if let Some(org) = draft.org_id.filter(|o| *o != current.org_id) {
        if let Some(id) = org {
            refs.push(Reference::org(id));
        }
        changes.org_id = Some(org);
    }
    if let Some(labels) = draft.label_ids {
        changes.label_ids = Some(check_labels(fields, labels)?);
    }
    if !draft.custom_fields.is_empty() {
        changes.custom_fields = Some(merge_custom_values(
            fields,
            &current.custom_fields,
            draft.custom_fields,
            &mut refs,
        )?);
    }
    changes.drop_unchanged(current);
    Ok((changes, refs))
}

/// Soft-deletes persons: they stay readable by id (`active_flag: false`, `is_deleted: true`)
/// and leave lists, search and counts. Returns the ids that were deleted now; ids that are
/// unknown, of another company or already deleted are skipped.
pub async fn delete_persons(
    store: &dyn Store,
    session: &Session,
    ids: &[i64],
) -> Result<Vec<i64>, DomainError> {
    let mut visible = Vec::with_capacity(ids.len());
    for id in ids {
        if active_person(store, session, *id).await.is_ok() {
            visible.push(*id);
        }
    }
    Ok(store
        .delete_persons(session.company.id, &visible, Stamp::by(session))
        .await?)
}

/// Merges person `id` into `merge_with_id`, which is kept and wins every conflict: its name,
/// owner and visibility stay; its organization, marketing status and custom values stay where
/// set and are filled from the other where not; emails, phones, labels and followers are united.
/// Person `id` is deleted. What is united is decided inside the write's transaction, on both
/// persons as they are there ([`merged`]): a change made to either meanwhile is kept.
pub async fn merge_persons(
    store: &dyn Store,
    session: &Session,
    from: Person,
    merge_with_id: i64,
) -> Result<Person, DomainError> {
    let id = from.id;
    if id == merge_with_id {
        return Err(DomainError::invalid(
            "merge_with_id",
            "a person cannot be merged with itself",
        ));
    }
    let not_found =
        || DomainError::invalid("merge_with_id", format!("person {merge_with_id} not found"));
    active_person(store, session, merge_with_id)
        .await
        .map_err(|_| not_found())?;
    let edit: MergeEdit = Arc::new(|from, into| Ok(merged(from, into)));
    store
        .merge_persons(
            session.company.id,
            id,
            merge_with_id,
            edit,
            Stamp::by(session),
        )
        .await?
        .ok_or_else(person_not_found)
}

/// What merging `from` into `into` changes on `into`.
pub fn merged(from: &Person, into: &Person) -> PersonChanges {
    let mut custom = from.custom_fields.clone();
    custom.extend(into.custom_fields.clone());
    let mut labels = into.label_ids.clone();
    labels.extend(
        from.label_ids
            .iter()
            .filter(|l| !into.label_ids.contains(l)),
    );
    PersonChanges {
        org_id: Some(into.org_id.or(from.org_id)),
        emails: Some(unite(&into.emails, &from.emails, |v| v.to_lowercase())),
        phones: Some(unite(&into.phones, &from.phones, digits)),
        label_ids: Some(labels),
        marketing_status: match (into.marketing_status, from.marketing_status) {
            (None, Some(s)) => Some((s, from.marketing_changed)),
            _ => None,
        },
        custom_fields: Some(custom),
        ..PersonChanges::default()
    }
}

/// `keep` followed by the values of `add` that `keep` lacks (compared by `key`); `keep`'s
/// primary stays primary.
fn unite(keep: &[Contact], add: &[Contact], key: impl Fn(&str) -> String) -> Vec<Contact> {
    let mut out = keep.to_vec();
    for c in add {
        if !out.iter().any(|k| key(&k.value) == key(&c.value)) {
            out.push(Contact {
                primary: false,
                ..c.clone()
            });
        }
    }
    if !out.is_empty() && !out.iter().any(|c| c.primary) {
        out[0].primary = true;
    }
    out
}
