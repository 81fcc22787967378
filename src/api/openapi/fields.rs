//! Fields of every kind (personFields, organizationFields, dealFields) in both dialects: what their
//! operations take and answer, and the field and option schemas. Only admins change fields,
//! so every write may also answer 403.

use serde_json::{Map, Value, json};

use super::routes::Dialect;
use super::shared::{
    deleted_id, deleted_ids, ids_param, list, merged, nullable_string, q, r, string, v1_pagination,
    v1_paging, v2_cursor, v2_paging,
};
use super::{Doc, doc};

/// The kinds whose fields have operations, as operation names spell them.
const KINDS: [&str; 3] = ["person", "organization", "deal"];

/// The description of a field operation, if `operation` is one in `dialect`: the route table
/// names them `<verb>_<kind>_field…`; each kind's are described alike.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    let (kind, generic) = KINDS.iter().find_map(|kind| {
        let generic = operation.replacen(&format!("_{kind}_field"), "_field", 1);
        (generic != operation).then_some((*kind, generic))
    })?;
    let mut d = match dialect {
        Dialect::V1 => describe_v1(&generic),
        Dialect::V2 => describe_v2(&generic),
        Dialect::Service => None,
    }?;
    d.summary = d.summary.replace("{kind}", kind).into();
    Some(d)
}

/// A v2 list of options: by id to relabel or delete, by label to add.
fn options_body(with_id: bool, with_label: bool) -> Value {
    let mut props = Map::new();
    let mut required = vec![];
    if with_id {
        props.insert("id".into(), json!({"type": "integer"}));
        required.push("id");
    }
    if with_label {
        props.insert(
            "label".into(),
            json!({"type": "string", "minLength": 1, "maxLength": 255}),
        );
        required.push("label");
    }
    list(json!({"type": "object", "required": required, "properties": props}))
}

/// The `/v1` and `/api/v1` field operations, `{kind}` in their summaries.
fn describe_v1(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_fields" => doc(
            "List {kind} fields",
            v1_paging(),
            None,
            200,
            list(r("FieldV1")),
            Some(v1_pagination()),
        ),
        "add_field" => doc(
            "Add a {kind} field",
            vec![],
            Some(
                json!({"type": "object", "required": ["name", "field_type"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 255},
                    "field_type": {"type": "string"},
                    "options": list(json!({"oneOf": [{"type": "string"}, {"type": "object", "properties": {"label": {"type": "string"}}}]})),
                    "add_visible_flag": {"type": "boolean"},
                }}),
            ),
            200,
            r("FieldV1"),
            None,
        ),
        "delete_fields" => doc(
            "Delete {kind} fields in bulk",
            vec![ids_param(1000)],
            None,
            200,
            deleted_ids(),
            None,
        ),
        "get_field" => doc("Get a {kind} field", vec![], None, 200, r("FieldV1"), None),
        "update_field" => doc(
            "Update a {kind} field (options replace the whole list)",
            vec![],
            Some(json!({"type": "object", "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 255},
                "options": list(json!({"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}})),
                "add_visible_flag": {"type": "boolean"},
            }})),
            200,
            r("FieldV1"),
            None,
        ),
        "delete_field" => doc(
            "Delete a {kind} field",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        _ => return None,
    })
}

/// The `/api/v2` field operations, whose options have endpoints of their own.
fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_fields" => {
            let mut p = v2_paging();
            p.push(q("include_fields", string(), "Extra field attributes"));
            doc(
                "List {kind} fields",
                p,
                None,
                200,
                list(r("FieldV2")),
                Some(v2_cursor()),
            )
        }
        "add_field" => doc(
            "Add a {kind} field",
            vec![],
            Some(
                json!({"type": "object", "required": ["field_name", "field_type"], "properties": {
                    "field_name": {"type": "string", "minLength": 1, "maxLength": 255},
                    "field_type": {"type": "string"},
                    "options": options_body(false, true),
                    "ui_visibility": {"type": "object"},
                }}),
            ),
            200,
            r("FieldV2"),
            None,
        ),
        "get_field" => doc(
            "Get a {kind} field",
            vec![q("include_fields", string(), "Extra field attributes")],
            None,
            200,
            r("FieldV2"),
            None,
        ),
        "update_field" => doc(
            "Rename a {kind} field",
            vec![],
            Some(json!({"type": "object", "properties": {
                "field_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "ui_visibility": {"type": "object"},
            }})),
            200,
            r("FieldV2"),
            None,
        ),
        "delete_field" => doc(
            "Delete a {kind} field",
            vec![],
            None,
            200,
            r("FieldV2"),
            None,
        ),
        "add_field_options" => doc(
            "Add options (all or none)",
            vec![],
            Some(options_body(false, true)),
            200,
            list(r("FieldOption")),
            None,
        ),
        "update_field_options" => doc(
            "Relabel options (all or none)",
            vec![],
            Some(options_body(true, true)),
            200,
            list(r("FieldOption")),
            None,
        ),
        "delete_field_options" => doc(
            "Delete options (all or none)",
            vec![],
            Some(options_body(true, false)),
            200,
            list(r("FieldOption")),
            None,
        ),
        _ => return None,
    })
}

