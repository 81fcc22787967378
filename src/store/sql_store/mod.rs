//! The domain's storage traits, implemented once over any [`Backend`]: each operation is the
//! SQL core's statement run as a read or as one committed write, with the caches in front.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::cached::{Caches, Change};
use super::sql::Backend;
use super::sql::webhooks::Emits;
use crate::domain::ports::{DataVersion, Store, StoreError};

/// A store on a SQL engine.
pub struct SqlStore<B> {
    backend: B,
    caches: Caches,
    /// Woken when a committed write stored a webhook event.
    outbox: Arc<Notify>,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            caches: Caches::default(),
            outbox: Arc::new(Notify::new()),
        }
    }

    /// A write that may store webhook events (through the [`Emits`] it is given): once it has
    /// committed one, the dispatcher is woken.
    async fn write_emitting<T, F>(&self, make: impl FnOnce(Emits) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d B::Db) -> super::sql::BoxFuture<'d, Result<T, StoreError>>
            + Clone
            + Send
            + 'static,
    {
        let emits = Emits::default();
        let done = self.backend.write(make(emits.clone())).await;
        if done.is_ok() && emits.any() {
            self.outbox.notify_one();
        }
        done
    }

    /// A write that makes `change` stale in the caches.
    async fn write_then_forget<T: Send + 'static>(
        &self,
        change: Change,
        op: impl for<'d> FnOnce(&'d B::Db) -> super::sql::BoxFuture<'d, Result<T, StoreError>>
        + Clone
        + Send
        + 'static,
    ) -> Result<T, StoreError> {
        let done = self.backend.write(op).await;
        self.caches.forget(change);
        done
    }
}

/// `op!(db => expression)`: the boxed operation a backend runs, `db` naming its connection.
macro_rules! op {
    ($db:ident => $body:expr) => {
        move |$db| Box::pin(async move { $body })
    };
}

mod activities;
mod deals;
mod fields;
mod followers;
mod notes;
mod organizations;
mod persons;
mod pipelines;
mod tenants;
mod toolkit;
mod webhooks;

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    /// The engine's version and the caches' generation: a write forgets its stale entries after
    /// it commits, so a read between the two sees the new data but may meet an old entry; the
    /// generation it read marks what it renders as older than what any request after the write
    /// is answered sees.
    async fn version(&self) -> Result<Option<DataVersion>, StoreError> {
        let generation = self.caches.generation();
        Ok(self.backend.version().await?.map(|DataVersion(engine)| {
            let mut bytes = engine.into_vec();
            bytes.extend_from_slice(&generation.to_le_bytes());
            DataVersion(bytes.into())
        }))
    }

    fn render_metrics(&self, out: &mut String) {
        self.backend.render_metrics(out);
    }
}
