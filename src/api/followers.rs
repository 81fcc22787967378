//! Followers of persons, organizations and deals, in both dialects. v1 names a follower by its
//! relationship id and answers with `{user_id, id, <item>_id, add_time}`; v2 names it by user id
//! and answers with `{user_id, add_time}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ApiResult;
use super::envelope::{cursor_page, success};
use super::extract::{ActiveDeal, ActiveOrganization, ActivePerson, Caller, FollowerId, PathId};
use super::parse::{QueryParams, keyset_page, required_id};
use super::payload::Payload;
use crate::domain::followers::{self, Follower, FollowerRef, Kind};

fn item_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "person_id",
        Kind::Organization => "org_id",
        Kind::Deal => "deal_id",
    }
}

fn v1_follower(kind: Kind, f: &Follower) -> Value {
    let mut v = json!({"user_id": f.user_id, "id": f.id});
    v[item_key(kind)] = json!(f.item_id);
    v["add_time"] = json!(f.add_time.v1());
    v
}

pub async fn v1_list(caller: &Caller, kind: Kind, id: i64, q: &QueryParams) -> ApiResult {
    let (start, limit) = crate::api::v1::paging(q)?;
    let list = followers::list(caller.store.as_ref(), &caller.session, kind, id).await?;
    let (page, more) = crate::api::v1::page_of(&list, start, limit);
    let data: Vec<Value> = page.iter().map(|f| v1_follower(kind, f)).collect();
    let pagination = crate::api::v1::pagination(start, limit, data.len(), more);
    Ok(success(
        StatusCode::OK,
        Value::Array(data),
        Some(json!({ "pagination": pagination })),
        None,
    ))
}

pub async fn v1_add(
    caller: &Caller,
    kind: Kind,
    id: i64,
    body: &serde_json::Map<String, Value>,
) -> ApiResult {
    let user_id = required_id(body, "user_id")?;
    let f = followers::add(caller.store.as_ref(), &caller.session, kind, id, user_id).await?;
    Ok(success(StatusCode::OK, v1_follower(kind, &f), None, None))
}

pub async fn v1_remove(caller: &Caller, kind: Kind, id: i64, follower: i64) -> ApiResult {
    let f = followers::remove(
        caller.store.as_ref(),
        &caller.session,
        kind,
        id,
        FollowerRef::Relationship(follower),
    )
    .await?;
    Ok(success(StatusCode::OK, json!({ "id": f.id }), None, None))
}

pub async fn v2_list(caller: &Caller, kind: Kind, id: i64, q: &QueryParams) -> ApiResult {
    let list = followers::list(caller.store.as_ref(), &caller.session, kind, id).await?;
    let (page, next) = keyset_page(q, &list, |f| f.id, "followers")?;
    let data: Vec<Value> = page
        .iter()
        .map(|f| json!({"user_id": f.user_id, "add_time": f.add_time.rfc3339()}))
        .collect();
    Ok(cursor_page(Value::Array(data), next))
}

pub async fn v2_add(
    caller: &Caller,
    kind: Kind,
    id: i64,
    body: &serde_json::Map<String, Value>,
) -> ApiResult {
    let user_id = required_id(body, "user_id")?;
    let f = followers::add(caller.store.as_ref(), &caller.session, kind, id, user_id).await?;
    Ok(success(
        StatusCode::CREATED,
        json!({"user_id": f.user_id, "add_time": f.add_time.rfc3339()}),
        None,
        None,
    ))
}

pub async fn v2_remove(caller: &Caller, kind: Kind, id: i64, user: i64) -> ApiResult {
    let f = followers::remove(
        caller.store.as_ref(),
        &caller.session,
        kind,
        id,
        FollowerRef::User(user),
    )
    .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "user_id": f.user_id }),
        None,
        None,
    ))
}

pub async fn v2_changelog(caller: &Caller, kind: Kind, id: i64, q: &QueryParams) -> ApiResult {
    let list = followers::changelog(caller.store.as_ref(), &caller.session, kind, id).await?;
    let (page, next) = keyset_page(q, &list, |c| c.id, "followers changelog")?;
    let data: Vec<Value> = page
        .iter()
        .map(|c| {
            json!({
                "action": c.action,
                "actor_user_id": c.actor_user_id,
                "follower_user_id": c.follower_user_id,
                "time": c.time.rfc3339(),
            })
        })
        .collect();
    Ok(cursor_page(Value::Array(data), next))
}

/// Route handlers, one per (dialect, kind, verb).
macro_rules! handlers {
    ($kind:expr, $item:ident, $list1:ident, $add1:ident, $del1:ident, $list2:ident, $add2:ident, $del2:ident, $log2:ident) => {
        pub async fn $list1(caller: Caller, PathId(id): PathId, q: QueryParams) -> ApiResult {
            v1_list(&caller, $kind, id, &q).await
        }
        pub async fn $add1(
            caller: Caller,
            $item(item): $item,
            Payload(body): Payload,
        ) -> ApiResult {
            v1_add(&caller, $kind, item.id, &body).await
        }
        pub async fn $del1(
            caller: Caller,
            PathId(id): PathId,
            FollowerId(f): FollowerId,
        ) -> ApiResult {
            v1_remove(&caller, $kind, id, f).await
        }
        pub async fn $list2(caller: Caller, PathId(id): PathId, q: QueryParams) -> ApiResult {
            v2_list(&caller, $kind, id, &q).await
        }
        pub async fn $add2(
            caller: Caller,
            $item(item): $item,
            Payload(body): Payload,
        ) -> ApiResult {
            v2_add(&caller, $kind, item.id, &body).await
        }
        pub async fn $del2(
            caller: Caller,
            PathId(id): PathId,
            FollowerId(u): FollowerId,
        ) -> ApiResult {
            v2_remove(&caller, $kind, id, u).await
        }
        pub async fn $log2(caller: Caller, PathId(id): PathId, q: QueryParams) -> ApiResult {
            v2_changelog(&caller, $kind, id, &q).await
        }
    };
}

handlers!(
    Kind::Person,
    ActivePerson,
    get_person_followers_v1,
    add_person_follower_v1,
    delete_person_follower_v1,
    get_person_followers,
    add_person_follower,
    delete_person_follower,
    get_person_followers_changelog
);
handlers!(
    Kind::Organization,
    ActiveOrganization,
    get_organization_followers_v1,
    add_organization_follower_v1,
    delete_organization_follower_v1,
    get_organization_followers,
    add_organization_follower,
    delete_organization_follower,
    get_organization_followers_changelog
);
handlers!(
    Kind::Deal,
    ActiveDeal,
    get_deal_followers_v1,
    add_deal_follower_v1,
    delete_deal_follower_v1,
    get_deal_followers,
    add_deal_follower,
    delete_deal_follower,
    get_deal_followers_changelog
);
