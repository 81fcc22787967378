//! Activities (v2, and v1's legacy reads), activity types and notes (v1): what their
//! operations take and answer, and their schemas.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{
    boolean, deleted_id, id, ids_param, list, merged, nullable_string, q, r, string, v1_pagination,
    v1_paging, v2_cursor, v2_paging,
};
use super::{Doc, doc};

pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    match dialect {
        Dialect::V1 => describe_v1(operation),
        Dialect::V2 => describe_v2(operation),
        Dialect::Service => None,
    }
}

fn opt_id() -> Value {
    json!({"type": ["integer", "null"], "minimum": 1})
}

fn opt_text(max: usize) -> Value {
    json!({"type": ["string", "null"], "maxLength": max})
}

/// An activity body: everything v2 takes; nothing is required.
fn activity_body() -> Value {
    let location_part = opt_text(255);
    json!({
        "type": "object",
        "properties": merged([
            json!({
                "subject": {"type": "string", "maxLength": 255, "pattern": "\\S"},
                "type": {"type": "string", "description": "An active activity type's key_string"},
                "owner_id": id(),
                "deal_id": opt_id(),
                "person_id": opt_id(),
                "org_id": opt_id(),
                "due_date": {"type": ["string", "null"], "format": "date"},
                "due_time": {"type": ["string", "null"], "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"},
                "duration": {"type": ["string", "null"], "pattern": "^[0-9]{2}:[0-5][0-9](:[0-5][0-9])?$"},
                "busy": {"type": ["boolean", "null"]},
                "done": boolean(),
            }),
            json!({
                "location": {
                    "type": ["object", "null"],
                    "additionalProperties": false,
                    "properties": {
                        "value": location_part, "country": location_part,
                        "admin_area_level_1": location_part, "admin_area_level_2": location_part,
                        "locality": location_part, "sublocality": location_part,
                        "route": location_part, "street_number": location_part,
                        "subpremise": location_part, "postal_code": location_part,
                        "formatted_address": location_part,
                    },
                },
                "public_description": opt_text(100_000),
                "priority": {"type": ["integer", "null"]},
                "note": opt_text(100_000),
                "participants": list(json!({
                    "type": "object",
                    "required": ["person_id"],
                    "additionalProperties": false,
                    "properties": {"person_id": id(), "primary": boolean()},
                })),
                "attendees": list(json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "email": {"type": "string", "format": "email"},
                        "email_address": {"type": "string", "format": "email"},
                        "name": nullable_string(),
                        "status": nullable_string(),
                        "is_organizer": boolean(),
                        "person_id": opt_id(),
                        "user_id": opt_id(),
                    },
                })),
            }),
        ]),
    })
}

fn ui_visibility() -> Value {
    q(
        "include_fields",
        json!({"type": "string", "enum": ["ui_visibility"]}),
        "Add the fields' UI visibility",
    )
}

fn include_attendees() -> Value {
    q(
        "include_fields",
        json!({"type": "string", "enum": ["attendees"]}),
        "Add the attendees",
    )
}

fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_activities" => {
            let mut p = v2_paging();
            p.push(q(
                "sort_by",
                json!({"type": "string", "enum": ["id", "update_time", "add_time", "due_date"]}),
                "Order",
            ));
            p.push(q(
                "sort_direction",
                json!({"type": "string", "enum": ["asc", "desc"]}),
                "Direction",
            ));
            p.push(ids_param(100));
            for (name, what) in [
                ("owner_id", "Only activities of this owner"),
                ("deal_id", "Only activities of this deal"),
                (
                    "person_id",
                    "Only activities whose primary participant is this person",
                ),
                ("org_id", "Only activities of this organization"),
            ] {
                p.push(q(name, id(), what));
            }
            p.push(q(
                "done",
                boolean(),
                "Only done (true) or undone (false) ones",
            ));
            p.push(q("updated_since", string(), "RFC 3339"));
            p.push(q("updated_until", string(), "RFC 3339"));
            p.push(include_attendees());
            doc(
                "List activities",
                p,
                None,
                200,
                list(r("ActivityV2")),
                Some(v2_cursor()),
            )
        }
        "get_activity" => doc(
            "Get an activity",
            vec![include_attendees()],
            None,
            200,
            r("ActivityV2"),
            None,
        ),
        "add_activity" => doc(
            "Add an activity",
            vec![],
            Some(activity_body()),
            200,
            r("ActivityV2"),
            None,
        ),
        "update_activity" => doc(
            "Update an activity",
            vec![],
            Some(activity_body()),
            200,
            r("ActivityV2"),
            None,
        ),
        "delete_activity" => doc("Delete an activity", vec![], None, 200, deleted_id(), None),
        "get_activity_fields" => {
            let mut p = v2_paging();
            p.push(ui_visibility());
            doc(
                "List activity fields",
                p,
                None,
                200,
                list(r("ActivityField")),
                Some(v2_cursor()),
            )
        }
        "get_activity_field" => doc(
            "Get an activity field",
            vec![ui_visibility()],
            None,
            200,
            r("ActivityField"),
            None,
        ),
        _ => return None,
    })
}

