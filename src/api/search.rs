//! Person search parameters and result items: the same in v1 and v2 (only paging differs).

use serde_json::{Value, json};

use super::parse::QueryParams;
use crate::domain::Session;
use crate::domain::organization;
use crate::domain::search::{Hit, SearchFields, SearchQuery, check_term};
use crate::error::ApiError;
use crate::store::Store;

/// `term`, `fields`, `exact_match`, `organization_id` and `include_fields`.
pub fn query(q: &QueryParams) -> Result<SearchQuery, ApiError> {
    let exact_match = q.bool("exact_match")?;
    let term = check_term(q.str("term"), exact_match)?;
    let fields = SearchFields::parse(q.str("fields").unwrap_or(""))?;
    for f in q.list("include_fields") {
        if f != "person.picture" {
            return Err(ApiError::invalid(
                "include_fields",
                format!("{f:?} is not supported: use person.picture"),
            ));
        }
    }
    Ok(SearchQuery {
        term,
        fields,
        exact_match,
        org_id: q.id("organization_id")?,
    })
}

/// The items of one page: `{result_score, item{…}}`, with each person's organization.
pub async fn items(
    store: &dyn Store,
    session: &Session,
    hits: &[Hit],
    with_picture: bool,
) -> Result<Value, ApiError> {
    let orgs = organization::of_persons(store, session, hits.iter().map(|h| &h.person)).await?;
    let items = hits
        .iter()
        .map(|h| {
            let p = &h.person;
            let org = p.org_id.and_then(|id| orgs.get(&id));
            let mut item = json!({
                "id": p.id,
                "type": "person",
                "name": p.name,
                "phones": p.phones.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
                "emails": p.emails.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
                "visible_to": p.visible_to.get(),
                "owner": {"id": p.owner_id},
                // One the user may not see keeps its id only.
                "organization": match (p.org_id, org) {
                    (_, Some(o)) => json!({"id": o.id, "name": o.name, "address": o.address}),
                    (Some(id), None) => json!({"id": id, "name": null, "address": null}),
                    (None, None) => Value::Null,
                },
                "custom_fields": h.custom_matches,
                "notes": h.note_matches,
            });
            if with_picture {
                item["picture"] = Value::Null;
            }
            json!({"result_score": round(h.score), "item": item})
        })
        .collect();
    Ok(Value::Array(items))
}

fn round(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}

pub fn wants_picture(q: &QueryParams) -> bool {
    q.list("include_fields")
        .iter()
        .any(|f| f == "person.picture")
}
