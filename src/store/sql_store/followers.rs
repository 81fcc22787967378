//! Followers and their history.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Timestamp;
use crate::domain::followers::{Follower, FollowerChange, FollowerRef, Kind};
use crate::domain::ports::{FollowerStore, StoreError};
use crate::store::sql::{Backend, followers};

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