fn zero_one(name: &str, what: &str) -> Value {
    q(name, json!({"type": "integer", "enum": [0, 1]}), what)
}

fn type_body(create: bool) -> Value {
    json!({
        "type": "object",
        "required": if create { json!(["name", "icon_key"]) } else { json!([]) },
        "properties": {
            "name": {"type": "string", "maxLength": 255, "pattern": "\\S"},
            "icon_key": {"type": "string", "enum": crate::domain::activity::types::ICON_KEYS.to_vec()},
            "color": {"type": ["string", "null"], "pattern": "^#?[0-9A-Fa-f]{6}$"},
            "order_nr": {"type": "integer", "minimum": 0, "maximum": crate::domain::activity::types::MAX_ORDER_NR},
        },
    })
}

fn note_body(create: bool) -> Value {
    let flag = json!({"type": "integer", "enum": [0, 1]});
    json!({
        "type": "object",
        "required": if create { json!(["content"]) } else { json!([]) },
        "properties": {
            "content": {"type": "string", "minLength": 1, "maxLength": 100_000, "pattern": "\\S"},
            "user_id": id(),
            "deal_id": opt_id(),
            "person_id": opt_id(),
            "org_id": opt_id(),
            "pinned_to_deal_flag": flag,
            "pinned_to_person_flag": flag,
            "pinned_to_organization_flag": flag,
            "add_time": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"},
        },
    })
}

