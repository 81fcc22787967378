//! Organizations.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Timestamp;
use crate::domain::organization::{
    NewOrganization, Organization, OrganizationChanges, OrganizationQuery,
};
use crate::domain::ports::{Edit, OrganizationStore, StoreError};
use crate::store::sql::{Backend, organizations};

#[async_trait]
impl<B: Backend> OrganizationStore for SqlStore<B> {
    async fn insert_organization(&self, org: NewOrganization) -> Result<Organization, StoreError> {
        self.backend
            .write(op!(db => organizations::insert(db, &org).await))
            .await
    }

    async fn organization(
        &self,
        company_id: i64,
        id: i64,
    ) -> Result<Option<Organization>, StoreError> {
        self.backend
            .read(op!(db => organizations::get(db, company_id, id).await))
            .await
    }

    async fn organizations_by_ids(
        &self,
        company_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Organization>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.to_vec();
        self.backend
            .read(op!(db => organizations::by_ids(db, company_id, &ids).await))
            .await
    }

    async fn list_organizations(
        &self,
        company_id: i64,
        query: OrganizationQuery,
    ) -> Result<Vec<Organization>, StoreError> {
        self.backend
            .read_long(op!(db => organizations::list(db, company_id, &query).await))
            .await
    }

    async fn update_organization(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Organization, OrganizationChanges>,
        now: Timestamp,
    ) -> Result<Option<Organization>, StoreError> {
        self.backend
            .write(op!(db => organizations::update(db, company_id, id, edit, now).await))
            .await
    }

    async fn delete_organization(
        &self,
        company_id: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.backend
            .write(op!(db => organizations::delete(db, company_id, id, now).await))
            .await
    }

    async fn search_organization_candidates(
        &self,
        company_id: i64,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Organization>, StoreError> {
        let needle = needle.to_owned();
        self.backend
            .read_long(op!(db => organizations::search(db, company_id, &needle, viewer).await))
            .await
    }
}
