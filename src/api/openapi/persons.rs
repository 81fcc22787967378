//! Persons in both dialects: what their operations take and answer, and the person and
//! contact schemas.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{
    boolean, deleted_id, deleted_ids, id, ids_param, list, merged, name, nullable_string, q, r,
    search_owner, search_params, search_result, v1_list_filters, v1_pagination, v2_cursor, v2_list,
    v2_paging, v2_render,
};
use super::{Doc, doc};

/// The description of a person operation, if `operation` is one in `dialect`.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    match dialect {
        Dialect::V1 => describe_v1(operation),
        Dialect::V2 => describe_v2(operation),
        Dialect::Service => None,
    }
}

/// A v1 person body: custom values come at the root, keyed by field key.
fn v1_person_body(create: bool) -> Value {
    let mut body = json!({
        "type": "object",
        "required": [],
        "properties": {
            "name": name(),
            "first_name": name_part(),
            "last_name": name_part(),
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
    });
    if create {
        name_or_its_parts(&mut body);
    }
    body
}

/// A v2 person body: custom values only under `custom_fields`, and no key beyond these.
fn v2_person_body(create: bool) -> Value {
    let mut body = json!({
        "type": "object",
        "required": [],
        "properties": {
            "name": name(),
            "first_name": name_part(),
            "last_name": name_part(),
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
    });
    if create {
        name_or_its_parts(&mut body);
    }
    body
}

/// A first or last name: `null` (what SDKs send for a key they leave unset) leaves the part to
/// the name's split on create, and clears it on update.
fn name_part() -> Value {
    json!({"type": ["string", "null"], "maxLength": 255})
}

/// A person is added with a `name`, or with a first or last name (or both) to build it from
/// (`resolve_name`), in both dialects.
fn name_or_its_parts(body: &mut Value) {
    body["anyOf"] = json!([
        {"required": ["name"]},
        {"required": ["first_name"]},
        {"required": ["last_name"]},
    ]);
    body["description"] = json!("`name`, or `first_name` and/or `last_name` to build it from");
}

/// The `/v1` and `/api/v1` person operations.
fn describe_v1(operation: &str) -> Option<Doc> {
    Some(match operation {
        "list_persons" => doc(
            "List persons",
            v1_list_filters(),
            None,
            200,
            list(r("PersonV1")),
            Some(v1_pagination()),
        ),
        "add_person" => doc(
            "Add a person",
            vec![],
            Some(v1_person_body(true)),
            201,
            r("PersonV1"),
            None,
        ),
        "delete_persons" => doc(
            "Delete persons in bulk",
            vec![ids_param(1000)],
            None,
            200,
            deleted_ids(),
            None,
        ),
        "search_persons_v1" => doc(
            "Search persons",
            search_params(true, true),
            None,
            200,
            r("PersonSearchResult"),
            Some(v1_pagination()),
        ),
        "get_person" => doc("Get a person", vec![], None, 200, r("PersonV1"), None),
        "update_person" => doc(
            "Update a person",
            vec![],
            Some(v1_person_body(false)),
            200,
            r("PersonV1"),
            None,
        ),
        "delete_person" => doc("Delete a person", vec![], None, 200, deleted_id(), None),
        "merge_persons" => doc(
            "Merge two persons",
            vec![],
            Some(
                json!({"type": "object", "required": ["merge_with_id"], "properties": {"merge_with_id": {"type": "integer"}}}),
            ),
            200,
            r("MergedPersonV1"),
            None,
        ),
        "get_person_users" => doc(
            "Users who may see a person",
            vec![],
            None,
            200,
            list(json!({"type": "integer"})),
            None,
        ),
        "get_person_changelog" => doc(
            "List updates about person field values (newest first)",
            v2_paging(),
            None,
            200,
            list(r("PersonFieldChange")),
            Some(v2_cursor()),
        ),
        _ => return None,
    })
}

/// The `/api/v2` person operations.
fn describe_v2(operation: &str) -> Option<Doc> {
    Some(match operation {
        "get_persons" => {
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
        "add_person" => doc(
            "Add a person",
            vec![],
            Some(v2_person_body(true)),
            200,
            r("PersonV2"),
            None,
        ),
        "search_persons" => doc(
            "Search persons",
            search_params(false, true),
            None,
            200,
            r("PersonSearchResult"),
            Some(v2_cursor()),
        ),
        "get_person" => {
            let mut p = v2_render();
            p.push(q("include_labels", boolean(), "Add the labels' names"));
            doc("Get a person", p, None, 200, r("PersonV2"), None)
        }
        "update_person" => doc(
            "Update a person",
            vec![],
            Some(v2_person_body(false)),
            200,
            r("PersonV2"),
            None,
        ),
        "delete_person" => doc("Delete a person", vec![], None, 200, deleted_id(), None),
        _ => return None,
    })
}

/// The component schemas of persons: contacts as sent and as answered, and a person in each
/// dialect.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("ContactInput", contact_input()),
        ("Contact", contact()),
        ("ContactObject", contact_object()),
        ("PersonV1", person_v1()),
        ("MergedPersonV1", merged_person_v1()),
        ("PersonV2", person_v2()),
        ("PersonSearchResult", search_result(person_search_item())),
        ("PersonFieldChange", field_change()),
    ]
}

/// One field's change, as `GET /v1/persons/{id}/changelog` lists it.
fn field_change() -> Value {
    let text = json!({"type": ["string", "null"]});
    json!({
        "type": "object",
        "required": ["field_key", "old_value", "new_value", "actor_user_id", "time",
            "change_source", "change_source_user_agent", "is_bulk_update_flag"],
        "properties": {
            "field_key": {"type": "string"},
            "old_value": text,
            "new_value": text,
            "actor_user_id": {"type": "integer"},
            "time": {"type": "string"},
            "change_source": {"type": "string", "enum": ["api", "app"]},
            "change_source_user_agent": text,
            "is_bulk_update_flag": {"type": "boolean"},
        },
    })
}

/// An email or phone as v1 takes it: a bare value or an object.
fn contact_input() -> Value {
    json!({
        "oneOf": [
            {"type": "string"},
            {"type": "object", "properties": {
                "value": {"type": "string"},
                "primary": {"type": "boolean"},
                "label": {"type": "string"},
            }},
        ],
    })
}

/// An email or phone as both dialects answer it.
fn contact() -> Value {
    json!({
        "type": "object",
        "required": ["value", "primary"],
        "properties": {"value": {"type": "string"}, "primary": {"type": "boolean"}, "label": {"type": "string"}},
    })
}

/// An email or phone as v2 takes it.
fn contact_object() -> Value {
    json!({
        "type": "object",
        "required": ["value"],
        "properties": {"value": {"type": "string"}, "primary": {"type": "boolean"}, "label": {"type": "string"}},
    })
}

/// A person as v1 answers it, key for key as the v1 renderer writes it (the seed's 47 keys and
/// `delete_time`), with the company's custom values at the root.
fn person_v1() -> Value {
    json!({
        "type": "object",
        "required": ["id", "company_id", "owner_id", "org_id", "name", "active_flag", "phone", "email", "add_time", "update_time", "visible_to", "label_ids"],
        "properties": person_v1_properties(),
        "patternProperties": custom_keys_at_root(),
    })
}

/// A person as the v1 merge answers it (Pipedrive's `MergePersonItem`): a v1 person with the
/// bare owner and organization ids, and the id of the person merged away.
fn merged_person_v1() -> Value {
    let mut properties = person_v1_properties();
    properties["owner_id"] = json!({"type": "integer"});
    properties["org_id"] = json!({"type": ["integer", "null"]});
    properties["merge_what_id"] = json!({"type": "integer"});
    json!({
        "type": "object",
        "required": ["id", "company_id", "owner_id", "org_id", "name", "active_flag", "phone", "email", "add_time", "update_time", "visible_to", "label_ids", "merge_what_id"],
        "properties": properties,
        "patternProperties": custom_keys_at_root(),
    })
}

/// The keys of a v1 person, in the renderer's order. The counts of deals, activities, mail and
/// files are 0 and the activity and mail keys `null`: pipestack stores none of those yet.
fn person_v1_properties() -> Value {
    let count = json!({"type": "integer"});
    let identity = json!({
        "id": {"type": "integer"},
        "company_id": {"type": "integer"},
        "owner_id": {"type": ["integer", "object"]},
        // An object; the bare id when the user may not see the organization.
        "org_id": {"type": ["object", "integer", "null"]},
        "name": {"type": "string"},
        "first_name": nullable_string(),
        "last_name": nullable_string(),
    });
    let counts = json!({
        "open_deals_count": count,
        "related_open_deals_count": count,
        "closed_deals_count": count,
        "related_closed_deals_count": count,
        "participant_open_deals_count": count,
        "participant_closed_deals_count": count,
        "email_messages_count": count,
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
        "reference_activities_count": count,
    });
    let contacts_and_times = json!({
        "active_flag": {"type": "boolean"},
        "phone": list(r("Contact")),
        "email": list(r("Contact")),
        "primary_email": nullable_string(),
        "first_char": nullable_string(),
        "update_time": {"type": "string"},
        "add_time": {"type": "string"},
        "delete_time": nullable_string(),
        "visible_to": {"type": "string"},
        "marketing_status": {
            "type": "string",
            "enum": ["no_consent", "unsubscribed", "subscribed", "archived"],
            "description": "Only where the company has Campaigns",
        },
        "picture_id": {"type": "null"},
    });
    let activity_and_labels = json!({
        "next_activity_date": nullable_string(),
        "next_activity_time": nullable_string(),
        "next_activity_id": {"type": ["integer", "null"]},
        "last_activity_id": {"type": ["integer", "null"]},
        "last_activity_date": nullable_string(),
        "last_incoming_mail_time": nullable_string(),
        "last_outgoing_mail_time": nullable_string(),
        "label": {"type": ["integer", "null"]},
        "label_ids": list(json!({"type": "integer"})),
        "org_name": nullable_string(),
        "owner_name": nullable_string(),
        "cc_email": {"type": "string"},
    });
    merged([identity, counts, contacts_and_times, activity_and_labels])
}

/// v1 writes each custom value at the person's root under its field's key (40 hex digits),
/// `null` when empty, with `_currency`, `_until` and address-part siblings.
fn custom_keys_at_root() -> Value {
    json!({"^[0-9a-f]{40}(_[a-z0-9_]+)?$": {"description": "A custom field's value (or one of its parts)"}})
}

/// A person as v2 answers it. The keys after `custom_fields` come only when asked for:
/// `include_fields` names them (add and update answer with `marketing_status`), `labels` comes
/// with `include_labels`.
fn person_v2() -> Value {
    let always = json!({
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "first_name": nullable_string(),
        "last_name": nullable_string(),
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
    });
    let labels = json!({
        "labels": list(json!({"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}})),
    });
    json!({
        "type": "object",
        "required": ["id", "name", "owner_id", "org_id", "add_time", "update_time", "emails", "phones", "is_deleted", "visible_to", "label_ids", "custom_fields"],
        "properties": merged([always, person_v2_includable(), labels]),
    })
}

/// What v2's `include_fields` may add to a person, in the renderer's list order. The deal
/// counts are live; those of activities, mail and files are 0 and the activity and mail keys
/// `null`: pipestack stores none of those yet.
fn person_v2_includable() -> Value {
    let count = json!({"type": "integer"});
    let counts = json!({
        "open_deals_count": count,
        "related_open_deals_count": count,
        "closed_deals_count": count,
        "related_closed_deals_count": count,
        "participant_open_deals_count": count,
        "participant_closed_deals_count": count,
        "email_messages_count": count,
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
    let activity = json!({
        "next_activity_id": {"type": ["integer", "null"]},
        "last_activity_id": {"type": ["integer", "null"]},
    });
    let mail_and_marketing = json!({
        "last_incoming_mail_time": nullable_string(),
        "last_outgoing_mail_time": nullable_string(),
        "marketing_status": {
            "type": "string",
            "enum": ["no_consent", "unsubscribed", "subscribed", "archived"],
            "description": "Only where the company has Campaigns",
        },
        "doi_status": {
            "type": ["string", "null"],
            "description": "Only where the company has Campaigns",
        },
        "smart_bcc_email": {"type": "string"},
    });
    merged([activity, counts, mail_and_marketing])
}

/// A person as a search finds it (the same in both dialects): its contacts' values, its owner
/// and organization by id (an organization the user may not see keeps its id only), and the
/// custom values that matched.
pub(super) fn person_search_item() -> Value {
    let organization = json!({
        "type": ["object", "null"],
        "properties": {"id": {"type": "integer"}, "name": nullable_string(), "address": nullable_string()},
    });
    json!({
        "type": "object",
        "required": ["id", "type", "name"],
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "const": "person"},
            "name": {"type": "string"},
            "phones": list(json!({"type": "string"})),
            "emails": list(json!({"type": "string"})),
            "visible_to": {"type": "integer"},
            "owner": search_owner(),
            "organization": organization,
            "custom_fields": list(json!({"type": "string"})),
            "notes": {"type": "array"},
            "picture": {"type": "null", "description": "Only with include_fields=person.picture"},
        },
    })
}