/// The component schemas of fields (of every kind): an option, and a field in each dialect.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("FieldOption", field_option()),
        ("FieldV1", field_v1()),
        ("FieldV2", field_v2()),
    ]
}

/// An option of an enum or set field.
fn field_option() -> Value {
    json!({
        "type": "object",
        "required": ["id", "label"],
        "properties": {"id": {"type": "integer"}, "label": {"type": "string"}},
    })
}

/// A field as v1 answers it, key for key as the v1 renderer writes it: `options_deleted`
/// only once options were deleted, `subfields` only for fields with parts (monetary, ranges,
/// address).
fn field_v1() -> Value {
    let flag = json!({"type": "boolean"});
    let identity = json!({
        "id": {"type": "integer"},
        "key": {"type": "string"},
        "name": {"type": "string"},
        "order_nr": {"type": "integer"},
        "field_type": {"type": "string"},
        "add_time": {"type": "string"},
        "update_time": {"type": "string"},
        "last_updated_by_user_id": {"type": ["integer", "null"]},
        "created_by_user_id": {"type": ["integer", "null"]},
    });
    let flags = json!({
        "active_flag": flag,
        "edit_flag": flag,
        "index_visible_flag": flag,
        "details_visible_flag": flag,
        "add_visible_flag": flag,
        "important_flag": flag,
        "bulk_edit_allowed": flag,
        "searchable_flag": flag,
        "filtering_allowed": flag,
        "sortable_flag": flag,
        "mandatory_flag": flag,
    });
    let subfield = json!({
        "type": "object",
        "required": ["key", "name", "field_type"],
        "properties": {"key": {"type": "string"}, "name": {"type": "string"}, "field_type": {"type": "string"}},
    });
    let options = json!({
        "options": {"type": ["array", "null"], "items": r("FieldOption")},
        "options_deleted": list(r("FieldOption")),
        "subfields": list(subfield),
    });
    json!({
        "type": "object",
        "required": ["id", "key", "name", "field_type"],
        "properties": merged([identity, flags, options]),
    })
}

/// A field as v2 answers it: `ui_visibility`, `important_fields` and `required_fields`
/// only when `include_fields` names them.
fn field_v2() -> Value {
    let option = json!({
        "type": "object",
        "required": ["id", "label"],
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "color": nullable_string(),
            "update_time": {"type": "string"},
            "add_time": {"type": "string"},
        },
    });
    let subfield = json!({
        "type": "object",
        "required": ["field_code", "field_name", "field_type"],
        "properties": {"field_code": {"type": "string"}, "field_name": {"type": "string"}, "field_type": {"type": "string"}},
    });
    json!({
        "type": "object",
        "required": ["field_name", "field_code", "field_type", "is_custom_field"],
        "properties": {
            "field_name": {"type": "string"},
            "field_code": {"type": "string"},
            "description": nullable_string(),
            "field_type": {"type": "string"},
            "options": {"type": ["array", "null"], "items": option},
            "subfields": {"type": ["array", "null"], "items": subfield},
            "is_custom_field": {"type": "boolean"},
            "is_optional_response_field": {"type": "boolean"},
            "ui_visibility": ui_visibility(),
            "important_fields": {"type": "object", "properties": {"enabled": {"type": "boolean"}, "stage_ids": list(json!({"type": "integer"}))}},
            "required_fields": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
        },
    })
}

/// Where Pipedrive's UI shows a field (pipestack has no UI: it keeps the settings as set).
fn ui_visibility() -> Value {
    json!({
        "type": "object",
        "properties": {
            "add_visible_flag": {"type": "boolean"},
            "details_visible_flag": {"type": "boolean"},
            "show_in_add_deal_dialog": {
                "type": "object",
                "properties": {"show": {"type": "boolean"}, "order": {"type": ["integer", "null"]}},
            },
        },
    })
}
