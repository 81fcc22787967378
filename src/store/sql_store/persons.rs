//! Persons.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::person::{NewPerson, Person, PersonChange, PersonChanges, field_changes};
use crate::domain::ports::{Edit, MergeEdit, PersonStore, StoreError};
use crate::domain::query::PersonQuery;
use crate::domain::webhook::{Action, Event, Stamp};
use crate::store::sql::person_changes;
use crate::store::sql::persons::{self, PreparedPerson};
use crate::store::sql::webhooks::{self, Emits, On};
use crate::store::sql::{Backend, Db, to_json};

#[async_trait]
impl<B: Backend> PersonStore for SqlStore<B> {
    async fn insert_person(&self, person: NewPerson) -> Result<Person, StoreError> {
        let prepared = PreparedPerson::new(person)?;
        let (id, prepared) = self
            .write_emitting(|emits| {
                op!(db => {
                    let id = persons::insert(db, &prepared).await?;
                    added(db, &emits, &prepared, id).await?;
                    Ok((id, prepared))
                })
            })
            .await?;
        Ok(prepared.new.into_person(id))
    }

    async fn insert_persons(&self, persons: Vec<NewPerson>) -> Result<Vec<i64>, StoreError> {
        let prepared = persons
            .into_iter()
            .map(PreparedPerson::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.write_emitting(|emits| {
            op!(db => {
                let mut ids = Vec::with_capacity(prepared.len());
                for p in &prepared {
                    let id = persons::insert(db, p).await?;
                    added(db, &emits, p, id).await?;
                    ids.push(id);
                }
                Ok(ids)
            })
        })
        .await
    }

    async fn person(&self, company_id: i64, id: i64) -> Result<Option<Person>, StoreError> {
        self.backend
            .read(op!(db => persons::get(db, company_id, id).await))
            .await
    }

    async fn list_persons(
        &self,
        company_id: i64,
        query: PersonQuery,
    ) -> Result<Vec<Person>, StoreError> {
        let quick = persons::is_quick(&query);
        self.backend
            .read_as(
                quick,
                op!(db => persons::list(db, company_id, &query).await),
            )
            .await
    }

    async fn list_person_ids(
        &self,
        company_id: i64,
        query: PersonQuery,
    ) -> Result<Vec<i64>, StoreError> {
        let quick = persons::is_quick(&query);
        self.backend
            .read_as(
                quick,
                op!(db => persons::list_ids(db, company_id, &query).await),
            )
            .await
    }

    async fn update_person(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Person, PersonChanges>,
        by: Stamp,
    ) -> Result<Option<Person>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let Some((before, after)) =
                    persons::update(db, company_id, id, edit, by.time).await?
                else {
                    return Ok(None);
                };
                let changes = field_changes(&before, &after);
                person_changes::record(db, company_id, id, by, &changes).await?;
                webhooks::updated(db, &emits, on(company_id, id), by, (&before, &after)).await?;
                Ok(Some(after))
            })
        })
        .await
    }

    async fn delete_persons(
        &self,
        company_id: i64,
        ids: &[i64],
        by: Stamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = persons::delete_many(db, company_id, &ids, by.time).await?;
                for id in &deleted {
                    let last = persons::get(db, company_id, *id);
                    webhooks::deleted(db, &emits, (on(company_id, *id), by), None, last).await?;
                }
                Ok(deleted)
            })
        })
        .await
    }

    async fn merge_persons(
        &self,
        company_id: i64,
        from: i64,
        into: i64,
        edit: MergeEdit,
        by: Stamp,
    ) -> Result<Option<Person>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let Some(merge) = persons::merge(db, company_id, from, into, edit, by).await? else {
                    return Ok(None);
                };
                // As Pipedrive: the merged person deleted (naming the one kept), the kept one
                // merged (naming the one deleted).
                let gone = persons::get(db, company_id, from);
                webhooks::deleted(db, &emits, (on(company_id, from), by), Some(into), gone).await?;
                let changes = field_changes(&merge.before, &merge.after);
                person_changes::record(db, company_id, into, by, &changes).await?;
                let kept = (&merge.before, &merge.after);
                webhooks::merged(db, &emits, (on(company_id, into), by), from, kept).await?;
                Ok(Some(merge.after))
            })
        })
        .await
    }

    async fn person_changes(
        &self,
        company_id: i64,
        person_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PersonChange>, StoreError> {
        self.backend
            .read(op!(db => person_changes::list(db, company_id, person_id, before, limit).await))
            .await
    }

    async fn persons_by_email(
        &self,
        company_id: i64,
        email: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let email = email.to_owned();
        self.backend
            .read(op!(db => persons::by_email(db, company_id, &email, org_id, viewer).await))
            .await
    }

    async fn search_candidates(
        &self,
        company_id: i64,
        needle: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let needle = needle.to_owned();
        self.backend
            .read_long(op!(db => persons::search(db, company_id, &needle, org_id, viewer).await))
            .await
    }
}

fn on(company_id: i64, id: i64) -> On {
    On::new(company_id, "person", id)
}

/// The event of a person just inserted, if a webhook wants it (the person is built only then).
async fn added(
    db: &impl Db,
    emits: &Emits,
    prepared: &PreparedPerson,
    id: i64,
) -> Result<(), StoreError> {
    let p = &prepared.new;
    let on = on(p.company_id, id);
    let hooks = webhooks::subscribers(db, on, Action::Added).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let e = Event {
        current: Some(to_json(&p.clone().into_person(id))?),
        ..webhooks::event(on, Action::Added, Stamp::now(p.created_by).via(p.source))
    };
    webhooks::record(db, emits, &e, &hooks).await
}
