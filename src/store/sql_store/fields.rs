//! Fields of every kind, with their options (cached).

use std::sync::Arc;

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Kind;
use crate::domain::fields::FieldDef;
use crate::domain::ports::{Edit, FieldChanges, FieldStore, NewField, StoreError};
use crate::domain::webhook::{Action, Stamp};
use crate::store::cached::Change;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, fields};

#[async_trait]
impl<B: Backend> FieldStore for SqlStore<B> {
    async fn fields(&self, company_id: i64, kind: Kind) -> Result<Arc<[FieldDef]>, StoreError> {
        if let Some(f) = self.caches.fields.get(&(company_id, kind)) {
            return Ok(f);
        }
        let loaded: Arc<[FieldDef]> = self
            .backend
            .read(op!(db => fields::load(db, company_id, kind, None).await))
            .await?
            .into();
        self.caches.fields.put((company_id, kind), loaded.clone());
        Ok(loaded)
    }

    async fn insert_field(&self, field: NewField) -> Result<FieldDef, StoreError> {
        let company_id = field.company_id;
        let added = self
            .write_emitting(|emits| {
                op!(db => {
                    let f = fields::insert(db, &field).await?;
                    if let Some(on) = on(company_id, field.kind, f.id) {
                        webhooks::added(db, &emits, on, Stamp::now(field.user_id).via(field.source), &f).await?;
                    }
                    Ok(f)
                })
            })
            .await;
        self.caches.forget(Change::Fields { company_id });
        added
    }

    async fn update_field(
        &self,
        company_id: i64,
        kind: Kind,
        id: i64,
        edit: Edit<FieldDef, FieldChanges>,
        by: Stamp,
    ) -> Result<Option<FieldDef>, StoreError> {
        let updated = self
            .write_emitting(|emits| {
                op!(db => {
                    let Some((before, after)) =
                        fields::update(db, company_id, kind, id, edit, by.user_id, by.time).await?
                    else {
                        return Ok(None);
                    };
                    if let Some(on) = on(company_id, kind, id) {
                        webhooks::updated(db, &emits, on, by, (&before, &after)).await?;
                    }
                    Ok(Some(after))
                })
            })
            .await;
        self.caches.forget(Change::Fields { company_id });
        updated
    }

    async fn delete_fields(
        &self,
        company_id: i64,
        kind: Kind,
        ids: &[i64],
        by: Stamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        let deleted = self
            .write_emitting(|emits| {
                op!(db => {
                    // The fields as they were, for the events (read only when one is wanted).
                    let mut last = Vec::new();
                    if let Some(on) = on(company_id, kind, 0)
                        && !webhooks::subscribers(db, on, Action::Deleted).await?.is_empty()
                    {
                        for id in &ids {
                            last.push(fields::field(db, company_id, kind, *id).await?);
                        }
                    }
                    let deleted = fields::delete(db, company_id, kind, &ids, by.time).await?;
                    for field in last.into_iter().flatten() {
                        if let (Some(on), true) = (on(company_id, kind, field.id), deleted.contains(&field.id)) {
                            webhooks::deleted(db, &emits, (on, by), None, async { Ok(Some(field)) }).await?;
                        }
                    }
                    Ok(deleted)
                })
            })
            .await;
        self.caches.forget(Change::Fields { company_id });
        deleted
    }
}

/// The object a change to a field of `kind` is, for webhooks: person fields only (Pipedrive
/// has no webhooks for the others' definitions in its documents).
fn on(company_id: i64, kind: Kind, id: i64) -> Option<On> {
    (kind == Kind::Person).then(|| On::new(company_id, "personField", id))
}