fn describe_v1(operation: &str) -> Option<Doc> {
    let activities = |extra: Vec<Value>| {
        let mut p = v1_paging();
        p.push(zero_one("done", "Only done (1) or undone (0) ones"));
        p.extend(extra);
        p
    };
    let exclude = || {
        q(
            "exclude",
            json!({"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"}),
            "Comma-separated activity ids to leave out",
        )
    };
    let page = |summary: &'static str, params: Vec<Value>| {
        doc(
            summary,
            params,
            None,
            200,
            list(r("ActivityV1")),
            Some(v1_pagination()),
        )
    };
    Some(match operation {
        "get_activities_v1" => page(
            "List activities",
            activities(vec![
                q(
                    "user_id",
                    json!({"type": "integer", "minimum": 0}),
                    "The owner (0: everyone's; omitted: the caller's)",
                ),
                q(
                    "type",
                    string(),
                    "Comma-separated activity type key_strings",
                ),
                q(
                    "start_date",
                    json!({"type": "string", "format": "date"}),
                    "Due on or after",
                ),
                q(
                    "end_date",
                    json!({"type": "string", "format": "date"}),
                    "Due on or before",
                ),
            ]),
        ),
        "get_activity_v1" => doc("Get an activity", vec![], None, 200, r("ActivityV1"), None),
        "get_person_activities" => page(
            "Activities a person takes part in",
            activities(vec![exclude()]),
        ),
        "get_organization_activities" => {
            page("Activities of an organization", activities(vec![exclude()]))
        }
        "get_deal_activities" => page("Activities of a deal", activities(vec![exclude()])),
        "get_activity_types" => doc(
            "List activity types",
            vec![],
            None,
            200,
            list(r("ActivityType")),
            None,
        ),
        "add_activity_type" => doc(
            "Add an activity type",
            vec![],
            Some(type_body(true)),
            200,
            r("ActivityType"),
            None,
        ),
        "update_activity_type" => doc(
            "Update an activity type",
            vec![],
            Some(type_body(false)),
            200,
            r("ActivityType"),
            None,
        ),
        "delete_activity_type" => doc(
            "Delete an activity type",
            vec![],
            None,
            200,
            r("ActivityType"),
            None,
        ),
        "get_notes" => {
            let mut p = v1_paging();
            for (name, what) in [
                ("user_id", "Only notes of this author"),
                ("deal_id", "Only notes of this deal"),
                ("person_id", "Only notes of this person"),
                ("org_id", "Only notes of this organization"),
            ] {
                p.push(q(name, id(), what));
            }
            p.push(zero_one("pinned_to_deal_flag", "Pinned to its deal or not"));
            p.push(zero_one(
                "pinned_to_person_flag",
                "Pinned to its person or not",
            ));
            p.push(zero_one(
                "pinned_to_organization_flag",
                "Pinned to its organization or not",
            ));
            p.push(q(
                "start_date",
                json!({"type": "string", "format": "date"}),
                "Added on or after",
            ));
            p.push(q(
                "end_date",
                json!({"type": "string", "format": "date"}),
                "Added on or before",
            ));
            p.push(q("updated_since", string(), "RFC 3339"));
            p.push(q(
                "sort",
                string(),
                "Field and direction, e.g. `add_time DESC`",
            ));
            doc(
                "List notes",
                p,
                None,
                200,
                list(r("Note")),
                Some(v1_pagination()),
            )
        }
        "get_note" => doc("Get a note", vec![], None, 200, r("Note"), None),
        "get_note_fields" => doc(
            "List note fields",
            vec![],
            None,
            200,
            list(r("NoteField")),
            Some(json!({"type": "object", "properties": {
                "start": {"type": "integer"}, "limit": {"type": "integer"},
                "more_items_in_collection": {"type": "boolean"},
            }})),
        ),
        "add_note" => doc(
            "Add a note",
            vec![],
            Some(note_body(true)),
            200,
            r("Note"),
            None,
        ),
        "update_note" => doc(
            "Update a note",
            vec![],
            Some(note_body(false)),
            200,
            r("Note"),
            None,
        ),
        "delete_note" => doc(
            "Delete a note",
            vec![],
            None,
            200,
            json!({"type": "boolean", "const": true}),
            None,
        ),
        _ => return None,
    })
}

pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("ActivityV2", activity_v2()),
        ("ActivityV1", activity_v1()),
        ("ActivityType", activity_type()),
        ("Note", note()),
        ("ActivityField", activity_field()),
        ("NoteField", note_field()),
    ]
}

fn activity_v2() -> Value {
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": ["integer", "null"]});
    let text = json!({"type": "string"});
    let none = json!({"type": "null"});
    json!({
        "type": "object",
        "required": ["id", "subject", "type", "owner_id", "is_deleted", "done", "participants"],
        "properties": merged([
            json!({
                "id": int, "subject": text, "type": text, "owner_id": int,
                "creator_user_id": int, "is_deleted": {"type": "boolean"}, "add_time": text,
                "update_time": text, "deal_id": opt_int, "lead_id": none, "person_id": opt_int,
                "org_id": opt_int, "project_id": none, "due_date": nullable_string(),
                "due_time": nullable_string(), "duration": nullable_string(),
            }),
            json!({
                "busy": {"type": ["boolean", "null"]}, "done": {"type": "boolean"},
                "marked_as_done_time": nullable_string(),
                "location": {"type": ["object", "null"]},
                "participants": list(json!({
                    "type": "object",
                    "properties": {"person_id": int, "primary": {"type": "boolean"}},
                })),
                "attendees": list(json!({"type": "object"})),
                "conference_meeting_client": none, "conference_meeting_url": none,
                "conference_meeting_id": none, "public_description": nullable_string(),
                "priority": opt_int, "note": nullable_string(),
            }),
        ]),
    })
}

