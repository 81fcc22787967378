//! Webhooks and their outbox.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::SqlStore;
use crate::domain::ports::{Delivery, OutboxStore, Outcome, StoreError, WebhookStore};
use crate::domain::webhook::{Attempt, NewWebhook, Webhook};
use crate::store::sql::Backend;
use crate::store::sql::webhooks;

#[async_trait]
impl<B: Backend> WebhookStore for SqlStore<B> {
    async fn insert_webhook(&self, w: NewWebhook) -> Result<Webhook, StoreError> {
        self.backend
            .write(op!(db => webhooks::insert(db, &w).await))
            .await
    }

    async fn webhooks(&self, company_id: i64) -> Result<Vec<Webhook>, StoreError> {
        self.backend
            .read(op!(db => webhooks::list(db, company_id).await))
            .await
    }

    async fn webhook(&self, company_id: i64, id: i64) -> Result<Option<Webhook>, StoreError> {
        self.backend
            .read(op!(db => webhooks::get(db, company_id, id).await))
            .await
    }

    async fn delete_webhook(&self, company_id: i64, id: i64) -> Result<bool, StoreError> {
        self.backend
            .write(op!(db => webhooks::delete(db, company_id, id).await))
            .await
    }

    async fn webhook_attempts(
        &self,
        company_id: i64,
        webhook_id: i64,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.backend
            .read(op!(db => webhooks::attempts(db, company_id, webhook_id, limit).await))
            .await
    }
}

#[async_trait]
impl<B: Backend> OutboxStore for SqlStore<B> {
    async fn expand_events(&self, limit: i64) -> Result<usize, StoreError> {
        let waiting = self
            .backend
            .read(op!(db => webhooks::any_waiting(db).await))
            .await?;
        if !waiting {
            return Ok(0);
        }
        self.backend
            .write(op!(db => webhooks::expand(db, limit).await))
            .await
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let due = self
            .backend
            .read(op!(db => webhooks::any_due(db, now_ms).await))
            .await?;
        if !due {
            return Ok(Vec::new());
        }
        self.backend
            .write(op!(db => webhooks::claim(db, now_ms, lease_until_ms, limit).await))
            .await
    }

    async fn finish_delivery(&self, outcome: Outcome) -> Result<(), StoreError> {
        self.backend
            .write(op!(db => webhooks::finish(db, &outcome).await))
            .await
    }

    fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox.clone()
    }
}
