//! Fields of every kind, with their options (cached).

use std::sync::Arc;

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::fields::FieldDef;
use crate::domain::ports::{Edit, FieldChanges, FieldStore, NewField, StoreError};
use crate::domain::{Kind, Timestamp};
use crate::store::cached::Change;
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
        self.write_then_forget(
            Change::Fields { company_id },
            op!(db => fields::insert(db, &field).await),
        )
        .await
    }

    async fn update_field(
        &self,
        company_id: i64,
        kind: Kind,
        id: i64,
        edit: Edit<FieldDef, FieldChanges>,
        user_id: i64,
        now: Timestamp,
    ) -> Result<Option<FieldDef>, StoreError> {
        self.write_then_forget(
            Change::Fields { company_id },
            op!(db => fields::update(db, company_id, kind, id, edit, user_id, now).await),
        )
        .await
    }

    async fn delete_fields(
        &self,
        company_id: i64,
        kind: Kind,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        self.write_then_forget(
            Change::Fields { company_id },
            op!(db => fields::delete(db, company_id, kind, &ids, now).await),
        )
        .await
    }
}
