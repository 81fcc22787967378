//! The API's contract, `GET /openapi.json` (OpenAPI 3.1), generated from the route table: every
//! path and method comes from [`routes::table`], the same table the router is built from, so
//! the document cannot list a route the server lacks or miss one it has. What each operation
//! takes and answers (parameters, bodies, schemas) is described here, next to the shapes the
//! dialects render; schemathesis checks in CI that the answers conform.

use serde_json::{Map, Value, json};

use super::routes::{self, Dialect, Entry};

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for e in routes::table() {
        for prefix in e.dialect.prefixes() {
            let path = format!("{prefix}{}", e.path);
            let item = paths
                .entry(path)
                .or_insert_with(|| Value::Object(Map::new()));
            item[e.method.as_str().to_ascii_lowercase()] = operation(&e, prefix);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "pipestack",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Pipedrive's persons API (v1 and v2 dialects over one data model), \
                with organizations, person fields, followers and users. Errors use Pipedrive's \
                envelope. `/v1/...` is the same API as `/api/v1/...`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"api_token": []}, {"api_token_query": []}, {"bearer": []}],
        "tags": [
            {"name": "Persons"}, {"name": "PersonFields"}, {"name": "Organizations"},
            {"name": "Users"}, {"name": "Service"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "api_token": {"type": "apiKey", "in": "header", "name": "x-api-token"},
                "api_token_query": {"type": "apiKey", "in": "query", "name": "api_token"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": schemas(),
        },
    })
}

/// What one operation takes and answers, beyond its path.
struct Doc {
    summary: &'static str,
    query: Vec<Value>,
    body: Option<Value>,
    /// The success status and the schema of `data` (plus `additional_data`, if any).
    status: u16,
    data: Value,
    additional: Option<Value>,
}

