//! Persons.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::person::{NewPerson, Person, PersonChanges};
use crate::domain::ports::{Edit, MergeEdit, PersonStore, StoreError};
use crate::domain::query::PersonQuery;
use crate::domain::webhook::{Action, Event, Stamp};
use crate::store::sql::persons::{self, PreparedPerson};
use crate::store::sql::webhooks::{self, Emits};
use crate::store::sql::{Backend, Db};

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
        if persons::is_quick(&query) {
            return self
                .backend
                .read(op!(db => persons::list(db, company_id, &query).await))
                .await;
        }
        self.backend
            .read_long(op!(db => persons::list(db, company_id, &query).await))
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
                if before != after {
                    webhooks::emit(db, &emits, company_id, PERSON, || {
                        Event::new(company_id, PERSON, id, Action::Updated, by, Some(&before), Some(&after))
                    })
                    .await?;
                }
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
                if !deleted.is_empty() && webhooks::subscribed(db, company_id, PERSON).await? {
                    for id in &deleted {
                        let last = persons::get(db, company_id, *id).await?;
                        let event = Event::new(company_id, PERSON, *id, Action::Deleted, by, last.as_ref(), None);
                        webhooks::record(db, &emits, &event).await?;
                    }
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
                if webhooks::subscribed(db, company_id, PERSON).await? {
                    let gone = persons::get(db, company_id, from).await?;
                    let mut deleted = Event::new(company_id, PERSON, from, Action::Deleted, by, gone.as_ref(), None);
                    deleted.merged_id = Some(into);
                    let mut merged = Event::new(company_id, PERSON, into, Action::Merged, by, Some(&merge.before), Some(&merge.after));
                    merged.merged_id = Some(from);
                    webhooks::record(db, &emits, &deleted).await?;
                    webhooks::record(db, &emits, &merged).await?;
                }
                Ok(Some(merge.after))
            })
        })
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

const PERSON: &str = "person";

/// The event of a person just inserted, when a webhook may want it.
async fn added(
    db: &impl Db,
    emits: &Emits,
    prepared: &PreparedPerson,
    id: i64,
) -> Result<(), StoreError> {
    let p = &prepared.new;
    webhooks::emit(db, emits, p.company_id, PERSON, || {
        let person = p.clone().into_person(id);
        let by = Stamp::now(p.created_by);
        Event::new(
            p.company_id,
            PERSON,
            id,
            Action::Added,
            by,
            None,
            Some(&person),
        )
    })
    .await
}
