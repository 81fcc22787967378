//! Persons.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Timestamp;
use crate::domain::person::{NewPerson, Person, PersonChanges};
use crate::domain::ports::{Edit, MergeEdit, PersonStore, StoreError};
use crate::domain::query::PersonQuery;
use crate::store::sql::Backend;
use crate::store::sql::persons::{self, PreparedPerson};

#[async_trait]
impl<B: Backend> PersonStore for SqlStore<B> {
    async fn insert_person(&self, person: NewPerson) -> Result<Person, StoreError> {
        let prepared = PreparedPerson::new(person)?;
        let (id, prepared) = self
            .backend
            .write(op!(db => {
                let id = persons::insert(db, &prepared).await?;
                Ok((id, prepared))
            }))
            .await?;
        Ok(prepared.new.into_person(id))
    }

    async fn insert_persons(&self, persons: Vec<NewPerson>) -> Result<Vec<i64>, StoreError> {
        let prepared = persons
            .into_iter()
            .map(PreparedPerson::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.backend
            .write(op!(db => {
                let mut ids = Vec::with_capacity(prepared.len());
                for p in &prepared {
                    ids.push(persons::insert(db, p).await?);
                }
                Ok(ids)
            }))
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
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        self.backend
            .write(op!(db => persons::update(db, company_id, id, edit, now).await))
            .await
    }

    async fn delete_persons(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        self.backend
            .write(op!(db => persons::delete_many(db, company_id, &ids, now).await))
            .await
    }

    async fn merge_persons(
        &self,
        company_id: i64,
        from: i64,
        into: i64,
        edit: MergeEdit,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        self.backend
            .write(op!(db => persons::merge(db, company_id, from, into, edit, actor, now).await))
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