fn operation(e: &Entry, prefix: &str) -> Value {
    let doc = describe(e);
    let id = match (e.dialect, prefix) {
        (Dialect::V1, "/v1") => format!("v1_{}_short", e.name),
        (Dialect::V1, _) => format!("v1_{}", e.name),
        (Dialect::V2, _) => format!("v2_{}", e.name),
        (Dialect::Service, _) => e.name.to_owned(),
    };
    let mut params: Vec<Value> = e
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = if name == "field_code" {
                json!({"type": "string", "minLength": 1})
            } else {
                json!({"type": "integer", "minimum": 1, "format": "int64"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect();
    params.extend(doc.query);
    let tag = if e.path.starts_with("/personFields") {
        "PersonFields"
    } else if e.path.starts_with("/organizations") {
        "Organizations"
    } else if e.path.starts_with("/users") {
        "Users"
    } else if e.dialect == Dialect::Service {
        "Service"
    } else {
        "Persons"
    };
    let mut responses = Map::new();
    let ok = match e.dialect {
        Dialect::Service if e.name == "metrics" => json!({
            "description": "Prometheus text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }),
        Dialect::Service if e.name == "docs" => json!({
            "description": "The documentation page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }),
        Dialect::Service if e.name == "openapi_json" => json!({
            "description": "This document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }),
        _ => json!({
            "description": "Success",
            "headers": rate_headers(e),
            "content": {"application/json": {"schema": success(doc.data, doc.additional)}},
        }),
    };
    responses.insert(doc.status.to_string(), ok);
    for (status, why) in errors(e, doc.body.is_some()) {
        let mut r = json!({
            "description": why,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        });
        if e.dialect != Dialect::Service && status != 401 {
            r["headers"] = rate_headers(e);
        }
        responses.insert(status.to_string(), r);
    }
    let mut op = json!({
        "operationId": id,
        "summary": doc.summary,
        "tags": [tag],
        "parameters": params,
        "responses": responses,
    });
    if e.dialect == Dialect::Service {
        op["security"] = json!([]);
    } else {
        op["x-token-cost"] = json!(e.cost);
    }
    if e.dialect == Dialect::V1 && prefix == "/v1" {
        op["description"] = json!("The same operation as under /api/v1.");
    }
    if let Some(body) = doc.body {
        let mut content = json!({"application/json": {"schema": body}});
        if e.dialect == Dialect::V1 {
            content["application/x-www-form-urlencoded"] = json!({"schema": {"type": "object"}});
        }
        op["requestBody"] = json!({"required": false, "content": content});
    }
    op
}

/// The error statuses an operation can answer, each in the error envelope.
fn errors(e: &Entry, has_body: bool) -> Vec<(u16, &'static str)> {
    if e.dialect == Dialect::Service {
        let mut out = vec![(408, "Request timeout"), (431, "Headers too large")];
        if e.name == "readyz" {
            out.push((503, "The store does not answer"));
        }
        return out;
    }
    let mut out = vec![
        (
            400,
            "A parameter or body value is invalid; the message names it",
        ),
        (401, "No token, or not a token of an active user"),
        (404, "Not found, or not visible to this token"),
        (408, "The request was not received in time"),
        (
            429,
            "A rate limit is exhausted (only with --rate-limits); see Retry-After",
        ),
        (431, "Request headers over the limits"),
        (
            503,
            "The database is unreachable or too slow; safe to retry",
        ),
    ];
    if has_body {
        out.push((413, "The body is over the size limit"));
        out.push((415, "The body is neither JSON nor form-encoded"));
    }
    if e.path.starts_with("/personFields") && e.method != axum::http::Method::GET {
        out.push((403, "Only admins manage fields"));
    }
    out
}

fn rate_headers(e: &Entry) -> Value {
    if e.dialect == Dialect::Service {
        return json!({});
    }
    let h = |d: &str| json!({"description": d, "schema": {"type": "integer"}});
    json!({
        "x-ratelimit-limit": h("Requests allowed per window (with --rate-limits)"),
        "x-ratelimit-remaining": h("Requests left in the window"),
        "x-ratelimit-reset": h("Seconds until a request leaves the window"),
        "x-daily-ratelimit-token-limit": h("The company's daily token budget"),
        "x-daily-ratelimit-token-remaining": h("Tokens left today"),
    })
}

fn success(data: Value, additional: Option<Value>) -> Value {
    let mut props = json!({
        "success": {"type": "boolean", "const": true},
        "data": data,
        "related_objects": {"type": "object"},
    });
    if let Some(a) = additional {
        props["additional_data"] = a;
    }
    json!({"type": "object", "required": ["success", "data"], "properties": props})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn list(of: Value) -> Value {
    json!({"type": "array", "items": of})
}

fn q(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn q_req(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": true, "schema": schema, "description": description})
}

fn id() -> Value {
    json!({"type": "integer", "minimum": 1, "format": "int64"})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn limit() -> Value {
    q(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": 500}),
        "Items per page (1–500)",
    )
}

fn v1_paging() -> Vec<Value> {
    vec![
        q(
            "start",
            json!({"type": "integer", "minimum": 0}),
            "Offset of the first item",
        ),
        limit(),
    ]
}

fn v2_paging() -> Vec<Value> {
    vec![
        q("cursor", string(), "The next_cursor of the previous page"),
        limit(),
    ]
}

fn v2_order() -> Vec<Value> {
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

fn ids_param(max: usize) -> Value {
    q(
        "ids",
        json!({"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"}),
        &format!("Comma-separated ids (at most {max})"),
    )
}

fn search_params(v1: bool, persons: bool) -> Vec<Value> {
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

fn v1_pagination() -> Value {
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

fn v2_cursor() -> Value {
    json!({
        "type": "object",
        "required": ["next_cursor"],
        "properties": {"next_cursor": {"type": ["string", "null"]}},
    })
}

fn deleted_id() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
}

fn deleted_ids() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {"id": list(json!({"type": "integer"}))}})
}

/// A name: not blank, at most 255 characters.
fn name() -> Value {
    json!({"type": "string", "maxLength": 255, "pattern": "\\S"})
}

fn v1_person_body(create: bool) -> Value {
    json!({
        "type": "object",
        "required": if create { json!(["name"]) } else { json!([]) },
        "properties": {
            "name": name(),
            "first_name": {"type": "string", "maxLength": 255},
            "last_name": {"type": "string", "maxLength": 255},
            "owner_id": id(),
            "org_id": {"type": ["integer", "null"], "minimum": 1},
            "email": {"oneOf": [{"type": "string"}, list(r("ContactInput"))]},
            "phone": {"oneOf": [{"type": "string"}, list(r("ContactInput"))]},
            "label": {"type": ["integer", "null"], "minimum": 1},
            "label_ids": list(id()),
            "visible_to": {"type": "string", "enum": ["1", "3", "5", "7"]},
            "marketing_status": {"type": "string", "enum": ["no_consent", "unsubscribed", "subscribed", "archived"]},
            "add_time": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", "description": "YYYY-MM-DD HH:MM:SS (create only)"},
        },
        "propertyNames": {"description": "Custom field values are keyed by field key (40 hex digits)"},
    })
}

fn v2_person_body(create: bool) -> Value {
    json!({
        "type": "object",
        "required": if create { json!(["name"]) } else { json!([]) },
        "properties": {
            "name": name(),
            "first_name": {"type": "string", "maxLength": 255},
            "last_name": {"type": "string", "maxLength": 255},
            "owner_id": id(),
            "org_id": {"type": ["integer", "null"], "minimum": 1},
            "emails": list(r("ContactObject")),
            "phones": list(r("ContactObject")),
            "label_ids": list(id()),
            "visible_to": {"type": "integer", "enum": [1, 3, 5, 7]},
            "marketing_status": {"type": "string", "enum": ["no_consent", "unsubscribed", "subscribed", "archived"]},
            "add_time": {"type": "string", "format": "date-time", "description": "RFC 3339 (create only)"},
            "custom_fields": {"type": "object", "propertyNames": {"pattern": "^[0-9a-f]{40}$"}},
        },
        "additionalProperties": false,
    })
}

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

fn follower_body() -> Value {
    json!({"type": "object", "required": ["user_id"], "properties": {"user_id": id()}})
}

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

fn describe(e: &Entry) -> Doc {
    let doc = |summary, query, body, status, data, additional| Doc {
        summary,
        query,
        body,
        status,
        data,
        additional,
    };
    let v1_list_filters = || {
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
    };
    let v2_render = || {
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
    };
    // What both v2 lists (persons, organizations) take.
    let v2_list = || {
        let mut p = v2_paging();
        p.extend(v2_order());
        p.extend(v2_render());
        p.push(ids_param(100));
        p.push(q("owner_id", id(), "Only items of this owner"));
        p.push(q("updated_since", string(), "RFC 3339"));
        p.push(q("updated_until", string(), "RFC 3339"));
        p.push(q("include_labels", boolean(), "Add the labels' names"));
        p
    };
    use Dialect::{Service, V1, V2};
    match (e.dialect, e.name) {
        (Service, "healthz") => doc("The process is alive", vec![], None, 200, r("Status"), None),
        (Service, "readyz") => doc("The store answers", vec![], None, 200, r("Status"), None),
        (Service, "metrics") => doc("Prometheus metrics", vec![], None, 200, json!({}), None),
        (Service, "openapi_json") => doc("This document", vec![], None, 200, json!({}), None),
        (Service, "docs") => doc("The documentation page", vec![], None, 200, json!({}), None),

        (V1, "list_persons") => doc(
            "List persons",
            v1_list_filters(),
            None,
            200,
            list(r("PersonV1")),
            Some(v1_pagination()),
        ),
        (V1, "add_person") => doc(
            "Add a person",
            vec![],
            Some(v1_person_body(true)),
            201,
            r("PersonV1"),
            None,
        ),
        (V1, "delete_persons") => doc(
            "Delete persons in bulk",
            vec![ids_param(1000)],
            None,
            200,
            deleted_ids(),
            None,
        ),
        (V1, "search_persons_v1") => doc(
            "Search persons",
            search_params(true, true),
            None,
            200,
            r("SearchResult"),
            Some(v1_pagination()),
        ),
        (V1, "get_person") => doc("Get a person", vec![], None, 200, r("PersonV1"), None),
        (V1, "update_person") => doc(
            "Update a person",
            vec![],
            Some(v1_person_body(false)),
            200,
            r("PersonV1"),
            None,
        ),
        (V1, "delete_person") => doc("Delete a person", vec![], None, 200, deleted_id(), None),
        (V1, "merge_persons") => doc(
            "Merge two persons",
            vec![],
            Some(
                json!({"type": "object", "required": ["merge_with_id"], "properties": {"merge_with_id": {"type": "integer"}}}),
            ),
            200,
            r("PersonV1"),
            None,
        ),
        (V1, "get_person_users") => doc(
            "Users who may see a person",
            vec![],
            None,
            200,
            list(json!({"type": "integer"})),
            None,
        ),
        (V1, "get_person_followers_v1") | (V1, "get_organization_followers_v1") => doc(
            "List followers",
            v1_paging(),
            None,
            200,
            list(r("FollowerV1")),
            Some(v1_pagination()),
        ),
        (V1, "add_person_follower_v1") | (V1, "add_organization_follower_v1") => doc(
            "Add a follower",
            vec![],
            Some(follower_body()),
            200,
            r("FollowerV1"),
            None,
        ),
        (V1, "delete_person_follower_v1") | (V1, "delete_organization_follower_v1") => doc(
            "Remove a follower (by relationship id)",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        (V1, "get_person_fields") => doc(
            "List person fields",
            v1_paging(),
            None,
            200,
            list(r("PersonFieldV1")),
            Some(v1_pagination()),
        ),
        (V1, "add_person_field") => doc(
            "Add a person field",
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
            r("PersonFieldV1"),
            None,
        ),
        (V1, "delete_person_fields") => doc(
            "Delete person fields in bulk",
            vec![ids_param(1000)],
            None,
            200,
            deleted_ids(),
            None,
        ),
        (V1, "get_person_field") => doc(
            "Get a person field",
            vec![],
            None,
            200,
            r("PersonFieldV1"),
            None,
        ),
        (V1, "update_person_field") => doc(
            "Update a person field (options replace the whole list)",
            vec![],
            Some(json!({"type": "object", "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 255},
                "options": list(json!({"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}})),
                "add_visible_flag": {"type": "boolean"},
            }})),
            200,
            r("PersonFieldV1"),
            None,
        ),
        (V1, "delete_person_field") => doc(
            "Delete a person field",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        (V1, "get_organizations") => doc(
            "List organizations",
            v1_list_filters(),
            None,
            200,
            list(r("OrganizationV1")),
            Some(v1_pagination()),
        ),
        (V1, "add_organization") => doc(
            "Add an organization",
            vec![],
            Some(org_body(true, true)),
            201,
            r("OrganizationV1"),
            None,
        ),
        (V1, "get_organization") => doc(
            "Get an organization",
            vec![],
            None,
            200,
            r("OrganizationV1"),
            None,
        ),
        (V1, "update_organization") => doc(
            "Update an organization",
            vec![],
            Some(org_body(true, false)),
            200,
            r("OrganizationV1"),
            None,
        ),
        (V1, "delete_organization") => doc(
            "Delete an organization",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        (V1, "get_organization_persons") => doc(
            "Persons of an organization",
            v1_paging(),
            None,
            200,
            list(r("PersonV1")),
            Some(v1_pagination()),
        ),
        (V1, "get_users") => doc("List users", vec![], None, 200, list(r("UserV1")), None),
        (V1, "get_current_user") => doc("The token's user", vec![], None, 200, r("UserV1"), None),
        (V1, "find_users_by_name") => doc(
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
        (V1, "get_user") => doc("Get a user", vec![], None, 200, r("UserV1"), None),

        (V2, "get_persons") => {
            let mut p = v2_list();
            p.push(q("org_id", id(), "Only persons of this organization"));
            doc(
                "List persons",
                p,
                None,
                200,
                list(r("PersonV2")),
                Some(v2_cursor()),
            )
        }
        (V2, "add_person") => doc(
            "Add a person",
            vec![],
            Some(v2_person_body(true)),
            200,
            r("PersonV2"),
            None,
        ),
        (V2, "search_persons") => doc(
            "Search persons",
            search_params(false, true),
            None,
            200,
            r("SearchResult"),
            Some(v2_cursor()),
        ),
        (V2, "get_person") => {
            let mut p = v2_render();
            p.push(q("include_labels", boolean(), "Add the labels' names"));
            doc("Get a person", p, None, 200, r("PersonV2"), None)
        }
        (V2, "update_person") => doc(
            "Update a person",
            vec![],
            Some(v2_person_body(false)),
            200,
            r("PersonV2"),
            None,
        ),
        (V2, "delete_person") => doc("Delete a person", vec![], None, 200, deleted_id(), None),
        (V2, "get_person_followers") | (V2, "get_organization_followers") => doc(
            "List followers",
            v2_paging(),
            None,
            200,
            list(r("FollowerV2")),
            Some(v2_cursor()),
        ),
        (V2, "add_person_follower") | (V2, "add_organization_follower") => doc(
            "Add a follower",
            vec![],
            Some(follower_body()),
            200,
            r("FollowerV2"),
            None,
        ),
        (V2, "get_person_followers_changelog") | (V2, "get_organization_followers_changelog") => {
            doc(
                "Followers added and removed",
                v2_paging(),
                None,
                200,
                list(r("FollowerChange")),
                Some(v2_cursor()),
            )
        }
        (V2, "delete_person_follower") | (V2, "delete_organization_follower") => doc(
            "Remove a follower (by user id)",
            vec![],
            None,
            200,
            json!({"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "integer"}}}),
            None,
        ),
        (V2, "get_person_fields") => {
            let mut p = v2_paging();
            p.push(q("include_fields", string(), "Extra field attributes"));
            doc(
                "List person fields",
                p,
                None,
                200,
                list(r("PersonFieldV2")),
                Some(v2_cursor()),
            )
        }
        (V2, "add_person_field") => doc(
            "Add a person field",
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
            r("PersonFieldV2"),
            None,
        ),
        (V2, "get_person_field") => doc(
            "Get a person field",
            vec![q("include_fields", string(), "Extra field attributes")],
            None,
            200,
            r("PersonFieldV2"),
            None,
        ),
        (V2, "update_person_field") => doc(
            "Rename a person field",
            vec![],
            Some(json!({"type": "object", "properties": {
                "field_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "ui_visibility": {"type": "object"},
            }})),
            200,
            r("PersonFieldV2"),
            None,
        ),
        (V2, "delete_person_field") => doc(
            "Delete a person field",
            vec![],
            None,
            200,
            r("PersonFieldV2"),
            None,
        ),
        (V2, "add_person_field_options") => doc(
            "Add options (all or none)",
            vec![],
            Some(options_body(false, true)),
            200,
            list(r("FieldOption")),
            None,
        ),
        (V2, "update_person_field_options") => doc(
            "Relabel options (all or none)",
            vec![],
            Some(options_body(true, true)),
            200,
            list(r("FieldOption")),
            None,
        ),
        (V2, "delete_person_field_options") => doc(
            "Delete options (all or none)",
            vec![],
            Some(options_body(true, false)),
            200,
            list(r("FieldOption")),
            None,
        ),
        (V2, "get_organizations") => doc(
            "List organizations",
            v2_list(),
            None,
            200,
            list(r("OrganizationV2")),
            Some(v2_cursor()),
        ),
        (V2, "add_organization") => doc(
            "Add an organization",
            vec![],
            Some(org_body(false, true)),
            200,
            r("OrganizationV2"),
            None,
        ),
        (V2, "search_organization") => doc(
            "Search organizations",
            search_params(false, false),
            None,
            200,
            r("SearchResult"),
            Some(v2_cursor()),
        ),
        (V2, "get_organization") => doc(
            "Get an organization",
            v2_render(),
            None,
            200,
            r("OrganizationV2"),
            None,
        ),
        (V2, "update_organization") => doc(
            "Update an organization",
            vec![],
            Some(org_body(false, false)),
            200,
            r("OrganizationV2"),
            None,
        ),
        (V2, "delete_organization") => doc(
            "Delete an organization",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        // A route without a description here still appears, with a generic answer; the
        // route/document test fails on it so that none ships undescribed.
        _ => doc("Undescribed", vec![], None, 200, json!({}), None),
    }
}

fn schemas() -> Value {
    let nullable_string = json!({"type": ["string", "null"]});
    let contact = json!({
        "type": "object",
        "required": ["value", "primary"],
        "properties": {"value": {"type": "string"}, "primary": {"type": "boolean"}, "label": {"type": "string"}},
    });
    json!({
        "Error": {
            "type": "object",
            "required": ["success", "error", "error_info", "data"],
            "properties": {
                "success": {"type": "boolean", "const": false},
                // An object (message, code, failed_fields) where v1 search misses its term.
                "error": {"type": ["string", "object"]},
                "errorCode": {"type": "integer"},
                "error_info": {"type": "string"},
                "data": {"type": "null"},
                "additional_data": {"type": "null"},
            },
        },
        "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
        "ContactInput": {
            "oneOf": [
                {"type": "string"},
                {"type": "object", "properties": {
                    "value": {"type": "string"},
                    "primary": {"type": "boolean"},
                    "label": {"type": "string"},
                }},
            ],
        },
        "Contact": contact,
        "ContactObject": {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "string"}, "primary": {"type": "boolean"}, "label": {"type": "string"}},
        },
        "PersonV1": {
            "type": "object",
            "required": ["id", "company_id", "owner_id", "org_id", "name", "active_flag", "phone", "email", "add_time", "update_time", "visible_to", "label_ids"],
            "properties": {
                "id": {"type": "integer"},
                "company_id": {"type": "integer"},
                "owner_id": {"type": ["integer", "object"]},
                // An object; the bare id when the user may not see the organization.
                "org_id": {"type": ["object", "integer", "null"]},
                "name": {"type": "string"},
                "first_name": nullable_string,
                "last_name": nullable_string,
                "followers_count": {"type": "integer"},
                "active_flag": {"type": "boolean"},
                "phone": list(r("Contact")),
                "email": list(r("Contact")),
                "primary_email": nullable_string,
                "first_char": nullable_string,
                "add_time": {"type": "string"},
                "update_time": {"type": "string"},
                "delete_time": nullable_string,
                "visible_to": {"type": "string"},
                "marketing_status": {"type": "string"},
                "picture_id": {"type": "null"},
                "label": {"type": ["integer", "null"]},
                "label_ids": list(json!({"type": "integer"})),
                "org_name": nullable_string,
                "owner_name": nullable_string,
                "cc_email": {"type": "string"},
            },
        },
        "PersonV2": {
            "type": "object",
            "required": ["id", "name", "owner_id", "org_id", "add_time", "update_time", "emails", "phones", "is_deleted", "visible_to", "label_ids", "custom_fields"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "first_name": nullable_string,
                "last_name": nullable_string,
                "owner_id": {"type": "integer"},
                "org_id": {"type": ["integer", "null"]},
                "add_time": {"type": "string"},
                "update_time": {"type": "string"},
                "emails": list(r("Contact")),
                "phones": list(r("Contact")),
                "is_deleted": {"type": "boolean"},
                "visible_to": {"type": "integer"},
                "label_ids": list(json!({"type": "integer"})),
                "picture_id": {"type": "null"},
                "custom_fields": {"type": "object"},
                "labels": list(json!({"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}})),
            },
        },
        "OrganizationV1": {
            "type": "object",
            "required": ["id", "company_id", "owner_id", "name", "people_count", "active_flag", "add_time", "update_time", "visible_to"],
            "properties": {
                "id": {"type": "integer"},
                "company_id": {"type": "integer"},
                "owner_id": {"type": ["integer", "object"]},
                "name": {"type": "string"},
                "people_count": {"type": "integer"},
                "followers_count": {"type": "integer"},
                "active_flag": {"type": "boolean"},
                "add_time": {"type": "string"},
                "update_time": {"type": "string"},
                "delete_time": nullable_string,
                "visible_to": {"type": "string"},
                "address": nullable_string,
                "label_ids": list(json!({"type": "integer"})),
            },
        },
        "OrganizationV2": {
            "type": "object",
            "required": ["id", "name", "owner_id", "add_time", "update_time", "is_deleted", "visible_to"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "owner_id": {"type": "integer"},
                "add_time": {"type": "string"},
                "update_time": {"type": "string"},
                "address": {"type": ["object", "null"]},
                "is_deleted": {"type": "boolean"},
                "visible_to": {"type": "integer"},
                "label_ids": list(json!({"type": "integer"})),
                "website": nullable_string,
                "linkedin": nullable_string,
                "industry": {"type": ["integer", "null"]},
                "annual_revenue": {"type": ["integer", "null"]},
                "employee_count": {"type": ["integer", "null"]},
                "custom_fields": {"type": "object"},
            },
        },
        "FieldOption": {
            "type": "object",
            "required": ["id", "label"],
            "properties": {"id": {"type": "integer"}, "label": {"type": "string"}},
        },
        "PersonFieldV1": {
            "type": "object",
            "required": ["id", "key", "name", "field_type"],
            "properties": {
                "id": {"type": "integer"},
                "key": {"type": "string"},
                "name": {"type": "string"},
                "field_type": {"type": "string"},
                "order_nr": {"type": "integer"},
                "active_flag": {"type": "boolean"},
                "edit_flag": {"type": "boolean"},
                "options": {"type": ["array", "null"], "items": r("FieldOption")},
            },
        },
        "PersonFieldV2": {
            "type": "object",
            "required": ["field_name", "field_code", "field_type", "is_custom_field"],
            "properties": {
                "field_name": {"type": "string"},
                "field_code": {"type": "string"},
                "field_type": {"type": "string"},
                "description": nullable_string,
                "options": {"type": ["array", "null"], "items": r("FieldOption")},
                "subfields": {"type": ["array", "null"]},
                "is_custom_field": {"type": "boolean"},
                "is_optional_response_field": {"type": "boolean"},
            },
        },
        "UserV1": {
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
        },
        "FollowerV1": {
            "type": "object",
            "required": ["user_id", "id", "add_time"],
            "properties": {
                "user_id": {"type": "integer"},
                "id": {"type": "integer"},
                "person_id": {"type": "integer"},
                "org_id": {"type": "integer"},
                "add_time": {"type": "string"},
            },
        },
        "FollowerV2": {
            "type": "object",
            "required": ["user_id", "add_time"],
            "properties": {"user_id": {"type": "integer"}, "add_time": {"type": "string"}},
        },
        "FollowerChange": {
            "type": "object",
            "required": ["action", "follower_user_id", "time"],
            "properties": {
                "action": {"type": "string", "enum": ["added", "removed"]},
                "actor_user_id": {"type": ["integer", "null"]},
                "follower_user_id": {"type": "integer"},
                "time": {"type": "string"},
            },
        },
        "SearchResult": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": list(json!({
                "type": "object",
                "required": ["result_score", "item"],
                "properties": {
                    "result_score": {"type": "number"},
                    "item": {
                        "type": "object",
                        "required": ["id", "type", "name"],
                        "properties": {"id": {"type": "integer"}, "type": {"type": "string"}, "name": {"type": "string"}},
                    },
                },
            }))},
        },
    })
}

/// Whether every route has its own description (for the route/document test).
pub fn undescribed() -> Vec<String> {
    routes::table()
        .iter()
        .filter(|e| describe(e).summary == "Undescribed")
        .map(|e| format!("{:?} {} {}", e.dialect, e.method, e.path))
        .collect()
}
