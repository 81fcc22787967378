//! Followers of persons, organizations and deals, and who may see what (`visible_to`).
//!
//! Visibility model: pipestack has no visibility groups, so a company is one group. `1` is
//! "owner and followers" (Pipedrive's Light/Growth meaning; Premium's "owner only" plus the
//! followers a user was given); `3`, `5` and `7` are all "the entire company" (the owner's group,
//! its sub-groups and the company coincide). Admins see everything in their company.

use super::error::DomainError;
use super::person::Person;
use super::ports::Store;
use super::{Session, Timestamp, Visibility};

pub use super::Kind;

/// One follower relationship; `id` is v1's follower id.
#[derive(Debug, Clone, PartialEq)]
pub struct Follower {
    pub id: i64,
    pub item_id: i64,
    pub user_id: i64,
    pub add_time: Timestamp,
}

/// One entry of the followers changelog.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowerChange {
    pub id: i64,
    pub action: String,
    pub actor_user_id: i64,
    pub follower_user_id: i64,
    pub time: Timestamp,
}

/// The only visibility level that restricts: owner and followers.
pub const PRIVATE: i64 = 1;

/// Whether the session's user may see an item with this owner, visibility and followers.
pub fn can_see(
    session: &Session,
    owner_id: i64,
    visible_to: Visibility,
    followers: &[i64],
) -> bool {
    let me = session.user.id;
    session.user.is_admin
        || visible_to.get() != PRIVATE
        || owner_id == me
        || followers.contains(&me)
}

/// The user a list must be filtered for: `None` for admins, who see everything.
pub fn viewer(session: &Session) -> Option<i64> {
    (!session.user.is_admin).then_some(session.user.id)
}

pub fn can_see_person(session: &Session, p: &Person) -> bool {
    can_see(session, p.owner_id, p.visible_to, &p.follower_ids)
}

/// Users who may see a person: every active user of the company, unless it is private, when
/// only its owner, its followers and the admins may.
pub async fn permitted_users(
    store: &dyn Store,
    session: &Session,
    p: &Person,
) -> Result<Vec<i64>, DomainError> {
    let users = store.users(session.company.id).await?;
    Ok(users
        .iter()
        .filter(|u| u.active)
        .filter(|u| {
            p.visible_to.get() != PRIVATE
                || u.is_admin
                || u.id == p.owner_id
                || p.follower_ids.contains(&u.id)
        })
        .map(|u| u.id)
        .collect())
}

/// Followers of a visible item.
pub async fn list(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    item_id: i64,
) -> Result<Vec<Follower>, DomainError> {
    check_item(store, session, kind, item_id).await?;
    Ok(store.followers(session.company.id, kind, item_id).await?)
}

/// The follow/unfollow history of a visible item.
pub async fn changelog(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    item_id: i64,
) -> Result<Vec<FollowerChange>, DomainError> {
    check_item(store, session, kind, item_id).await?;
    Ok(store
        .follower_changes(session.company.id, kind, item_id)
        .await?)
}

/// Adds a follower: an active user of the company; following twice is a 400.
pub async fn add(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    item_id: i64,
    user_id: i64,
) -> Result<Follower, DomainError> {
    check_item(store, session, kind, item_id).await?;
    match store.user(session.company.id, user_id).await? {
        Some(u) if u.active => {}
        _ => {
            return Err(DomainError::invalid(
                "user_id",
                format!("user {user_id} not found or not accessible"),
            ));
        }
    }
    store
        .add_follower(
            session.company.id,
            kind,
            item_id,
            user_id,
            session.user.id,
            session.now(),
        )
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                "user_id",
                format!("user {user_id} already follows this {}", kind.as_str()),
            )
        })
}

/// How a follower to remove is named: v1 by relationship id, v2 by user id.
#[derive(Debug, Clone, Copy)]
pub enum FollowerRef {
    Relationship(i64),
    User(i64),
}

pub async fn remove(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    item_id: i64,
    which: FollowerRef,
) -> Result<Follower, DomainError> {
    check_item(store, session, kind, item_id).await?;
    store
        .remove_follower(
            session.company.id,
            kind,
            item_id,
            which,
            session.user.id,
            session.now(),
        )
        .await?
        .ok_or_else(|| DomainError::NotFound("Follower not found".into()))
}

/// Checks that the item exists, is not deleted, and is visible to the session's user.
pub async fn check_item(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    item_id: i64,
) -> Result<(), DomainError> {
    match kind {
        Kind::Person => super::person::active_person(store, session, item_id)
            .await
            .map(|_| ()),
        Kind::Organization => super::organization::active_organization(store, session, item_id)
            .await
            .map(|_| ()),
        Kind::Deal => super::deal::active_deal(store, session, item_id)
            .await
            .map(|_| ()),
    }
}
