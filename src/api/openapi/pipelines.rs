//! Pipelines and stages (v2): what their operations take and answer, and their schemas.

use serde_json::{Value, json};

use super::routes::Dialect;
use super::shared::{boolean, deleted_id, id, list, name, q, r, v2_cursor, v2_order, v2_paging};
use super::{Doc, doc};

/// The description of a pipeline or stage operation, if `operation` is one.
pub(super) fn describe(dialect: Dialect, operation: &str) -> Option<Doc> {
    if dialect != Dialect::V2 {
        return None;
    }
    Some(match operation {
        "get_pipelines" => doc(
            "List pipelines",
            [v2_paging(), v2_order()].concat(),
            None,
            200,
            list(r("Pipeline")),
            Some(v2_cursor()),
        ),
        "get_pipeline" => doc("Get a pipeline", vec![], None, 200, r("Pipeline"), None),
        "add_pipeline" => doc(
            "Add a pipeline",
            vec![],
            Some(pipeline_body(true)),
            200,
            r("Pipeline"),
            None,
        ),
        "update_pipeline" => doc(
            "Update a pipeline",
            vec![],
            Some(pipeline_body(false)),
            200,
            r("Pipeline"),
            None,
        ),
        "delete_pipeline" => doc(
            "Delete a pipeline and its stages",
            vec![],
            None,
            200,
            deleted_id(),
            None,
        ),
        "get_stages" => doc(
            "List stages",
            stage_list_params(),
            None,
            200,
            list(r("Stage")),
            Some(v2_cursor()),
        ),
        "get_stage" => doc("Get a stage", vec![], None, 200, r("Stage"), None),
        "add_stage" => doc(
            "Add a stage at the end of its pipeline",
            vec![],
            Some(stage_body(true)),
            200,
            r("Stage"),
            None,
        ),
        "update_stage" => doc(
            "Update a stage",
            vec![],
            Some(stage_body(false)),
            200,
            r("Stage"),
            None,
        ),
        "delete_stage" => doc("Delete a stage", vec![], None, 200, deleted_id(), None),
        _ => return None,
    })
}

fn stage_list_params() -> Vec<Value> {
    let mut p = v2_paging();
    p.push(q("pipeline_id", id(), "Only stages of this pipeline"));
    p.push(q(
        "sort_by",
        json!({"type": "string", "enum": ["id", "update_time", "add_time", "order_nr"]}),
        "Order",
    ));
    p.push(q(
        "sort_direction",
        json!({"type": "string", "enum": ["asc", "desc"]}),
        "Direction",
    ));
    p
}

fn pipeline_body(create: bool) -> Value {
    json!({
        "type": "object",
        "required": if create { json!(["name"]) } else { json!([]) },
        "properties": {
            "name": name(),
            "is_deal_probability_enabled": boolean(),
        },
    })
}

fn stage_body(create: bool) -> Value {
    json!({
        "type": "object",
        "required": if create { json!(["name", "pipeline_id"]) } else { json!([]) },
        "properties": {
            "name": name(),
            "pipeline_id": id(),
            "deal_probability": {"type": "integer", "minimum": 0, "maximum": 100},
            "is_deal_rot_enabled": boolean(),
            "days_to_rotten": {"type": ["integer", "null"], "minimum": 1},
        },
    })
}

pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let time = json!({"type": "string", "format": "date-time"});
    vec![
        (
            "Pipeline",
            json!({
                "type": "object",
                "required": ["id", "name", "order_nr", "is_deleted", "is_deal_probability_enabled", "add_time", "update_time"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "order_nr": {"type": "integer"},
                    "is_deleted": {"type": "boolean"},
                    "is_deal_probability_enabled": {"type": "boolean"},
                    "add_time": time,
                    "update_time": time,
                },
                "additionalProperties": false,
            }),
        ),
        (
            "Stage",
            json!({
                "type": "object",
                "required": ["id", "order_nr", "name", "is_deleted", "deal_probability", "pipeline_id", "is_deal_rot_enabled", "days_to_rotten", "add_time", "update_time"],
                "properties": {
                    "id": {"type": "integer"},
                    "order_nr": {"type": "integer"},
                    "name": {"type": "string"},
                    "is_deleted": {"type": "boolean"},
                    "deal_probability": {"type": "integer"},
                    "pipeline_id": {"type": "integer"},
                    "is_deal_rot_enabled": {"type": "boolean"},
                    "days_to_rotten": {"type": ["integer", "null"]},
                    "add_time": time,
                    "update_time": time,
                },
                "additionalProperties": false,
            }),
        ),
    ]
}
