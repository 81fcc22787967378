//! Companies, users and sessions (cached).

use std::sync::Arc;

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::ports::{NewCompany, NewUser, StoreError, TenantStore};
use crate::domain::webhook::Stamp;
use crate::domain::{Company, Session, Timestamp, User};
use crate::store::cached::Change;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, tenants};

#[async_trait]
impl<B: Backend> TenantStore for SqlStore<B> {
    async fn session_by_digest(&self, digest: &str) -> Result<Option<Arc<Session>>, StoreError> {
        let key = digest.to_owned();
        if let Some(s) = self.caches.sessions.get(&key) {
            return Ok(Some(s));
        }
        let digest = key.clone();
        let found = self
            .backend
            .read(op!(db => tenants::session(db, &digest).await))
            .await?
            .map(Arc::new);
        if let Some(s) = &found {
            self.caches.sessions.put(key, s.clone());
        }
        Ok(found)
    }

    async fn companies(&self) -> Result<Vec<Company>, StoreError> {
        self.backend
            .read(op!(db => tenants::companies(db).await))
            .await
    }

    async fn company(&self, id: i64) -> Result<Option<Company>, StoreError> {
        self.backend
            .read(op!(db => tenants::company(db, id).await))
            .await
    }

    async fn add_company(
        &self,
        company: NewCompany,
        admin: NewUser,
    ) -> Result<(Company, User), StoreError> {
        self.backend
            .write(op!(db => tenants::add_company(db, company, admin).await))
            .await
    }

    async fn set_campaigns(&self, company_id: i64, enabled: bool) -> Result<bool, StoreError> {
        self.write_then_forget(
            Change::Company,
            op!(db => tenants::set_campaigns(db, company_id, enabled).await),
        )
        .await
    }

    async fn add_user(&self, user: NewUser) -> Result<User, StoreError> {
        let company_id = user.company_id;
        let added = self
            .write_emitting(|emits| {
                op!(db => {
                    let u = tenants::add_user(db, &user).await?;
                    let on = On::new(company_id, "user", u.id);
                    webhooks::added(db, &emits, on, Stamp::now(u.id), &u).await?;
                    Ok(u)
                })
            })
            .await;
        self.caches.forget(Change::Users { company_id });
        added
    }

    /// A user's (de)activation is a change of the user (Pipedrive sends no delete for it), made
    /// by no user of the API: the event names the user itself.
    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<bool, StoreError> {
        let changed = self
            .write_emitting(|emits| {
                op!(db => {
                    let before = tenants::user_by_id(db, user_id).await?;
                    let changed = tenants::set_user_active(db, user_id, active).await?;
                    let after = tenants::user_by_id(db, user_id).await?;
                    if let (Some(before), Some(after)) = (before, after)
                        && before.active != after.active
                    {
                        let on = On::new(after.company_id, "user", user_id);
                        let by = Stamp::now(user_id);
                        webhooks::updated(db, &emits, on, by, (&before, &after)).await?;
                    }
                    Ok(changed)
                })
            })
            .await;
        self.caches.forget(Change::User);
        changed
    }

    async fn set_token_digest(&self, user_id: i64, digest: &str) -> Result<bool, StoreError> {
        let digest = digest.to_owned();
        self.write_then_forget(
            Change::User,
            op!(db => tenants::set_token_digest(db, user_id, &digest).await),
        )
        .await
    }

    /// A user's row changed (at most once a minute per user): the company's users are read
    /// again; its sessions stay.
    async fn record_login(
        &self,
        company_id: i64,
        user_id: i64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_then_forget(
            Change::Users { company_id },
            op!(db => tenants::record_login(db, company_id, user_id, at).await),
        )
        .await
    }

    async fn set_company_profile(
        &self,
        company_id: i64,
        country: &str,
        industry: &str,
    ) -> Result<bool, StoreError> {
        let (country, industry) = (country.to_owned(), industry.to_owned());
        self.write_then_forget(
            Change::Company,
            op!(db => tenants::set_company_profile(db, company_id, &country, &industry).await),
        )
        .await
    }

    async fn users(&self, company_id: i64) -> Result<Arc<[User]>, StoreError> {
        if let Some(u) = self.caches.users.get(&company_id) {
            return Ok(u);
        }
        let users: Arc<[User]> = self
            .backend
            .read(op!(db => tenants::users(db, company_id).await))
            .await?
            .into();
        self.caches.users.put(company_id, users.clone());
        Ok(users)
    }

    /// From the company's users as cached: every create names its owner, and a read of its
    /// own per create cost the path a read transaction. One not among them (added since by
    /// another process, or none) is read.
    async fn user(&self, company_id: i64, id: i64) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.users(company_id).await?.iter().find(|u| u.id == id) {
            return Ok(Some(user.clone()));
        }
        self.backend
            .read(op!(db => tenants::user(db, company_id, id).await))
            .await
    }
}
