//! Users (v1 only): the company's users, the token's own, and finding them by name.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{boolean, list, merged, nullable_string, q, q_req, r};
use super::{Doc, doc};

/// The description of a user operation, if `operation` is one in `dialect`.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    if dialect != Dialect::V1 {
        return None;
    }
    Some(match operation {
        "get_users" => doc("List users", vec![], None, 200, list(r("UserV1")), None),
        "get_current_user" => doc(
            "The token's user",
            vec![],
            None,
            200,
            r("CurrentUserV1"),
            None,
        ),
        "find_users_by_name" => doc(
            "Find users by name or email",
            vec![
                q_req(
                    "term",
                    json!({"type": "string", "minLength": 1}),
                    "Part of a name (or an email)",
                ),
                q("search_by_email", boolean(), "Match emails instead"),
            ],
            None,
            200,
            list(r("UserV1")),
            None,
        ),
        "get_user" => doc("Get a user", vec![], None, 200, r("UserV1"), None),
        _ => return None,
    })
}

/// The component schemas of users: any user, and the token's own with its company.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![("UserV1", user_v1()), ("CurrentUserV1", current_user_v1())]
}

/// A user as v1 answers it, key for key as the v1 renderer writes it. pipestack keeps no
/// phone, last login or icon: those are `null`.
fn user_v1() -> Value {
    json!({
        "type": "object",
        "required": ["id", "name", "email", "active_flag"],
        "properties": user_v1_properties(),
    })
}

/// The keys of a v1 user, in the renderer's order.
fn user_v1_properties() -> Value {
    let access = json!({
        "type": "object",
        "properties": {
            "app": {"type": "string"},
            "admin": {"type": "boolean"},
            "permission_set_id": nullable_string(),
        },
    });
    json!({
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "default_currency": {"type": "string"},
        "locale": {"type": "string"},
        "lang": {"type": "integer"},
        "email": {"type": "string"},
        "phone": nullable_string(),
        "activated": {"type": "boolean"},
        "last_login": nullable_string(),
        "created": {"type": "string"},
        "modified": {"type": "string"},
        "has_created_company": {"type": "boolean"},
        "access": list(access),
        "active_flag": {"type": "boolean"},
        "timezone_name": {"type": "string"},
        "timezone_offset": {"type": "string"},
        "role_id": {"type": "integer"},
        "icon_url": nullable_string(),
        "is_you": {"type": "boolean"},
        "is_deleted": {"type": "boolean"},
    })
}

/// The token's own user (`/users/me`): a v1 user with its company's keys.
fn current_user_v1() -> Value {
    let company = json!({
        "company_id": {"type": "integer"},
        "company_name": {"type": "string"},
        "company_domain": {"type": "string"},
        "company_country": nullable_string(),
        "company_industry": nullable_string(),
        "language": {
            "type": "object",
            "properties": {"language_code": {"type": "string"}, "country_code": {"type": "string"}},
        },
    });
    json!({
        "type": "object",
        "required": ["id", "name", "email", "active_flag", "company_id"],
        "properties": merged([user_v1_properties(), company]),
    })
}
