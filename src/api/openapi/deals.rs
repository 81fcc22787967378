//! Deals (v2, and v1's legacy reads): what their operations take and answer, and the deal
//! schemas.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{
    boolean, deleted_id, id, ids_param, list, merged, nullable_string, q, r, search_owner,
    search_params, search_result, string, v1_pagination, v1_paging, v2_cursor, v2_order, v2_paging,
    v2_render,
};
use super::{Doc, doc};

/// The description of a deal operation, if `operation` is one in `dialect`.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    match dialect {
        Dialect::V1 => describe_v1(operation),
        Dialect::V2 => describe_v2(operation),
        Dialect::Service => None,
    }
}

/// The statuses a list takes (comma-separated), `deleted` among them.
fn status_param() -> Value {
    q(
        "status",
        json!({"type": "string", "pattern": "^(open|won|lost|deleted)(,(open|won|lost|deleted))*$"}),
        "Comma-separated statuses: open, won, lost, deleted (deleted in the last 30 days)",
    )
}

fn v2_list() -> Vec<Value> {
    let mut p = v2_paging();
    p.extend(v2_order());
    p.extend(v2_render());
    p.push(ids_param(100));
    for (name, what) in [
        ("owner_id", "Only deals of this owner"),
        ("person_id", "Only deals of this contact person"),
        ("org_id", "Only deals of this organization"),
        ("pipeline_id", "Only deals in this pipeline"),
        ("stage_id", "Only deals in this stage"),
    ] {
        p.push(q(name, id(), what));
    }
    p.push(status_param());
    p.push(q("updated_since", string(), "RFC 3339"));
    p.push(q("updated_until", string(), "RFC 3339"));
    p.push(q("include_labels", boolean(), "Add the labels' names"));
    p
}

fn time() -> Value {
    json!({"type": ["string", "null"]})
}

/// A deal body: everything v2 takes; `title` only on create is required.
fn deal_body(create: bool) -> Value {
    let number = json!({"type": "number"});
    json!({
        "type": "object",
        "required": if create { json!(["title"]) } else { json!([]) },
        "properties": merged([
            json!({
                "title": {"type": "string", "maxLength": 255, "pattern": "\\S"},
                "owner_id": id(),
                "person_id": {"type": ["integer", "null"], "minimum": 1},
                "org_id": {"type": ["integer", "null"], "minimum": 1},
                "pipeline_id": id(),
                "stage_id": id(),
                "value": number,
                "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                "status": {"type": "string", "enum": ["open", "won", "lost"]},
                "probability": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
                "lost_reason": {"type": ["string", "null"], "maxLength": 255},
                "visible_to": {"type": "integer", "enum": [1, 3, 5, 7]},
            }),
            json!({
                "close_time": time(),
                "won_time": time(),
                "lost_time": time(),
                "expected_close_date": {"type": ["string", "null"], "format": "date"},
                "label_ids": list(id()),
                "is_archived": boolean(),
                "archive_time": time(),
                "is_deleted": {"type": "boolean", "const": false},
                "custom_fields": {"type": ["object", "null"]},
            }),
        ]),
    })
}

fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_deals" => doc(
            "List deals (not archived)",
            v2_list(),
            None,
            200,
            list(r("DealV2")),
            Some(v2_cursor()),
        ),
        "get_archived_deals" => doc(
            "List archived deals",
            v2_list(),
            None,
            200,
            list(r("DealV2")),
            Some(v2_cursor()),
        ),
        "get_deal" => doc("Get a deal", v2_render(), None, 200, r("DealV2"), None),
        "add_deal" => doc(
            "Add a deal",
            vec![],
            Some(deal_body(true)),
            200,
            r("DealV2"),
            None,
        ),
        "update_deal" => doc(
            "Update a deal",
            vec![],
            Some(deal_body(false)),
            200,
            r("DealV2"),
            None,
        ),
        "delete_deal" => doc("Delete a deal", vec![], None, 200, deleted_id(), None),
        "search_deals" => {
            let mut p = search_params(false, false);
            p.push(q("person_id", id(), "Only deals of this person"));
            p.push(q(
                "organization_id",
                id(),
                "Only deals of this organization",
            ));
            p.push(q(
                "status",
                json!({"type": "string", "enum": ["open", "won", "lost"]}),
                "Only deals with this status",
            ));
            p.push(q(
                "include_fields",
                json!({"type": "string", "enum": ["deal.cc_email"]}),
                "Add each deal's Bcc address",
            ));
            doc(
                "Search deals",
                p,
                None,
                200,
                search_result(deal_search_item()),
                Some(v2_cursor()),
            )
        }
        _ => return None,
    })
}

