//! Organizations in both dialects: what their operations take and answer, and the
//! organization schemas.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{
    deleted_id, id, list, merged, name, nullable_string, r, search_owner, search_params,
    search_result, v1_list_filters, v1_pagination, v1_paging, v2_cursor, v2_list, v2_render,
};
use super::{Doc, doc};

/// The description of an organization operation, if `operation` is one in `dialect`.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    match dialect {
        Dialect::V1 => describe_v1(operation),
        Dialect::V2 => describe_v2(operation),
        Dialect::Service => None,
    }
}

/// An organization body: v2 takes a structured address and the profile keys v1 lacks.
fn org_body(v1: bool, create: bool) -> Value {
    let mut body = json!({
        "type": "object",
        "required": if create { json!(["name"]) } else { json!([]) },
        "properties": {
            "name": name(),
            "owner_id": id(),
            "address": if v1 { json!({"type": "string"}) } else { json!({"type": "object"}) },
            "visible_to": if v1 { json!({"type": "string", "enum": ["1", "3", "5", "7"]}) } else { json!({"type": "integer", "enum": [1, 3, 5, 7]}) },
            "label_ids": list(id()),
        },
    });
    if !v1 {
        let text = json!({"type": ["string", "null"], "maxLength": 255});
        let count = json!({"type": ["integer", "null"], "minimum": 0});
        for (key, schema) in [
            ("website", &text),
            ("linkedin", &text),
            ("industry", &count),
            ("annual_revenue", &count),
            ("employee_count", &count),
        ] {
            body["properties"][key] = schema.clone();
        }
    }
    body
}

/// The `/v1` and `/api/v1` organization operations.
fn describe_v1(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_organizations" => doc(
            "List organizations",
            v1_list_filters(),
            None,
            200,
            list(r("OrganizationV1")),
            Some(v1_pagination()),
        ),
        "add_organization" => doc(
            "Add an organization",
            vec![],
            Some(org_body(true, true)),
            201,
            r("OrganizationV1"),
            None,
        ),
        "get_organization" => doc(
            "Get an organization",
            vec![],
            None,
            200,
            r("OrganizationV1"),
            None,
        ),
        "update_organization" => doc(
            "Update an organization",
            vec![],
            Some(org_body(true, false)),
            200,
            r("OrganizationV1"),
            None,
        ),
        "delete_organization" => doc(
            "Delete an organization",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        "get_organization_persons" => doc(
            "Persons of an organization",
            v1_paging(),
            None,
            200,
            list(r("PersonV1")),
            Some(v1_pagination()),
        ),
        _ => return None,
    })
}

/// The `/api/v2` organization operations.
fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_organizations" => doc(
            "List organizations",
            v2_list(),
            None,
            200,
            list(r("OrganizationV2")),
            Some(v2_cursor()),
        ),
        "add_organization" => doc(
            "Add an organization",
            vec![],
            Some(org_body(false, true)),
            200,
            r("OrganizationV2"),
            None,
        ),
        "search_organization" => doc(
            "Search organizations",
            search_params(false, false),
            None,
            200,
            r("OrganizationSearchResult"),
            Some(v2_cursor()),
        ),
        "get_organization" => doc(
            "Get an organization",
            v2_render(),
            None,
            200,
            r("OrganizationV2"),
            None,
        ),
        "update_organization" => doc(
            "Update an organization",
            vec![],
            Some(org_body(false, false)),
            200,
            r("OrganizationV2"),
            None,
        ),
        "delete_organization" => doc(
            "Delete an organization",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        _ => return None,
    })
}

/// The component schemas of organizations: one in each dialect.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("OrganizationV1", organization_v1()),
        ("OrganizationV2", organization_v2()),
        (
            "OrganizationSearchResult",
            search_result(organization_search_item()),
        ),
    ]
}

/// An organization as v1 answers it, key for key as the v1 renderer writes it.
fn organization_v1() -> Value {
    json!({
        "type": "object",
        "required": ["id", "company_id", "owner_id", "name", "people_count", "active_flag", "add_time", "update_time", "visible_to"],
        "properties": organization_v1_properties(),
    })
}

