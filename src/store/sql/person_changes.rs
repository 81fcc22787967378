//! What each change of a person did to each field (`person_changes`, migration 16).

use super::{Db, FromRow, Row, sql};
use crate::domain::person::{FieldChange, PersonChange};
use crate::domain::ports::StoreError;
use crate::domain::webhook::{ChangeSource, Stamp};

/// Keeps `changes` of a person, made as `by` says, in the caller's transaction. The last is
/// kept first, so that a change read newest first (by id, descending) lists its fields in
/// their order.
pub async fn record(
    db: &impl Db,
    company_id: i64,
    person_id: i64,
    by: Stamp,
    changes: &[FieldChange],
) -> Result<(), StoreError> {
    for c in changes.iter().rev() {
        db.execute(sql!(
            "INSERT INTO person_changes (company_id, person_id, field_key, old_value, \
             new_value, actor_user_id, time, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            company_id,
            person_id,
            c.field_key.as_str(),
            c.old_value.as_deref(),
            c.new_value.as_deref(),
            by.user_id,
            by.time,
            by.source.as_str()
        ))
        .await?;
    }
    Ok(())
}

impl FromRow for PersonChange {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(PersonChange {
            id: r.int(0)?,
            change: FieldChange {
                field_key: r.string(1)?,
                old_value: r.opt_string(2)?,
                new_value: r.opt_string(3)?,
            },
            actor_user_id: r.int(4)?,
            time: r.time(5)?,
            source: ChangeSource::parse(r.text(6)?),
        })
    }
}

/// A person's changes, newest first: at most `limit`, older than the change `before` if given.
pub async fn list(
    db: &impl Db,
    company_id: i64,
    person_id: i64,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<PersonChange>, StoreError> {
    db.rows(sql!(
        format!(
            "SELECT id, field_key, old_value, new_value, actor_user_id, time, source \
             FROM person_changes WHERE person_id = ? AND company_id = ? AND id < ? \
             ORDER BY id DESC LIMIT {limit}"
        ),
        person_id,
        company_id,
        before.unwrap_or(i64::MAX)
    ))
    .await
}
