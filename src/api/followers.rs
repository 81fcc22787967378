//! Followers of persons and organizations, in both dialects. v1 names a follower by its
//! relationship id and answers with `{user_id, id, <item>_id, add_time}`; v2 names it by user id
//! and answers with `{user_id, add_time}`.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::envelope::success;
use super::parse::{QueryParams, keyset_page, required_id};
use super::payload::Payload;
use super::{ApiResult, AppState, path_id};
use crate::domain::Session;
use crate::domain::followers::{self, Follower, FollowerRef, Kind};

fn item_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "person_id",
        Kind::Organization => "org_id",
    }
}

fn v1_follower(kind: Kind, f: &Follower) -> Value {
    let mut v = json!({"user_id": f.user_id, "id": f.id});
    v[item_key(kind)] = json!(f.item_id);
    v["add_time"] = json!(f.add_time.v1());
    v
}

pub async fn v1_list(
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    raw: Option<&str>,
) -> ApiResult {
    let id = path_id(id)?;
    let (start, limit) = crate::api::v1::paging(&QueryParams::parse(raw))?;
    let list = followers::list(state.store.as_ref(), session, kind, id).await?;
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
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    body: &serde_json::Map<String, Value>,
) -> ApiResult {
    let id = path_id(id)?;
    followers::check_item(state.store.as_ref(), session, kind, id).await?;
    let user_id = required_id(body, "user_id")?;
    let f = followers::add(state.store.as_ref(), session, kind, id, user_id).await?;
    Ok(success(StatusCode::OK, v1_follower(kind, &f), None, None))
}

pub async fn v1_remove(
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    follower: &str,
) -> ApiResult {
    let id = path_id(id)?;
    let follower = path_id(follower)?;
    let f = followers::remove(
        state.store.as_ref(),
        session,
        kind,
        id,
        FollowerRef::Relationship(follower),
    )
    .await?;
    Ok(success(StatusCode::OK, json!({ "id": f.id }), None, None))
}

pub async fn v2_list(
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    raw: Option<&str>,
) -> ApiResult {
    let id = path_id(id)?;
    let q = QueryParams::parse(raw);
    let list = followers::list(state.store.as_ref(), session, kind, id).await?;
    let (page, next) = keyset_page(&q, &list, |f| f.id, "followers")?;
    let data: Vec<Value> = page
        .iter()
        .map(|f| json!({"user_id": f.user_id, "add_time": f.add_time.rfc3339()}))
        .collect();
    Ok(success(
        StatusCode::OK,
        Value::Array(data),
        Some(json!({ "next_cursor": next })),
        None,
    ))
}

pub async fn v2_add(
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    body: &serde_json::Map<String, Value>,
) -> ApiResult {
    let id = path_id(id)?;
    followers::check_item(state.store.as_ref(), session, kind, id).await?;
    let user_id = required_id(body, "user_id")?;
    let f = followers::add(state.store.as_ref(), session, kind, id, user_id).await?;
    Ok(success(
        StatusCode::CREATED,
        json!({"user_id": f.user_id, "add_time": f.add_time.rfc3339()}),
        None,
        None,
    ))
}

pub async fn v2_remove(
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    user: &str,
) -> ApiResult {
    let id = path_id(id)?;
    let user = path_id(user)?;
    let f = followers::remove(
        state.store.as_ref(),
        session,
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

pub async fn v2_changelog(
    state: &AppState,
    session: &Session,
    kind: Kind,
    id: &str,
    raw: Option<&str>,
) -> ApiResult {
    let id = path_id(id)?;
    let q = QueryParams::parse(raw);
    let list = followers::changelog(state.store.as_ref(), session, kind, id).await?;
    let (page, next) = keyset_page(&q, &list, |c| c.id, "followers changelog")?;
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
    Ok(success(
        StatusCode::OK,
        Value::Array(data),
        Some(json!({ "next_cursor": next })),
        None,
    ))
}

/// Route handlers, one per (dialect, kind, verb).
macro_rules! handlers {
    ($kind:expr, $list1:ident, $add1:ident, $del1:ident, $list2:ident, $add2:ident, $del2:ident, $log2:ident) => {
        pub async fn $list1(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path(id): Path<String>,
            RawQuery(q): RawQuery,
        ) -> ApiResult {
            v1_list(&s, &session, $kind, &id, q.as_deref()).await
        }
        pub async fn $add1(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path(id): Path<String>,
            Payload(body): Payload,
        ) -> ApiResult {
            v1_add(&s, &session, $kind, &id, &body).await
        }
        pub async fn $del1(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path((id, f)): Path<(String, String)>,
        ) -> ApiResult {
            v1_remove(&s, &session, $kind, &id, &f).await
        }
        pub async fn $list2(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path(id): Path<String>,
            RawQuery(q): RawQuery,
        ) -> ApiResult {
            v2_list(&s, &session, $kind, &id, q.as_deref()).await
        }
        pub async fn $add2(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path(id): Path<String>,
            Payload(body): Payload,
        ) -> ApiResult {
            v2_add(&s, &session, $kind, &id, &body).await
        }
        pub async fn $del2(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path((id, u)): Path<(String, String)>,
        ) -> ApiResult {
            v2_remove(&s, &session, $kind, &id, &u).await
        }
        pub async fn $log2(
            State(s): State<AppState>,
            Extension(session): Extension<Session>,
            Path(id): Path<String>,
            RawQuery(q): RawQuery,
        ) -> ApiResult {
            v2_changelog(&s, &session, $kind, &id, q.as_deref()).await
        }
    };
}

handlers!(
    Kind::Person,
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
    get_organization_followers_v1,
    add_organization_follower_v1,
    delete_organization_follower_v1,
    get_organization_followers,
    add_organization_follower,
    delete_organization_follower,
    get_organization_followers_changelog
);