/// The keys of a v1 organization, in the renderer's order. The counts of deals, activities,
/// mail and files are 0 and the activity keys `null`: pipestack stores none of those yet.
fn organization_v1_properties() -> Value {
    let count = json!({"type": "integer"});
    let identity = json!({
        "id": {"type": "integer"},
        "company_id": {"type": "integer"},
        "owner_id": {"type": ["integer", "object"]},
        "name": {"type": "string"},
    });
    let counts = json!({
        "open_deals_count": count,
        "related_open_deals_count": count,
        "closed_deals_count": count,
        "related_closed_deals_count": count,
        "email_messages_count": count,
        "people_count": count,
        "activities_count": count,
        "done_activities_count": count,
        "undone_activities_count": count,
        "files_count": count,
        "notes_count": count,
        "won_deals_count": count,
        "related_won_deals_count": count,
        "lost_deals_count": count,
        "related_lost_deals_count": count,
        "followers_count": count,
    });
    let state_and_times = json!({
        "active_flag": {"type": "boolean"},
        "picture_id": {"type": "null"},
        "country_code": nullable_string(),
        "first_char": nullable_string(),
        "update_time": {"type": "string"},
        "add_time": {"type": "string"},
        "visible_to": {"type": "string"},
        "next_activity_date": nullable_string(),
        "next_activity_time": nullable_string(),
        "next_activity_id": {"type": ["integer", "null"]},
        "last_activity_id": {"type": ["integer", "null"]},
        "last_activity_date": nullable_string(),
        "delete_time": nullable_string(),
        "label": {"type": ["integer", "null"]},
        "label_ids": list(json!({"type": "integer"})),
    });
    let address = json!({
        "address": nullable_string(),
        "address_subpremise": nullable_string(),
        "address_street_number": nullable_string(),
        "address_route": nullable_string(),
        "address_sublocality": nullable_string(),
        "address_locality": nullable_string(),
        "address_admin_area_level_1": nullable_string(),
        "address_admin_area_level_2": nullable_string(),
        "address_country": nullable_string(),
        "address_postal_code": nullable_string(),
        "address_formatted_address": nullable_string(),
    });
    let owner = json!({
        "owner_name": nullable_string(),
        "cc_email": {"type": "string"},
    });
    merged([identity, counts, state_and_times, address, owner])
}

/// An organization as v2 answers it. The keys after `custom_fields` come only when asked for:
/// `include_fields` names them, `labels` comes with `include_labels`.
fn organization_v2() -> Value {
    let always = json!({
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "owner_id": {"type": "integer"},
        "add_time": {"type": "string"},
        "update_time": {"type": "string"},
        "address": {"type": ["object", "null"]},
        "is_deleted": {"type": "boolean"},
        "visible_to": {"type": "integer"},
        "label_ids": list(json!({"type": "integer"})),
        "website": nullable_string(),
        "linkedin": nullable_string(),
        "industry": {"type": ["integer", "null"]},
        "annual_revenue": {"type": ["integer", "null"]},
        "employee_count": {"type": ["integer", "null"]},
        "custom_fields": {"type": "object"},
    });
    let labels = json!({
        "labels": list(json!({"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}})),
    });
    json!({
        "type": "object",
        "required": ["id", "name", "owner_id", "add_time", "update_time", "is_deleted", "visible_to"],
        "properties": merged([always, organization_v2_includable(), labels]),
    })
}

/// What v2's `include_fields` may add to an organization, in the handler's list order. The
/// counts of deals, activities, mail and files are 0 and the activity ids `null`.
fn organization_v2_includable() -> Value {
    let count = json!({"type": "integer"});
    let activity = json!({
        "next_activity_id": {"type": ["integer", "null"]},
        "last_activity_id": {"type": ["integer", "null"]},
    });
    let counts = json!({
        "open_deals_count": count,
        "related_open_deals_count": count,
        "closed_deals_count": count,
        "related_closed_deals_count": count,
        "email_messages_count": count,
        "people_count": count,
        "activities_count": count,
        "done_activities_count": count,
        "undone_activities_count": count,
        "files_count": count,
        "notes_count": count,
        "followers_count": count,
        "won_deals_count": count,
        "related_won_deals_count": count,
        "lost_deals_count": count,
        "related_lost_deals_count": count,
    });
    let mail = json!({"smart_bcc_email": {"type": "string"}});
    merged([activity, counts, mail])
}

/// An organization as a v2 search finds it.
pub(super) fn organization_search_item() -> Value {
    json!({
        "type": "object",
        "required": ["id", "type", "name"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "const": "organization"},
            "name": {"type": "string"},
            "address": nullable_string(),
            "visible_to": {"type": "integer"},
            "owner": search_owner(),
            "custom_fields": {"type": "array"},
            "notes": {"type": "array"},
        },
    })
}
