//! The commands on activities: add (and the store-free rules the importer shares), find,
//! change, delete and list. Both dialects call these.
//!
//! Who sees an activity: its owner, an admin, and any user who may see its person (the primary
//! participant), organization and deal (the store applies this rule in its queries). One that
//! may not be seen is answered as one that does not exist.

use std::sync::Arc;

use super::{
    Activity, ActivityDraft, ActivityFilter, ActivityType, ActivityValues, NewActivity, apply,
};
use crate::domain::error::DomainError;
use crate::domain::followers;
use crate::domain::ports::{Edit, Store};
use crate::domain::query::{self, ListQuery, one_page};
use crate::domain::references::{Reference, check_references};
use crate::domain::webhook::Stamp;
use crate::domain::{Session, Timestamp};

pub fn activity_not_found() -> DomainError {
    DomainError::NotFound("Activity not found".into())
}

/// An activity of the session's company that its user may see (deleted ones too), or 404.
pub async fn find_activity(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Activity, DomainError> {
    store
        .activity(session.company.id, id, followers::viewer(session))
        .await?
        .ok_or_else(activity_not_found)
}

/// Every rule for a new activity that needs no store: the activity to insert and the
/// references it makes. Without a `type` it is of the first active type; without a
/// `subject`, it is named after its type (as Pipedrive's v1 did).
pub fn prepare_activity(
    session: &Session,
    types: &[ActivityType],
    draft: &ActivityDraft,
    now: Timestamp,
) -> Result<(NewActivity, Vec<Reference>), DomainError> {
    let base = ActivityValues {
        owner_id: session.user.id,
        type_key: super::types::default_type(types)?.key_string.clone(),
        ..ActivityValues::default()
    };
    let (mut values, mut refs) = apply(&base, draft, types, now)?;
    if values.subject.is_empty() {
        values.subject = super::types::active_type(types, &values.type_key)?
            .name
            .clone();
    }
    // The owner is the session's user unless the body names another.
    if draft.owner_id.is_none() {
        refs.retain(|r| *r != Reference::owner(session.user.id));
    }
    Ok((
        NewActivity {
            company_id: session.company.id,
            creator_user_id: session.user.id,
            values,
            now,
            source: session.source,
        },
        refs,
    ))
}

/// Adds an activity: the one implementation behind v2 `POST /activities`.
pub async fn add_activity(
    store: &dyn Store,
    session: &Session,
    draft: ActivityDraft,
) -> Result<Activity, DomainError> {
    let types = store.activity_types(session.company.id).await?;
    let (new, refs) = prepare_activity(session, &types, &draft, session.now())?;
    check_references(store, session, &refs).await?;
    Ok(store.insert_activity(new).await?)
}

/// Changes an activity: the one implementation behind v2 `PATCH /activities/{id}`. Decided
/// twice, as deals are: on `current` to refuse a bad request and check what it newly names;
/// then inside the write on the activity as it is there. A reference only the activity as
/// it is now makes (one the first decision did not check) is a 409.
pub async fn update_activity(
    store: &dyn Store,
    session: &Session,
    current: &Activity,
    draft: ActivityDraft,
) -> Result<Activity, DomainError> {
    let types = store.activity_types(session.company.id).await?;
    let (values, checked) = apply(&current.values, &draft, &types, session.now())?;
    check_references(store, session, &checked).await?;
    if values == current.values {
        return Ok(current.clone());
    }
    let clock = session.company.clock;
    let edit: Edit<Activity, ActivityValues> = Arc::new(move |a| {
        let (values, refs) = apply(&a.values, &draft, &types, clock.now())?;
        match refs.into_iter().find(|r| !checked.contains(r)) {
            Some(_) => Err(DomainError::Conflict(
                "The activity was changed by another request meanwhile; read it again and retry."
                    .into(),
            )),
            None => Ok(values),
        }
    });
    store
        .update_activity(session.company.id, current.id, edit, Stamp::by(session))
        .await?
        .ok_or_else(activity_not_found)
}

/// Soft-deletes an activity the user may see: it stays readable by id (`is_deleted: true`)
/// and leaves every list and count.
pub async fn delete_activity(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<(), DomainError> {
    let a = find_activity(store, session, id).await?;
    if a.active
        && store
            .delete_activity(session.company.id, id, Stamp::by(session))
            .await?
    {
        Ok(())
    } else {
        Err(activity_not_found())
    }
}

/// One page of activities and whether more follow. A filter by a person, organization or
/// deal the user may not see is a filter by nothing.
pub async fn list_activities(
    store: &dyn Store,
    session: &Session,
    mut query: ListQuery<ActivityFilter>,
) -> Result<(Vec<Activity>, bool), DomainError> {
    let f = &query.filter;
    let persons: Vec<i64> = [f.person_id, f.participant_id]
        .into_iter()
        .flatten()
        .collect();
    if !query::may_filter_by(store, session, &persons, f.org_id, f.deal_id).await? {
        return Ok((Vec::new(), false));
    }
    query.filter.viewer = followers::viewer(session);
    one_page(query, |q| store.list_activities(session.company.id, q)).await
}
