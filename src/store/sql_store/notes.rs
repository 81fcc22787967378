//! Notes.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Kind;
use crate::domain::note::{NewNote, Note, NoteFilter, NoteValues};
use crate::domain::ports::{Edit, NoteStore, StoreError};
use crate::domain::query::ListQuery;
use crate::domain::webhook::Stamp;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, notes};

const OBJECT: &str = "note";

fn on(company_id: i64, id: i64) -> On {
    On::new(company_id, OBJECT, id)
}

#[async_trait]
impl<B: Backend> NoteStore for SqlStore<B> {
    async fn insert_note(&self, note: NewNote) -> Result<Note, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let n = notes::insert(db, &note).await?;
                let by = Stamp::now(note.values.user_id).via(note.source);
                webhooks::added(db, &emits, on(n.company_id, n.id), by, &n).await?;
                Ok(n)
            })
        })
        .await
    }

    async fn insert_notes(&self, list: Vec<NewNote>) -> Result<Vec<i64>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let mut ids = Vec::with_capacity(list.len());
                for new in &list {
                    let n = notes::insert(db, new).await?;
                    let by = Stamp::now(new.values.user_id).via(new.source);
                    webhooks::added(db, &emits, on(n.company_id, n.id), by, &n).await?;
                    ids.push(n.id);
                }
                Ok(ids)
            })
        })
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
        by: Stamp,
    ) -> Result<Option<Note>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let Some((before, after)) =
                    notes::update(db, company_id, id, edit, by.user_id, by.time).await?
                else {
                    return Ok(None);
                };
                webhooks::updated(db, &emits, on(company_id, id), by, (&before, &after)).await?;
                Ok(Some(after))
            })
        })
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

    async fn delete_note(&self, company_id: i64, id: i64, by: Stamp) -> Result<bool, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = notes::delete(db, company_id, id, by.time).await?;
                if deleted {
                    let last = notes::get(db, company_id, id, None);
                    webhooks::deleted(db, &emits, (on(company_id, id), by), None, last).await?;
                }
                Ok(deleted)
            })
        })
        .await
    }
}
