//! The domain's storage traits, implemented once over any [`Backend`]: each operation is the
//! SQL core's statement run as a read or as one committed write, with the caches in front.

use std::sync::Arc;

use async_trait::async_trait;

use super::cached::{Caches, Change};
use super::sql::persons::PreparedPerson;
use super::sql::{Backend, fields, followers, organizations, persons, tenants};
use crate::domain::fields::{FieldDef, FieldOption};
use crate::domain::followers::{Follower, FollowerChange, FollowerRef, Kind};
use crate::domain::organization::{
    NewOrganization, Organization, OrganizationChanges, OrganizationQuery,
};
use crate::domain::person::{NewPerson, Person, PersonChanges};
use crate::domain::ports::{
    Edit, FieldChanges, FieldStore, FollowerStore, MergeEdit, NewCompany, NewField, NewUser,
    OrganizationStore, PersonStore, Store, StoreError, TenantStore,
};
use crate::domain::query::PersonQuery;
use crate::domain::{Company, Session, Timestamp, User};

/// A store on a SQL engine.
pub struct SqlStore<B> {
    backend: B,
    caches: Caches,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            caches: Caches::default(),
        }
    }

    /// A write that makes `change` stale in the caches.
    async fn write_then_forget<T: Send + 'static>(
        &self,
        change: Change,
        op: impl for<'d> FnOnce(&'d B::Db) -> super::sql::BoxFuture<'d, Result<T, StoreError>>
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
        self.write_then_forget(
            Change::UserAdded { company_id },
            op!(db => tenants::add_user(db, &user).await),
        )
        .await
    }

    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<bool, StoreError> {
        self.write_then_forget(
            Change::User,
            op!(db => tenants::set_user_active(db, user_id, active).await),
        )
        .await
    }

    async fn set_token_digest(&self, user_id: i64, digest: &str) -> Result<bool, StoreError> {
        let digest = digest.to_owned();
        self.write_then_forget(
            Change::User,
            op!(db => tenants::set_token_digest(db, user_id, &digest).await),
        )
        .await
    }

    async fn record_login(&self, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.backend
            .write(op!(db => tenants::record_login(db, user_id, at).await))
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

    async fn user(&self, company_id: i64, id: i64) -> Result<Option<User>, StoreError> {
        self.backend
            .read(op!(db => tenants::user(db, company_id, id).await))
            .await
    }
}

#[async_trait]
impl<B: Backend> FieldStore for SqlStore<B> {
    async fn person_fields(&self, company_id: i64) -> Result<Arc<[FieldDef]>, StoreError> {
        if let Some(f) = self.caches.fields.get(&company_id) {
            return Ok(f);
        }
        let loaded: Arc<[FieldDef]> = self
            .backend
            .read(op!(db => fields::load(db, company_id, None).await))
            .await?
            .into();
        self.caches.fields.put(company_id, loaded.clone());
        Ok(loaded)
    }

    async fn org_label_options(&self, company_id: i64) -> Result<Vec<FieldOption>, StoreError> {
        self.backend
            .read(op!(db => fields::org_labels(db, company_id).await))
            .await
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
        id: i64,
        edit: Edit<FieldDef, FieldChanges>,
        user_id: i64,
        now: Timestamp,
    ) -> Result<Option<FieldDef>, StoreError> {
        self.write_then_forget(
            Change::Fields { company_id },
            op!(db => fields::update(db, company_id, id, edit, user_id, now).await),
        )
        .await
    }

    async fn delete_fields(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        self.write_then_forget(
            Change::Fields { company_id },
            op!(db => fields::delete(db, company_id, &ids, now).await),
        )
        .await
    }
}

#[async_trait]
impl<B: Backend> PersonStore for SqlStore<B> {
    async fn insert_person(&self, person: NewPerson) -> Result<Person, StoreError> {
        let prepared = PreparedPerson::new(person)?;
        let (id, prepared) = self
            .backend
            .write(op!(db => {
                let id = persons::insert(db, &prepared).await?;
                Ok((id, prepared))
            }))
            .await?;
        Ok(prepared.new.into_person(id))
    }

    async fn insert_persons(&self, persons: Vec<NewPerson>) -> Result<Vec<i64>, StoreError> {
        let prepared = persons
            .into_iter()
            .map(PreparedPerson::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.backend
            .write(op!(db => {
                let mut ids = Vec::with_capacity(prepared.len());
                for p in &prepared {
                    ids.push(persons::insert(db, p).await?);
                }
                Ok(ids)
            }))
            .await
    }

    async fn person(&self, company_id: i64, id: i64) -> Result<Option<Person>, StoreError> {
        self.backend
            .read(op!(db => persons::get(db, company_id, id).await))
            .await
    }

    async fn list_persons(
        &self,
        company_id: i64,
        query: PersonQuery,
    ) -> Result<Vec<Person>, StoreError> {
        if persons::is_quick(&query) {
            return self
                .backend
                .read(op!(db => persons::list(db, company_id, &query).await))
                .await;
        }
        self.backend
            .read_long(op!(db => persons::list(db, company_id, &query).await))
            .await
    }

    async fn update_person(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Person, PersonChanges>,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        self.backend
            .write(op!(db => persons::update(db, company_id, id, edit, now).await))
            .await
    }

    async fn delete_persons(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        self.backend
            .write(op!(db => persons::delete_many(db, company_id, &ids, now).await))
            .await
    }

    async fn merge_persons(
        &self,
        company_id: i64,
        from: i64,
        into: i64,
        edit: MergeEdit,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        self.backend
            .write(op!(db => persons::merge(db, company_id, from, into, edit, actor, now).await))
            .await
    }

    async fn persons_by_email(
        &self,
        company_id: i64,
        email: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let email = email.to_owned();
        self.backend
            .read(op!(db => persons::by_email(db, company_id, &email, org_id, viewer).await))
            .await
    }

    async fn search_candidates(
        &self,
        company_id: i64,
        needle: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let needle = needle.to_owned();
        self.backend
            .read_long(op!(db => persons::search(db, company_id, &needle, org_id, viewer).await))
            .await
    }
}

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

#[async_trait]
impl<B: Backend> FollowerStore for SqlStore<B> {
    async fn followers(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<Follower>, StoreError> {
        self.backend
            .read(op!(db => followers::list(db, company_id, kind, item_id).await))
            .await
    }

    async fn add_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        user_id: i64,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError> {
        let item = followers::Item {
            company_id,
            kind,
            id: item_id,
        };
        self.backend
            .write(op!(db => {
                let Some(id) = followers::follow(db, item, user_id, actor, now).await? else {
                    return Ok(None);
                };
                followers::touch(db, item, now).await?;
                Ok(Some(Follower { id, item_id, user_id, add_time: now }))
            }))
            .await
    }

    async fn remove_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        which: FollowerRef,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError> {
        let item = followers::Item {
            company_id,
            kind,
            id: item_id,
        };
        self.backend
            .write(op!(db => {
                let removed = followers::unfollow(db, item, which, actor, now).await?;
                if removed.is_some() {
                    followers::touch(db, item, now).await?;
                }
                Ok(removed)
            }))
            .await
    }

    async fn follower_changes(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<FollowerChange>, StoreError> {
        self.backend
            .read(op!(db => followers::changes(db, company_id, kind, item_id).await))
            .await
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    fn render_metrics(&self, out: &mut String) {
        self.backend.render_metrics(out);
    }
}
