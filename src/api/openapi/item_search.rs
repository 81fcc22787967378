//! `itemSearch`, `itemSearch/field` and v1's organization search: what they take and answer.

use serde_json::{Value, json};

use super::deals::deal_search_item;
use super::organizations::organization_search_item;
use super::persons::person_search_item;
use super::routes::Dialect;
use super::shared::{
    boolean, list, q, q_req, string, v1_pagination, v1_paging, v2_cursor, v2_paging,
};
use super::{Doc, doc};

pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    let v1 = dialect == Dialect::V1;
    let additional = || Some(if v1 { v1_pagination() } else { v2_cursor() });
    let paging = || if v1 { v1_paging() } else { v2_paging() };
    Some(match operation {
        "search_items_v1" | "search_items_v2" => {
            let mut p = common();
            p.push(q(
                "item_types",
                string(),
                "Comma-separated: deal, person, organization (product, lead, file, \
                 mail_attachment and project are accepted and have no items)",
            ));
            p.push(q(
                "search_for_related_items",
                boolean(),
                "Add the newest deals of each person and organization found, and the newest \
                 persons of each organization",
            ));
            p.extend(paging());
            doc(
                "Search persons, organizations and deals",
                p,
                None,
                200,
                result(
                    json!({"anyOf": [person_search_item(), organization_search_item(), deal_search_item()]}),
                ),
                additional(),
            )
        }
        "search_organizations_v1" => {
            let mut p = common();
            p.extend(paging());
            doc(
                "Search organizations",
                p,
                None,
                200,
                result(organization_search_item()),
                additional(),
            )
        }
        "search_field_v1" => {
            let mut p = vec![
                term(),
                q_req(
                    "field_type",
                    json!({"type": "string", "enum": ["dealField", "leadField", "personField", "organizationField", "productField", "projectField"]}),
                    "The kind of item whose field is searched",
                ),
                q_req("field_key", string(), "The field's key"),
                q(
                    "exact_match",
                    boolean(),
                    "Only whole values equal to the term (case-sensitive)",
                ),
                q(
                    "return_item_ids",
                    boolean(),
                    "Each item with its id, not the distinct values",
                ),
            ];
            p.extend(paging());
            doc(
                "Search one field's values",
                p,
                None,
                200,
                field_items(),
                additional(),
            )
        }
        "search_field_v2" => {
            let mut p = vec![
                term(),
                q_req(
                    "entity_type",
                    json!({"type": "string", "enum": ["deal", "lead", "person", "organization", "product", "project"]}),
                    "The kind of item whose field is searched",
                ),
                q(
                    "match",
                    json!({"type": "string", "enum": ["exact", "beginning", "middle"], "default": "exact"}),
                    "How the value matches the term (case-sensitive)",
                ),
                q_req("field", string(), "The field's key"),
            ];
            p.extend(paging());
            doc(
                "Search one field's values",
                p,
                None,
                200,
                field_items(),
                additional(),
            )
        }
        _ => return None,
    })
}

fn term() -> Value {
    q_req(
        "term",
        json!({"type": "string", "minLength": 1}),
        "At least 2 characters (1 for exact matches)",
    )
}

fn common() -> Vec<Value> {
    vec![
        term(),
        q(
            "fields",
            string(),
            "Comma-separated: address, code, custom_fields, email, name, notes, phone, title, description",
        ),
        q(
            "exact_match",
            boolean(),
            "Only exact matches (not case-sensitive)",
        ),
        q(
            "include_fields",
            string(),
            "deal.cc_email, person.picture or product.price",
        ),
    ]
}

fn result(item: Value) -> Value {
    let scored = list(json!({
        "type": "object",
        "required": ["result_score", "item"],
        "properties": {"result_score": {"type": "number"}, "item": item},
    }));
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {"items": scored, "related_items": scored},
    })
}

fn field_items() -> Value {
    list(json!({"type": "object", "properties": {"id": {"type": "integer"}}}))
}