fn activity_v1() -> Value {
    let none = json!({"type": "null"});
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": ["integer", "null"]});
    let text = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["id", "user_id", "type", "subject", "done", "active_flag"],
        "properties": merged([
            json!({
                "id": int, "company_id": int, "user_id": int, "done": {"type": "boolean"},
                "type": text, "due_date": text, "due_time": text, "duration": text,
                "busy_flag": {"type": "boolean"}, "add_time": text,
                "marked_as_done_time": text, "subject": text, "public_description": text,
                "location": text, "org_id": opt_int, "person_id": opt_int,
                "deal_id": opt_int, "active_flag": {"type": "boolean"}, "update_time": text,
            }),
            json!({
                "conference_meeting_client": text, "conference_meeting_url": text,
                "conference_meeting_id": text, "calendar_sync_include_context": text,
                "lead_id": none, "project_id": none, "source_timezone": text,
                "series": list(json!({})),
                "person_dropbox_bcc": nullable_string(), "deal_dropbox_bcc": nullable_string(),
            }),
            json!({
                "location_subpremise": text, "location_street_number": text,
                "location_route": text, "location_sublocality": text,
                "location_locality": text, "location_admin_area_level_1": text,
                "location_admin_area_level_2": text, "location_country": text,
                "location_postal_code": text, "location_formatted_address": text,
            }),
            json!({
                "note": text, "created_by_user_id": int,
                "participants": list(json!({"type": "object"})),
                "attendees": list(json!({"type": "object"})),
                "org_name": nullable_string(), "person_name": nullable_string(),
                "deal_title": nullable_string(), "owner_name": nullable_string(),
                "assigned_to_user_id": int, "type_name": nullable_string(),
                "priority": opt_int,
            }),
        ]),
    })
}

fn activity_type() -> Value {
    let int = json!({"type": "integer"});
    let text = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["id", "order_nr", "name", "key_string", "icon_key", "active_flag", "is_custom_flag"],
        "properties": {
            "id": int, "order_nr": int, "name": text, "key_string": text, "icon_key": text,
            "active_flag": {"type": "boolean"}, "color": nullable_string(),
            "is_custom_flag": {"type": "boolean"}, "add_time": text, "update_time": text,
        },
    })
}

fn note() -> Value {
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": ["integer", "null"]});
    let text = json!({"type": "string"});
    let flag = json!({"type": "boolean"});
    let none = json!({"type": "null"});
    let named =
        |key: &str| json!({"type": ["object", "null"], "properties": {key: {"type": "string"}}});
    json!({
        "type": "object",
        "required": ["id", "active_flag", "content", "user_id", "add_time", "update_time"],
        "properties": merged([
            json!({
                "id": int, "active_flag": flag, "add_time": text, "update_time": text,
                "content": text, "user_id": int, "last_update_user_id": int,
                "deal_id": opt_int, "deal": named("title"), "person_id": opt_int,
                "person": named("name"), "org_id": opt_int, "organization": named("name"),
            }),
            json!({
                "pinned_to_deal_flag": flag, "pinned_to_person_flag": flag,
                "pinned_to_organization_flag": flag, "pinned_to_lead_flag": flag,
                "pinned_to_project_flag": flag, "pinned_to_task_flag": flag,
                "lead_id": none, "project_id": none, "project": none, "task_id": none,
                "task": none, "user": {"type": ["object", "null"]},
            }),
        ]),
    })
}

fn activity_field() -> Value {
    let text = json!({"type": "string"});
    let flag = json!({"type": "boolean"});
    json!({
        "type": "object",
        "required": ["field_name", "field_code", "field_type", "is_custom_field", "is_optional_response_field"],
        "properties": {
            "field_name": text, "field_code": text, "field_type": text,
            "options": {"type": ["array", "null"], "items": {"type": "object"}},
            "subfields": {"type": ["array", "null"], "items": {"type": "object"}},
            "is_custom_field": flag, "is_optional_response_field": flag,
            "ui_visibility": {"type": "object"},
        },
    })
}

fn note_field() -> Value {
    let text = json!({"type": "string"});
    let flag = json!({"type": "boolean"});
    json!({
        "type": "object",
        "required": ["id", "key", "name", "field_type"],
        "properties": {
            "id": {"type": "integer"}, "key": text, "name": text, "field_type": text,
            "active_flag": flag, "edit_flag": flag, "bulk_edit_allowed": flag,
            "mandatory_flag": flag,
            "options": {"type": ["array", "null"], "items": {"type": "object"}},
        },
    })
}
