//! Organizations.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::organization::{
    NewOrganization, Organization, OrganizationChanges, OrganizationQuery,
};
use crate::domain::ports::{Edit, OrganizationStore, StoreError};
use crate::domain::webhook::Stamp;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, organizations};

const OBJECT: &str = "organization";

fn on(company_id: i64, id: i64) -> On {
    On::new(company_id, OBJECT, id)
}

#[async_trait]
impl<B: Backend> OrganizationStore for SqlStore<B> {
    async fn insert_organization(&self, org: NewOrganization) -> Result<Organization, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let o = organizations::insert(db, &org).await?;
                let on = on(o.company_id, o.id);
                webhooks::added(db, &emits, on, Stamp::now(org.created_by).via(org.source), &o).await?;
                Ok(o)
            })
        })
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
        by: Stamp,
    ) -> Result<Option<Organization>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let Some((before, after)) =
                    organizations::update(db, company_id, id, edit, by.time).await?
                else {
                    return Ok(None);
                };
                webhooks::updated(db, &emits, on(company_id, id), by, (&before, &after)).await?;
                Ok(Some(after))
            })
        })
        .await
    }

    async fn delete_organization(
        &self,
        company_id: i64,
        id: i64,
        by: Stamp,
    ) -> Result<bool, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = organizations::delete(db, company_id, id, by.time).await?;
                if deleted {
                    let last = organizations::get(db, company_id, id);
                    webhooks::deleted(db, &emits, (on(company_id, id), by), None, last).await?;
                }
                Ok(deleted)
            })
        })
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
