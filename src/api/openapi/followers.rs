//! Followers of persons, organizations and deals in both dialects: v1 names a follower by its
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

/// The `/v1` and `/api/v1` follower operations: a follower names its person or organization
/// by the item's own key, so each item has its own schema.
fn describe_v1(operation: &str) -> Option<Doc> {
    let list_followers = |of: &str| {
        doc(
            "List followers",
            v1_paging(),
            None,
            200,
            list(r(of)),
            Some(v1_pagination()),
        )
    };
    let add_follower = |of: &str| {
        doc(
            "Add a follower",
            vec![],
            Some(follower_body()),
            200,
            r(of),
            None,
        )
    };
    Some(match operation {
        "get_person_followers_v1" => list_followers("PersonFollowerV1"),
        "get_organization_followers_v1" => list_followers("OrganizationFollowerV1"),
        "get_deal_followers_v1" => list_followers("DealFollowerV1"),
        "add_person_follower_v1" => add_follower("PersonFollowerV1"),
        "add_organization_follower_v1" => add_follower("OrganizationFollowerV1"),
        "add_deal_follower_v1" => add_follower("DealFollowerV1"),
        "delete_person_follower_v1"
        | "delete_organization_follower_v1"
        | "delete_deal_follower_v1" => doc(
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

/// The `/api/v2` follower operations, of persons, organizations and deals alike.
fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_person_followers" | "get_organization_followers" | "get_deal_followers" => doc(
            "List followers",
            v2_paging(),
            None,
            200,
            list(r("FollowerV2")),
            Some(v2_cursor()),
        ),
        "add_person_follower" | "add_organization_follower" | "add_deal_follower" => doc(
            "Add a follower",
            vec![],
            Some(follower_body()),
            201,
            r("FollowerV2"),
            None,
        ),
        "get_person_followers_changelog"
        | "get_organization_followers_changelog"
        | "get_deal_followers_changelog" => doc(
            "Followers added and removed",
            v2_paging(),
            None,
            200,
            list(r("FollowerChange")),
            Some(v2_cursor()),
        ),
        "delete_person_follower" | "delete_organization_follower" | "delete_deal_follower" => doc(
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

/// The component schemas of followers: a follower in each dialect (v1 names the item it
/// follows by its own key), and a changelog entry.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("PersonFollowerV1", follower_v1("person_id")),
        ("OrganizationFollowerV1", follower_v1("org_id")),
        ("DealFollowerV1", follower_v1("deal_id")),
        ("FollowerV2", follower_v2()),
        ("FollowerChange", follower_change()),
    ]
}

/// A follower as v1 answers it: `item_key` is `person_id`, `org_id` or `deal_id`.
fn follower_v1(item_key: &str) -> Value {
    let mut properties = json!({"user_id": {"type": "integer"}, "id": {"type": "integer"}});
    properties[item_key] = json!({"type": "integer"});
    properties["add_time"] = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["user_id", "id", item_key, "add_time"],
        "properties": properties,
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
