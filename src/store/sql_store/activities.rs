//! Activity types and activities.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Kind;
use crate::domain::activity::types::{NewActivityType, TypeDraft};
use crate::domain::activity::{
    Activity, ActivityFilter, ActivityType, ActivityValues, NewActivity,
};
use crate::domain::ports::{ActivityStore, Edit, StoreError, SummaryStore};
use crate::domain::query::ListQuery;
use crate::domain::summary::{Summary, SummaryParts};
use crate::domain::webhook::Stamp;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, activities, summaries};

const OBJECT: &str = "activity";
const TYPE: &str = "activityType";

fn on(company_id: i64, id: i64) -> On {
    On::new(company_id, OBJECT, id)
}

#[async_trait]
impl<B: Backend> ActivityStore for SqlStore<B> {
    async fn activity_types(&self, company_id: i64) -> Result<Vec<ActivityType>, StoreError> {
        self.backend
            .read(op!(db => activities::types(db, company_id).await))
            .await
    }

    async fn insert_activity_type(&self, t: NewActivityType) -> Result<ActivityType, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let added = activities::insert_type(db, &t).await?;
                let on = On::new(t.company_id, TYPE, added.id);
                webhooks::added(db, &emits, on, Stamp::now(t.user_id), &added).await?;
                Ok(added)
            })
        })
        .await
    }

    async fn update_activity_type(
        &self,
        company_id: i64,
        id: i64,
        changes: TypeDraft,
        by: Stamp,
    ) -> Result<Option<ActivityType>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let before = activities::activity_type(db, company_id, id).await?;
                let after = activities::update_type(db, company_id, id, &changes, by.time).await?;
                if let (Some(before), Some(after)) = (&before, &after) {
                    let on = On::new(company_id, TYPE, id);
                    webhooks::updated(db, &emits, on, by, (before, after)).await?;
                }
                Ok(after)
            })
        })
        .await
    }

    async fn delete_activity_type(
        &self,
        company_id: i64,
        id: i64,
        by: Stamp,
    ) -> Result<Option<ActivityType>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = activities::delete_type(db, company_id, id, by.time).await?;
                if let Some(t) = &deleted {
                    let on = On::new(company_id, TYPE, id);
                    let last = std::future::ready(Ok(Some(t.clone())));
                    webhooks::deleted(db, &emits, (on, by), None, last).await?;
                }
                Ok(deleted)
            })
        })
        .await
    }

    async fn insert_activity(&self, activity: NewActivity) -> Result<Activity, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let a = activities::insert(db, &activity).await?;
                let by = Stamp::now(activity.creator_user_id).via(activity.source);
                webhooks::added(db, &emits, on(a.company_id, a.id), by, &a).await?;
                Ok(a)
            })
        })
        .await
    }

    async fn insert_activities(&self, list: Vec<NewActivity>) -> Result<Vec<i64>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let mut ids = Vec::with_capacity(list.len());
                for new in &list {
                    let a = activities::insert(db, new).await?;
                    let by = Stamp::now(new.creator_user_id).via(new.source);
                    webhooks::added(db, &emits, on(a.company_id, a.id), by, &a).await?;
                    ids.push(a.id);
                }
                Ok(ids)
            })
        })
        .await
    }

    async fn activity(
        &self,
        company_id: i64,
        id: i64,
        viewer: Option<i64>,
    ) -> Result<Option<Activity>, StoreError> {
        self.backend
            .read(op!(db => activities::get(db, company_id, id, viewer).await))
            .await
    }

    async fn list_activities(
        &self,
        company_id: i64,
        query: ListQuery<ActivityFilter>,
    ) -> Result<Vec<Activity>, StoreError> {
        let quick = activities::is_quick(&query);
        self.backend
            .read_as(
                quick,
                op!(db => activities::list(db, company_id, &query).await),
            )
            .await
    }

    async fn update_activity(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Activity, ActivityValues>,
        by: Stamp,
    ) -> Result<Option<Activity>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let Some((before, after)) =
                    activities::update(db, company_id, id, edit, by.time).await?
                else {
                    return Ok(None);
                };
                webhooks::updated(db, &emits, on(company_id, id), by, (&before, &after)).await?;
                Ok(Some(after))
            })
        })
        .await
    }

    async fn delete_activity(
        &self,
        company_id: i64,
        id: i64,
        by: Stamp,
    ) -> Result<bool, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = activities::delete(db, company_id, id, by.time).await?;
                if deleted {
                    let last = activities::get(db, company_id, id, None);
                    webhooks::deleted(db, &emits, (on(company_id, id), by), None, last).await?;
                }
                Ok(deleted)
            })
        })
        .await
    }
}

/// The summaries persons, organizations and deals show.
#[async_trait]
impl<B: Backend> SummaryStore for SqlStore<B> {
    async fn summaries(
        &self,
        company_id: i64,
        kind: Kind,
        ids: &[i64],
        parts: SummaryParts,
    ) -> Result<Vec<(i64, Summary)>, StoreError> {
        let ids = ids.to_vec();
        self.backend
            .read(op!(db => summaries::summaries(db, company_id, kind, &ids, &parts).await))
            .await
    }
}
