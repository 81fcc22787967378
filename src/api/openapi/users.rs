//! Users (v1 only): the company's users, the token's own, and finding them by name.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{boolean, list, q, q_req, r};
use super::{Doc, doc};

/// The description of a user operation, if `operation` is one in `dialect`.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    if dialect != Dialect::V1 {
        return None;
    }
    Some(match operation {
        "get_users" => doc("List users", vec![], None, 200, list(r("UserV1")), None),
        "get_current_user" => doc("The token's user", vec![], None, 200, r("UserV1"), None),
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

/// The component schemas of users.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![("UserV1", user_v1())]
}

/// A user as v1 answers it.
fn user_v1() -> Value {
    json!({
        "type": "object",
        "required": ["id", "name", "email", "active_flag"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "active_flag": {"type": "boolean"},
            "is_you": {"type": "boolean"},
            "access": list(json!({"type": "object"})),
        },
    })
}
