//! Followers of persons and organizations in both dialects: v1 names a follower by its
//! relationship id, v2 by its user id and adds a changelog.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{deleted_id, id, list, r, v1_pagination, v1_paging, v2_cursor, v2_paging};
use super::{Doc, doc};

/// The description of a follower operation, if `operation` is one in `dialect`.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    match dialect {
        Dialect::V1 => describe_v1(operation),
        Dialect::V2 => describe_v2(operation),
        Dialect::Service => None,
    }
}

/// Both dialects add a follower by user id.
fn follower_body() -> Value {
    json!({"type": "object", "required": ["user_id"], "properties": {"user_id": id()}})
}

/// The `/v1` and `/api/v1` follower operations, of persons and organizations alike.
fn describe_v1(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_person_followers_v1" | "get_organization_followers_v1" => doc(
            "List followers",
            v1_paging(),
            None,
            200,
            list(r("FollowerV1")),
            Some(v1_pagination()),
        ),
        "add_person_follower_v1" | "add_organization_follower_v1" => doc(
            "Add a follower",
            vec![],
            Some(follower_body()),
            200,
            r("FollowerV1"),
            None,
        ),
        "delete_person_follower_v1" | "delete_organization_follower_v1" => doc(
            "Remove a follower (by relationship id)",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        _ => return None,
    })
}

/// The `/api/v2` follower operations, of persons and organizations alike.
fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_person_followers" | "get_organization_followers" => doc(
            "List followers",
            v2_paging(),
            None,
            200,
            list(r("FollowerV2")),
            Some(v2_cursor()),
        ),
        "add_person_follower" | "add_organization_follower" => doc(
            "Add a follower",
            vec![],
            Some(follower_body()),
            200,
            r("FollowerV2"),
            None,
        ),
        "get_person_followers_changelog" | "get_organization_followers_changelog" => doc(
            "Followers added and removed",
            v2_paging(),
            None,
            200,
            list(r("FollowerChange")),
            Some(v2_cursor()),
        ),
        "delete_person_follower" | "delete_organization_follower" => doc(
            "Remove a follower (by user id)",
            vec![],
            None,
            200,
            json!({"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "integer"}}}),
            None,
        ),
        _ => return None,
    })
}

/// The component schemas of followers: a follower in each dialect, and a changelog entry.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("FollowerV1", follower_v1()),
        ("FollowerV2", follower_v2()),
        ("FollowerChange", follower_change()),
    ]
}

/// A follower as v1 answers it.
fn follower_v1() -> Value {
    json!({
        "type": "object",
        "required": ["user_id", "id", "add_time"],
        "properties": {
            "user_id": {"type": "integer"},
            "id": {"type": "integer"},
            "person_id": {"type": "integer"},
            "org_id": {"type": "integer"},
            "add_time": {"type": "string"},
        },
    })
}

/// A follower as v2 answers it.
fn follower_v2() -> Value {
    json!({
        "type": "object",
        "required": ["user_id", "add_time"],
        "properties": {"user_id": {"type": "integer"}, "add_time": {"type": "string"}},
    })
}

/// A follower added or removed, as v2's changelog lists it.
fn follower_change() -> Value {
    json!({
        "type": "object",
        "required": ["action", "follower_user_id", "time"],
        "properties": {
            "action": {"type": "string", "enum": ["added", "removed"]},
            "actor_user_id": {"type": ["integer", "null"]},
            "follower_user_id": {"type": "integer"},
            "time": {"type": "string"},
        },
    })
}
