//! The building blocks every resource's description uses: references, query parameters,
//! paging in both dialects, and the small answers (deleted ids, cursors) shared by many
//! operations.

use serde_json::{Map, Value, json};

/// A reference to a component schema, so a shape is written once.
pub(super) fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An array of `of`.
pub(super) fn list(of: Value) -> Value {
    json!({"type": "array", "items": of})
}

/// An optional query parameter.
pub(super) fn q(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

/// A query parameter the operation cannot do without.
pub(super) fn q_req(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": true, "schema": schema, "description": description})
}

/// An id as clients send it: a positive 64-bit integer.
pub(super) fn id() -> Value {
    json!({"type": "integer", "minimum": 1, "format": "int64"})
}

/// Any string.
pub(super) fn string() -> Value {
    json!({"type": "string"})
}

/// A boolean.
pub(super) fn boolean() -> Value {
    json!({"type": "boolean"})
}

/// `limit`, the page size both dialects take.
pub(super) fn limit() -> Value {
    q(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": 500}),
        "Items per page (1–500)",
    )
}

/// v1 pages by offset: `start` and `limit`.
pub(super) fn v1_paging() -> Vec<Value> {
    vec![
        q(
            "start",
            json!({"type": "integer", "minimum": 0}),
            "Offset of the first item",
        ),
        limit(),
    ]
}

/// v2 pages by cursor: `cursor` and `limit`.
pub(super) fn v2_paging() -> Vec<Value> {
    vec![
        q("cursor", string(), "The next_cursor of the previous page"),
        limit(),
    ]
}

/// v2 lists' `sort_by` and `sort_direction`.
pub(super) fn v2_order() -> Vec<Value> {
    vec![
        q(
            "sort_by",
            json!({"type": "string", "enum": ["id", "update_time", "add_time"]}),
            "Order",
        ),
        q(
            "sort_direction",
            json!({"type": "string", "enum": ["asc", "desc"]}),
            "Direction",
        ),
    ]
}

/// `ids`: which items a bulk operation or a v2 list takes, at most `max`.
pub(super) fn ids_param(max: usize) -> Value {
    q(
        "ids",
        json!({"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"}),
        &format!("Comma-separated ids (at most {max})"),
    )
}

/// What a search takes: the term, where to look, and the dialect's paging; a person search
/// also narrows by organization and may add pictures.
pub(super) fn search_params(v1: bool, persons: bool) -> Vec<Value> {
    let mut p = vec![
        q_req(
            "term",
            json!({"type": "string", "minLength": 1}),
            "At least 2 characters (1 with exact_match)",
        ),
        q("fields", string(), "Comma-separated fields to search"),
        q("exact_match", boolean(), "Only exact matches"),
    ];
    if persons {
        p.push(q(
            "organization_id",
            id(),
            "Only persons of this organization",
        ));
        p.push(q(
            "include_fields",
            string(),
            "Extra fields, e.g. person.picture",
        ));
    }
    p.extend(if v1 { v1_paging() } else { v2_paging() });
    p
}

/// v1 lists' `additional_data`: the offset page and whether more follow.
pub(super) fn v1_pagination() -> Value {
    json!({
        "type": "object",
        "properties": {"pagination": {
            "type": "object",
            "required": ["start", "limit", "more_items_in_collection"],
            "properties": {
                "start": {"type": "integer"},
                "limit": {"type": "integer"},
                "more_items_in_collection": {"type": "boolean"},
                "next_start": {"type": "integer"},
            },
        }},
    })
}

/// v2 lists' `additional_data`: the cursor of the next page, `null` on the last.
pub(super) fn v2_cursor() -> Value {
    json!({
        "type": "object",
        "required": ["next_cursor"],
        "properties": {"next_cursor": {"type": ["string", "null"]}},
    })
}

/// `data` of a delete: the id deleted.
pub(super) fn deleted_id() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
}

/// `data` of a bulk delete: the ids deleted.
pub(super) fn deleted_ids() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {"id": list(json!({"type": "integer"}))}})
}

/// A name: not blank, at most 255 characters.
pub(super) fn name() -> Value {
    json!({"type": "string", "maxLength": 255, "pattern": "\\S"})
}

/// What both v1 lists (persons, organizations) take.
pub(super) fn v1_list_filters() -> Vec<Value> {
    let mut p = v1_paging();
    p.push(q(
        "sort",
        string(),
        "Field and direction, e.g. `name ASC, id DESC`",
    ));
    p.push(q("user_id", id(), "Only items owned by this user"));
    p.push(q(
        "first_char",
        json!({"type": "string", "maxLength": 1}),
        "Only names starting with this letter",
    ));
    p
}

/// How a v2 read renders its items.
pub(super) fn v2_render() -> Vec<Value> {
    vec![
        q(
            "include_fields",
            string(),
            "Comma-separated optional fields",
        ),
        q(
            "custom_fields",
            string(),
            "Comma-separated custom field keys (at most 15)",
        ),
        q(
            "include_option_labels",
            boolean(),
            "Enum and set values as {id, label}",
        ),
    ]
}

/// What both v2 lists (persons, organizations) take.
pub(super) fn v2_list() -> Vec<Value> {
    let mut p = v2_paging();
    p.extend(v2_order());
    p.extend(v2_render());
    p.push(ids_param(100));
    p.push(q("owner_id", id(), "Only items of this owner"));
    p.push(q("updated_since", string(), "RFC 3339"));
    p.push(q("updated_until", string(), "RFC 3339"));
    p.push(q("include_labels", boolean(), "Add the labels' names"));
    p
}

/// The keys of several objects, in order, as one: a renderer's fifty keys in one `json!`
/// literal are past the macro's recursion limit, so long schemas are written in parts.
pub(super) fn merged<const N: usize>(parts: [Value; N]) -> Value {
    let mut out = Map::new();
    for part in parts {
        if let Value::Object(keys) = part {
            out.extend(keys);
        }
    }
    Value::Object(out)
}

/// A string or `null`.
pub(super) fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

/// `data` of a search: ranked items, each its score and the `item` found.
pub(super) fn search_result(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {"items": list(json!({
            "type": "object",
            "required": ["result_score", "item"],
            "properties": {"result_score": {"type": "number"}, "item": item},
        }))},
    })
}

/// Who owns a search item: its id only.
pub(super) fn search_owner() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
}
