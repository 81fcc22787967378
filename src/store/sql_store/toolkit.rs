//! The admin API's store: reset, snapshots and the company clock, each one write.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::ports::{Defaults, Restore, SnapshotInfo, StoreError, ToolkitStore};
use crate::domain::{Clock, Timestamp};
use crate::store::cached::Change;
use crate::store::sql::{Backend, company_data, tenants};

impl<B: Backend> SqlStore<B> {
    /// After a company's data was replaced: its fields and its sessions (which carry the
    /// company's clock) are read again.
    fn forget_company(&self, company_id: i64) {
        self.caches.forget(Change::Fields { company_id });
        self.caches.forget(Change::Company);
    }
}

#[async_trait]
impl<B: Backend> ToolkitStore for SqlStore<B> {
    async fn reset_company(
        &self,
        company_id: i64,
        defaults: Defaults,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let done = self
            .backend
            .write(op!(db => company_data::reset(db, company_id, &defaults, at).await))
            .await;
        self.forget_company(company_id);
        done
    }

    async fn save_snapshot(
        &self,
        company_id: i64,
        name: &str,
        at: Timestamp,
    ) -> Result<SnapshotInfo, StoreError> {
        let name = name.to_owned();
        self.backend
            .write(op!(db => company_data::save(db, company_id, &name, at).await))
            .await
    }

    async fn snapshots(&self, company_id: i64) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.backend
            .read(op!(db => company_data::list(db, company_id).await))
            .await
    }

    async fn restore_snapshot(&self, company_id: i64, name: &str) -> Result<Restore, StoreError> {
        let name = name.to_owned();
        let done = self
            .backend
            .write(op!(db => company_data::restore(db, company_id, &name).await))
            .await;
        self.forget_company(company_id);
        done
    }

    async fn delete_snapshot(&self, company_id: i64, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.backend
            .write(op!(db => company_data::delete(db, company_id, &name).await))
            .await
    }

    async fn set_clock(&self, company_id: i64, clock: Clock) -> Result<bool, StoreError> {
        self.write_then_forget(
            Change::Company,
            op!(db => tenants::set_clock(db, company_id, clock).await),
        )
        .await
    }
}
