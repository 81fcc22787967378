//! A person's history: what each change did to each of its fields, as Pipedrive's
//! `GET /v1/persons/{id}/changelog` lists it (and the web app's person page shows it).
//!
//! Decided where Pipedrive documents no more than the shape: a change records every field it
//! changed, by the field's key (`name`, `first_name`, `last_name`, `owner_id`, `org_id`,
//! `email`, `phone`, `label_ids`, `visible_to`, `marketing_status`, `add_time`, and each custom
//! field's key), its value before and after as text (a list of emails or phones as its values
//! joined by `, `, labels as their ids joined by `,`, other JSON values as JSON), or `None`
//! where there was none (an empty text is none). The labels of emails and phones are not in
//! the text: changing only a label records nothing. Adding a person records nothing (its
//! `add_time` and creator say it); nor do changes a person gets from elsewhere (an
//! organization or an option deleted).

use serde_json::Value;

use super::{Contact, Person, find_person};
use crate::domain::ports::Store;
use crate::domain::webhook::ChangeSource;
use crate::domain::{DomainError, Session, Timestamp};

/// One field's value before and after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field_key: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A field change as kept: with who made it, when and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonChange {
    pub id: i64,
    pub change: FieldChange,
    pub actor_user_id: i64,
    pub time: Timestamp,
    pub source: ChangeSource,
}

/// A visible person's changes (deleted or not, as reading the person), newest first: at most
/// `limit`, older than the change `before` (where the last page ended) if given; and whether
/// there are more.
pub async fn changelog(
    store: &dyn Store,
    session: &Session,
    id: i64,
    before: Option<i64>,
    limit: usize,
) -> Result<(Vec<PersonChange>, bool), DomainError> {
    find_person(store, session, id).await?;
    let mut list = store
        .person_changes(session.company.id, id, before, limit + 1)
        .await?;
    let more = list.len() > limit;
    list.truncate(limit);
    Ok((list, more))
}

/// What changed from `before` to `after`, field by field, in a fixed order (the built-in
/// fields, then custom fields by key).
pub fn field_changes(before: &Person, after: &Person) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut put = |key: &str, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push(FieldChange {
                field_key: key.to_owned(),
                old_value: old,
                new_value: new,
            });
        }
    };
    put("name", Some(before.name.clone()), Some(after.name.clone()));
    put(
        "first_name",
        before.first_name.clone(),
        after.first_name.clone(),
    );
    put(
        "last_name",
        before.last_name.clone(),
        after.last_name.clone(),
    );
    put(
        "owner_id",
        Some(before.owner_id.to_string()),
        Some(after.owner_id.to_string()),
    );
    put(
        "org_id",
        before.org_id.map(|o| o.to_string()),
        after.org_id.map(|o| o.to_string()),
    );
    put("email", contacts(&before.emails), contacts(&after.emails));
    put("phone", contacts(&before.phones), contacts(&after.phones));
    put("label_ids", ids(&before.label_ids), ids(&after.label_ids));
    put(
        "visible_to",
        Some(before.visible_to.get().to_string()),
        Some(after.visible_to.get().to_string()),
    );
    put(
        "marketing_status",
        before.marketing_status.map(|m| m.as_str().to_owned()),
        after.marketing_status.map(|m| m.as_str().to_owned()),
    );
    put(
        "add_time",
        Some(before.add_time.v1()),
        Some(after.add_time.v1()),
    );
    let mut keys: Vec<&String> = before
        .custom_fields
        .keys()
        .chain(after.custom_fields.keys())
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        put(
            key,
            before.custom_fields.get(key).and_then(text),
            after.custom_fields.get(key).and_then(text),
        );
    }
    changes
}

/// A list of emails or phones as its values (primary first, as stored), `None` when empty.
fn contacts(list: &[Contact]) -> Option<String> {
    let values: Vec<&str> = list.iter().map(|c| c.value.as_str()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

fn ids(list: &[i64]) -> Option<String> {
    let ids: Vec<String> = list.iter().map(i64::to_string).collect();
    (!ids.is_empty()).then(|| ids.join(","))
}

/// A custom value as text: a string as itself, `null` and `""` as none, anything else as
/// JSON.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{MarketingStatus, Visibility};

    fn person() -> Person {
        Person {
            id: 1,
            company_id: 1,
            owner_id: 7,
            org_id: None,
            name: "Ann Lee".into(),
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            emails: vec![Contact {
                value: "ann@x.example".into(),
                primary: true,
                label: "work".into(),
            }],
            phones: Vec::new(),
            label_ids: vec![3],
            visible_to: Visibility::DEFAULT,
            marketing_status: None,
            marketing_changed: false,
            custom_fields: json!({"aaa": "x", "bbb": 5}).as_object().unwrap().clone(),
            active: true,
            add_time: Timestamp(0),
            update_time: Timestamp(0),
            delete_time: None,
            follower_ids: Vec::new(),
        }
    }

    fn change(key: &str, old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            field_key: key.into(),
            old_value: old.map(Into::into),
            new_value: new.map(Into::into),
        }
    }

    #[test]
    fn the_same_person_changed_nothing() {
        assert_eq!(field_changes(&person(), &person()), []);
    }

    #[test]
    fn every_changed_field_is_listed_once_with_its_values_as_text() {
        let before = person();
        let mut after = person();
        after.name = "Ann Berg".into();
        after.last_name = Some("Berg".into());
        after.org_id = Some(4);
        after.emails.push(Contact {
            value: "ann@y.example".into(),
            primary: false,
            label: "home".into(),
        });
        after.phones.push(Contact {
            value: "+372 5555".into(),
            primary: true,
            label: "work".into(),
        });
        after.label_ids = Vec::new();
        after.visible_to = Visibility::new(1).unwrap();
        after.marketing_status = Some(MarketingStatus::Subscribed);
        after.custom_fields.remove("aaa");
        after.custom_fields.insert("bbb".into(), json!(6.5));
        after.custom_fields.insert("ccc".into(), json!({"a": 1}));
        assert_eq!(
            field_changes(&before, &after),
            [
                change("name", Some("Ann Lee"), Some("Ann Berg")),
                change("last_name", Some("Lee"), Some("Berg")),
                change("org_id", None, Some("4")),
                change(
                    "email",
                    Some("ann@x.example"),
                    Some("ann@x.example, ann@y.example")
                ),
                change("phone", None, Some("+372 5555")),
                change("label_ids", Some("3"), None),
                change("visible_to", Some("3"), Some("1")),
                change("marketing_status", None, Some("subscribed")),
                change("aaa", Some("x"), None),
                change("bbb", Some("5"), Some("6.5")),
                change("ccc", None, Some("{\"a\":1}")),
            ]
        );
    }

    #[test]
    fn a_custom_value_set_to_null_is_no_value() {
        let before = person();
        let mut after = person();
        after.custom_fields.insert("aaa".into(), Value::Null);
        after.custom_fields.insert("zzz".into(), Value::Null);
        after.custom_fields.insert("yyy".into(), json!(""));
        assert_eq!(
            field_changes(&before, &after),
            [change("aaa", Some("x"), None)]
        );
    }
}