fn describe_v1(operation: &str) -> Option<Doc> {
    let v1_list = |extra: Vec<Value>| {
        let mut p = v1_paging();
        p.push(q(
            "status",
            json!({"type": "string", "enum": ["open", "won", "lost", "deleted", "all_not_deleted"]}),
            "Only deals with this status (all not deleted by default)",
        ));
        p.push(q("sort", string(), "Field and direction, e.g. `title ASC`"));
        p.extend(extra);
        p
    };
    Some(match operation {
        "get_deals" => doc(
            "List deals",
            v1_list(vec![
                q("user_id", id(), "Only deals of this owner"),
                q("stage_id", id(), "Only deals in this stage"),
                q("pipeline_id", id(), "Only deals in this pipeline"),
                q(
                    "owned_by_you",
                    json!({"type": "integer", "enum": [0, 1]}),
                    "1: only the caller's deals",
                ),
            ]),
            None,
            200,
            list(r("DealV1")),
            Some(v1_pagination()),
        ),
        "get_deal" => doc("Get a deal", vec![], None, 200, r("DealV1"), None),
        "get_person_deals" => doc(
            "Deals of a person",
            v1_list(vec![]),
            None,
            200,
            list(r("DealV1")),
            Some(v1_pagination()),
        ),
        "get_organization_deals" => doc(
            "Deals of an organization",
            v1_list(vec![q(
                "only_primary_association",
                json!({"type": "integer", "enum": [0, 1]}),
                "1: only deals linked directly",
            )]),
            None,
            200,
            list(r("DealV1")),
            Some(v1_pagination()),
        ),
        _ => return None,
    })
}

/// A deal as a search finds it.
pub(super) fn deal_search_item() -> Value {
    let named = json!({"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}});
    json!({
        "type": "object",
        "required": ["id", "type", "title"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "const": "deal"},
            "title": {"type": "string"},
            "value": {"type": "number"},
            "currency": {"type": "string"},
            "status": {"type": "string"},
            "visible_to": {"type": "integer"},
            "owner": search_owner(),
            "stage": named,
            "person": named,
            "organization": named,
            "custom_fields": list(json!({})),
            "notes": list(json!({})),
            "is_archived": {"type": "boolean"},
        },
    })
}

pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![("DealV2", deal_v2()), ("DealV1", deal_v1())]
}

/// A deal as v2 answers it, key for key as the renderer writes it.
fn deal_v2() -> Value {
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": ["integer", "null"]});
    let number = json!({"type": "number"});
    let opt_number = json!({"type": ["number", "null"]});
    let text = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["id", "title", "owner_id", "pipeline_id", "stage_id", "status", "value", "currency", "is_deleted", "custom_fields"],
        "properties": merged([
            json!({
                "id": int, "title": text, "creator_user_id": int, "owner_id": int,
                "value": number, "person_id": opt_int, "org_id": opt_int, "stage_id": int,
                "pipeline_id": int, "currency": text, "archive_time": time(),
                "add_time": text, "update_time": text, "stage_change_time": time(),
                "status": {"type": "string", "enum": ["open", "won", "lost"]},
                "is_archived": {"type": "boolean"}, "is_deleted": {"type": "boolean"},
                "probability": opt_number, "lost_reason": nullable_string(),
                "visible_to": int,
            }),
            json!({
                "close_time": time(), "won_time": time(), "lost_time": time(),
                "local_won_date": nullable_string(), "local_lost_date": nullable_string(),
                "local_close_date": nullable_string(), "expected_close_date": nullable_string(),
                "label_ids": list(int.clone()), "origin": text, "origin_id": nullable_string(),
                "channel": opt_int, "channel_id": nullable_string(), "acv": opt_number,
                "arr": opt_number, "mrr": opt_number, "custom_fields": {"type": "object"},
                "first_won_time": time(), "labels": list(json!({"type": "object"})),
            }),
        ]),
    })
}

/// A deal as v1 answers it: owner, person and organization expanded, times as
/// `YYYY-MM-DD HH:MM:SS`, custom values at the root.
fn deal_v1() -> Value {
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": ["integer", "null"]});
    let text = json!({"type": "string"});
    let v1_time = json!({"type": ["string", "null"]});
    let expanded = json!({"type": ["object", "integer", "null"]});
    json!({
        "type": "object",
        "required": ["id", "title", "user_id", "stage_id", "pipeline_id", "status", "value", "currency", "active", "deleted"],
        "properties": merged([
            json!({
                "id": int, "creator_user_id": expanded, "user_id": expanded,
                "person_id": expanded, "org_id": expanded, "stage_id": int, "title": text,
                "value": {"type": "number"}, "currency": text, "add_time": text,
                "update_time": text, "stage_change_time": v1_time, "active": {"type": "boolean"},
                "deleted": {"type": "boolean"}, "status": text,
                "probability": {"type": ["number", "null"]},
                "next_activity_date": v1_time, "next_activity_time": v1_time,
                "next_activity_id": opt_int,
            }),
            json!({
                "last_activity_id": opt_int, "last_activity_date": v1_time,
                "lost_reason": nullable_string(), "visible_to": text, "close_time": v1_time,
                "pipeline_id": int, "won_time": v1_time, "first_won_time": v1_time,
                "lost_time": v1_time, "products_count": int, "files_count": int,
                "notes_count": int, "followers_count": int, "email_messages_count": int,
                "activities_count": int, "done_activities_count": int,
                "undone_activities_count": int, "participants_count": int,
            }),
            json!({
                "expected_close_date": nullable_string(), "label": nullable_string(),
                "origin": text, "stage_order_nr": int, "person_name": nullable_string(),
                "org_name": nullable_string(), "owner_name": nullable_string(),
                "formatted_value": text, "weighted_value": {"type": "number"},
                "formatted_weighted_value": text, "weighted_value_currency": text,
                "rotten_time": v1_time, "cc_email": text, "org_hidden": {"type": "boolean"},
                "person_hidden": {"type": "boolean"},
            }),
        ]),
    })
}
