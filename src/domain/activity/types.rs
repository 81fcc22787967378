//! Activity types (`/v1/activityTypes`): every company starts with Pipedrive's six (call,
//! meeting, task, deadline, email, lunch); admins add, rename, reorder and delete them. An
//! activity's `type` is an active type's `key_string`, made from the name when the type is
//! added and never changed after.

use crate::domain::error::DomainError;
use crate::domain::person::MAX_TEXT;
use crate::domain::ports::Store;
use crate::domain::webhook::Stamp;
use crate::domain::{Session, Timestamp, values};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivityType {
    pub id: i64,
    pub company_id: i64,
    pub order_nr: i64,
    pub name: String,
    pub key_string: String,
    pub icon_key: String,
    /// Six hex digits, no `#`.
    pub color: Option<String>,
    pub is_custom: bool,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
}

/// The types every new company starts with: `(name, key_string)`; each type's icon is its key.
pub const DEFAULTS: [(&str, &str); 6] = [
    ("Call", "call"),
    ("Meeting", "meeting"),
    ("Task", "task"),
    ("Deadline", "deadline"),
    ("Email", "email"),
    ("Lunch", "lunch"),
];

/// The icons a type may have (Pipedrive's list).
pub const ICON_KEYS: [&str; 40] = [
    "task",
    "email",
    "meeting",
    "deadline",
    "call",
    "lunch",
    "calendar",
    "downarrow",
    "document",
    "smartphone",
    "camera",
    "scissors",
    "cogs",
    "bubble",
    "uparrow",
    "checkbox",
    "signpost",
    "shuffle",
    "addressbook",
    "linegraph",
    "picture",
    "car",
    "world",
    "search",
    "clip",
    "sound",
    "brush",
    "key",
    "padlock",
    "pricetag",
    "suitcase",
    "finish",
    "plane",
    "loop",
    "wifi",
    "truck",
    "cart",
    "bulb",
    "bell",
    "presentation",
];

/// The active type with this `key_string`, or a 400 naming `type`.
pub fn active_type<'a>(
    types: &'a [ActivityType],
    key: &str,
) -> Result<&'a ActivityType, DomainError> {
    types
        .iter()
        .find(|t| t.active && t.key_string == key)
        .ok_or_else(|| {
            let keys: Vec<&str> = types
                .iter()
                .filter(|t| t.active)
                .map(|t| t.key_string.as_str())
                .collect();
            DomainError::invalid(
                "type",
                format!(
                    "{key:?} is not an active activity type's key_string (one of {})",
                    keys.join(", ")
                ),
            )
        })
}

/// The highest `order_nr` a type may be given (a type added after it still has one).
pub const MAX_ORDER_NR: i64 = 1_000_000;

/// The first active type by order: what an activity without a `type` is.
pub fn default_type(types: &[ActivityType]) -> Result<&ActivityType, DomainError> {
    types
        .iter()
        .filter(|t| t.active)
        .min_by_key(|t| (t.order_nr, t.id))
        .ok_or_else(|| DomainError::invalid("type", "the company has no active activity type"))
}

/// A `key_string` from a name: lower-case letters and digits, other runs as one `_`
/// ("Video call" → `video_call`); `custom` when nothing is left.
pub fn key_of(name: &str) -> String {
    let mut key = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    let key = key.trim_end_matches('_').to_owned();
    if key.is_empty() { "custom".into() } else { key }
}

/// A type to add: its key is made unique inside the write (`_2`, `_3`, … after the first).
#[derive(Debug, Clone)]
pub struct NewActivityType {
    pub company_id: i64,
    pub name: String,
    pub key_base: String,
    pub icon_key: String,
    pub color: Option<String>,
    pub now: Timestamp,
    /// Who adds it (0: pipestack itself, for a new company).
    pub user_id: i64,
}

/// What a client asked to set on a type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeDraft {
    pub name: Option<String>,
    pub icon_key: Option<String>,
    pub color: Option<Option<String>>,
    pub order_nr: Option<i64>,
}

fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    values::max_chars("name", name, MAX_TEXT)?;
    Ok(name.to_owned())
}

fn check_icon(icon: &str) -> Result<String, DomainError> {
    if ICON_KEYS.contains(&icon) {
        Ok(icon.to_owned())
    } else {
        Err(DomainError::invalid(
            "icon_key",
            format!("{icon:?} is not an icon (one of {})", ICON_KEYS.join(", ")),
        ))
    }
}

fn check_color(color: Option<String>) -> Result<Option<String>, DomainError> {
    match color {
        Some(c) if !c.is_empty() => {
            let c = c.trim_start_matches('#').to_ascii_uppercase();
            if c.len() == 6 && c.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(Some(c))
            } else {
                Err(DomainError::invalid(
                    "color",
                    "must be six hexadecimal digits, such as FFFFFF",
                ))
            }
        }
        _ => Ok(None),
    }
}

fn admin_only(session: &Session) -> Result<(), DomainError> {
    if session.user.is_admin {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "Only admins can change activity types".into(),
        ))
    }
}

pub fn type_not_found() -> DomainError {
    DomainError::NotFound("Activity type not found".into())
}

/// The company's types, deleted ones too, by order.
pub async fn list_types(
    store: &dyn Store,
    session: &Session,
) -> Result<Vec<ActivityType>, DomainError> {
    Ok(store.activity_types(session.company.id).await?)
}

/// Adds a type after the company's last: an admin's.
pub async fn add_type(
    store: &dyn Store,
    session: &Session,
    draft: TypeDraft,
) -> Result<ActivityType, DomainError> {
    admin_only(session)?;
    let name = check_name(
        &draft
            .name
            .ok_or_else(|| DomainError::Required("name".into()))?,
    )?;
    let icon_key = check_icon(
        &draft
            .icon_key
            .ok_or_else(|| DomainError::Required("icon_key".into()))?,
    )?;
    if draft.order_nr.is_some() {
        return Err(DomainError::invalid(
            "order_nr",
            "is set when a type is changed, not when it is added",
        ));
    }
    let new = NewActivityType {
        company_id: session.company.id,
        key_base: key_of(&name),
        name,
        icon_key,
        color: check_color(draft.color.flatten())?,
        now: session.now(),
        user_id: session.user.id,
    };
    Ok(store.insert_activity_type(new).await?)
}

/// Changes a type's name, icon, color or order (its `key_string` never changes).
pub async fn update_type(
    store: &dyn Store,
    session: &Session,
    id: i64,
    draft: TypeDraft,
) -> Result<ActivityType, DomainError> {
    admin_only(session)?;
    let checked = TypeDraft {
        name: draft.name.as_deref().map(check_name).transpose()?,
        icon_key: draft.icon_key.as_deref().map(check_icon).transpose()?,
        color: draft.color.map(check_color).transpose()?,
        order_nr: match draft.order_nr {
            Some(n) if !(0..=MAX_ORDER_NR).contains(&n) => {
                return Err(DomainError::invalid(
                    "order_nr",
                    format!("must be between 0 and {MAX_ORDER_NR}"),
                ));
            }
            n => n,
        },
    };
    store
        .update_activity_type(session.company.id, id, checked, Stamp::by(session))
        .await?
        .ok_or_else(type_not_found)
}

/// Marks a type deleted: activities of it keep it, new ones cannot have it.
pub async fn delete_type(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<ActivityType, DomainError> {
    admin_only(session)?;
    store
        .delete_activity_type(session.company.id, id, Stamp::by(session))
        .await?
        .ok_or_else(type_not_found)
}

#[cfg(test)]
mod tests {
    use super::key_of;

    #[test]
    fn keys_are_made_from_names() {
        assert_eq!(key_of("Video call"), "video_call");
        assert_eq!(key_of("  Follow-up / email "), "follow_up_email");
        assert_eq!(key_of("Démo"), "démo");
        assert_eq!(key_of("!!!"), "custom");
    }
}
