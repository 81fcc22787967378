//! Notes.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::note::{NewNote, Note, NoteFilter, NoteValues};
use crate::domain::ports::{Edit, NoteStore, StoreError};
use crate::domain::query::ListQuery;
use crate::domain::{Kind, Timestamp};
use crate::store::sql::{Backend, notes};

#[async_trait]
impl<B: Backend> NoteStore for SqlStore<B> {
    async fn insert_note(&self, note: NewNote) -> Result<Note, StoreError> {
        self.backend
            .write(op!(db => notes::insert(db, &note).await))
            .await
    }

    async fn insert_notes(&self, list: Vec<NewNote>) -> Result<Vec<i64>, StoreError> {
        self.backend
            .write(op!(db => {
                let mut ids = Vec::with_capacity(list.len());
                for n in &list {
                    ids.push(notes::insert(db, n).await?.id);
                }
                Ok(ids)
            }))
            .await
    }

    async fn note(
        &self,
        company_id: i64,
        id: i64,
        viewer: Option<i64>,
    ) -> Result<Option<Note>, StoreError> {
        self.backend
            .read(op!(db => notes::get(db, company_id, id, viewer).await))
            .await
    }

    async fn list_notes(
        &self,
        company_id: i64,
        query: ListQuery<NoteFilter>,
    ) -> Result<Vec<Note>, StoreError> {
        self.backend
            .read_long(op!(db => notes::list(db, company_id, &query).await))
            .await
    }

    async fn update_note(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Note, NoteValues>,
        user_id: i64,
        now: Timestamp,
    ) -> Result<Option<Note>, StoreError> {
        self.backend
            .write(op!(db => notes::update(db, company_id, id, edit, user_id, now).await))
            .await
    }

    async fn notes_containing(
        &self,
        company_id: i64,
        kind: Kind,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Note>, StoreError> {
        let needle = needle.to_owned();
        self.backend
            .read_long(op!(db => notes::containing(db, company_id, kind, &needle, viewer).await))
            .await
    }

    async fn delete_note(
        &self,
        company_id: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.backend
            .write(op!(db => notes::delete(db, company_id, id, now).await))
            .await
    }
}
