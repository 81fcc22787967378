//! Deals.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Timestamp;
use crate::domain::deal::{Deal, DealChanges, DealFilter, NewDeal};
use crate::domain::ports::{DealStore, Edit, StoreError};
use crate::domain::query::ListQuery;
use crate::store::sql::{Backend, deals};

#[async_trait]
impl<B: Backend> DealStore for SqlStore<B> {
    async fn insert_deal(&self, deal: NewDeal) -> Result<Deal, StoreError> {
        self.backend
            .write(op!(db => deals::insert(db, &deal).await))
            .await
    }

    async fn insert_deals(&self, deals: Vec<NewDeal>) -> Result<Vec<i64>, StoreError> {
        self.backend
            .write(op!(db => {
                let mut ids = Vec::with_capacity(deals.len());
                for d in &deals {
                    ids.push(deals::insert(db, d).await?.id);
                }
                Ok(ids)
            }))
            .await
    }

    async fn deal(&self, company_id: i64, id: i64) -> Result<Option<Deal>, StoreError> {
        self.backend
            .read(op!(db => deals::get(db, company_id, id).await))
            .await
    }

    async fn list_deals(
        &self,
        company_id: i64,
        query: ListQuery<DealFilter>,
    ) -> Result<Vec<Deal>, StoreError> {
        if deals::is_quick(&query) {
            return self
                .backend
                .read(op!(db => deals::list(db, company_id, &query).await))
                .await;
        }
        self.backend
            .read_long(op!(db => deals::list(db, company_id, &query).await))
            .await
    }

    async fn update_deal(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Deal, DealChanges>,
        now: Timestamp,
    ) -> Result<Option<Deal>, StoreError> {
        self.backend
            .write(op!(db => deals::update(db, company_id, id, edit, now).await))
            .await
    }

    async fn delete_deal(
        &self,
        company_id: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.backend
            .write(op!(db => deals::delete(db, company_id, id, now).await))
            .await
    }

    async fn search_deal_candidates(
        &self,
        company_id: i64,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Deal>, StoreError> {
        let needle = needle.to_owned();
        self.backend
            .read_long(op!(db => deals::search(db, company_id, &needle, viewer).await))
            .await
    }
}
