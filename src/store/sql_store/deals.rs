//! Deals.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::deal::{Deal, DealChanges, DealFilter, NewDeal};
use crate::domain::ports::{DealStore, Edit, StoreError};
use crate::domain::query::ListQuery;
use crate::domain::webhook::Stamp;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, deals};

const OBJECT: &str = "deal";

fn on(company_id: i64, id: i64) -> On {
    On::new(company_id, OBJECT, id)
}

#[async_trait]
impl<B: Backend> DealStore for SqlStore<B> {
    async fn insert_deal(&self, deal: NewDeal) -> Result<Deal, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let d = deals::insert(db, &deal).await?;
                let by = Stamp::now(deal.creator_user_id).via(deal.source);
                webhooks::added(db, &emits, on(d.company_id, d.id), by, &d).await?;
                Ok(d)
            })
        })
        .await
    }

    async fn insert_deals(&self, deals: Vec<NewDeal>) -> Result<Vec<i64>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let mut ids = Vec::with_capacity(deals.len());
                for new in &deals {
                    let d = deals::insert(db, new).await?;
                    let by = Stamp::now(new.creator_user_id).via(new.source);
                    webhooks::added(db, &emits, on(d.company_id, d.id), by, &d).await?;
                    ids.push(d.id);
                }
                Ok(ids)
            })
        })
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
        let quick = deals::is_quick(&query);
        self.backend
            .read_as(quick, op!(db => deals::list(db, company_id, &query).await))
            .await
    }

    async fn update_deal(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Deal, DealChanges>,
        by: Stamp,
    ) -> Result<Option<Deal>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let Some((before, after)) = deals::update(db, company_id, id, edit, by.time).await?
                else {
                    return Ok(None);
                };
                webhooks::updated(db, &emits, on(company_id, id), by, (&before, &after)).await?;
                Ok(Some(after))
            })
        })
        .await
    }

    async fn delete_deal(&self, company_id: i64, id: i64, by: Stamp) -> Result<bool, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = deals::delete(db, company_id, id, by.time).await?;
                if deleted {
                    let last = deals::get(db, company_id, id);
                    webhooks::deleted(db, &emits, (on(company_id, id), by), None, last).await?;
                }
                Ok(deleted)
            })
        })
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
