//! Managing fields of every kind: adding, renaming, changing options, deleting. Both
//! dialects' personFields and organizationFields endpoints call these.

use std::sync::Arc;

use super::error::DomainError;
use super::fields::{FieldDef, FieldSettings, FieldType, Fields, LABEL_KEY, MAX_DESCRIPTION};
use super::person::MAX_TEXT;
use super::ports::{Edit, FieldChanges, NewField, Store, StoreError};
use super::{Kind, Session, random_hex40, values};
use crate::domain::webhook::Stamp;

pub fn field_not_found() -> DomainError {
    DomainError::NotFound("Field not found".into())
}

fn check_label(field: &str, label: &str) -> Result<String, DomainError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(DomainError::invalid(
            field,
            "an option label must not be empty",
        ));
    }
    values::max_chars(field, label, MAX_TEXT)?;
    Ok(label.to_owned())
}

fn check_name(field: &str, name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    values::max_chars(field, name, MAX_TEXT)?;
    Ok(name.to_owned())
}

/// A new field as a dialect read it from a request.
pub struct FieldDraft<'a> {
    pub name: Option<&'a str>,
    pub field_type: Option<&'a str>,
    pub options: Vec<String>,
    pub add_visible_flag: bool,
    pub settings: FieldSettings,
}

/// Adds a custom field with a fresh 40-hex key. `v1` allows the `visible_to` type.
pub async fn add_field(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    draft: FieldDraft<'_>,
    v1: bool,
) -> Result<FieldDef, DomainError> {
    session.require_admin()?;
    let FieldDraft {
        name,
        field_type,
        options,
        add_visible_flag,
        settings,
    } = draft;
    check_settings(&settings)?;
    let (name_key, type_key) = if v1 {
        ("name", "field_type")
    } else {
        ("field_name", "field_type")
    };
    let name = check_name(
        name_key,
        name.ok_or_else(|| DomainError::Required(name_key.into()))?,
    )?;
    let raw_type = field_type.ok_or_else(|| DomainError::Required(type_key.into()))?;
    let field_type = FieldType::from_name(raw_type)
        .filter(|t| t.creatable(v1))
        .ok_or_else(|| {
            DomainError::invalid(
                type_key,
                format!("{raw_type:?} is not a type a field can be created with"),
            )
        })?;
    let with_options = matches!(field_type, FieldType::Enum | FieldType::Set);
    if with_options && options.is_empty() {
        return Err(DomainError::invalid(
            "options",
            "enum and set fields need at least one option",
        ));
    }
    if !with_options && !options.is_empty() {
        return Err(DomainError::invalid(
            "options",
            "only enum and set fields have options",
        ));
    }
    values::max_items("options", options.len(), values::MAX_OPTIONS)?;
    let options = options
        .iter()
        .map(|l| check_label("options", l))
        .collect::<Result<Vec<_>, _>>()?;
    let mut attempts = 0;
    loop {
        let field = NewField {
            company_id: session.company.id,
            kind,
            key: random_hex40()?,
            name: name.clone(),
            field_type,
            add_visible_flag,
            settings: settings.clone(),
            options: options.clone(),
            user_id: session.user.id,
            now: session.now(),
            source: session.source,
        };
        match store.insert_field(field).await {
            // A key collision (2^-160) is retried with a new key.
            Err(StoreError::Conflict(_)) if attempts < 3 => attempts += 1,
            other => return Ok(other?),
        }
    }
}

/// An active field by v1 id.
pub async fn field_by_id(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    id: i64,
) -> Result<FieldDef, DomainError> {
    shown_fields(store, session, kind)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(field_not_found)
}

/// The company's fields of a kind as its users see them: a person's `marketing_status` is a
/// field only where Campaigns is on.
pub async fn shown_fields(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
) -> Result<Vec<FieldDef>, DomainError> {
    Ok(Fields::load(store, kind, session.company.id)
        .await?
        .defs
        .iter()
        .filter(|f| f.key != "marketing_status" || session.company.campaigns_enabled)
        .cloned()
        .collect())
}

/// A description of at most 65,535 characters.
fn check_settings(s: &FieldSettings) -> Result<(), DomainError> {
    if let Some(d) = &s.description {
        values::max_chars("description", d, MAX_DESCRIPTION)?;
    }
    Ok(())
}

/// An active field by v2 field code.
pub async fn field_by_code(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    code: &str,
) -> Result<FieldDef, DomainError> {
    shown_fields(store, session, kind)
        .await?
        .into_iter()
        .find(|f| f.field_code() == code || f.key == code)
        .ok_or_else(field_not_found)
}

/// An option as a client lists it when replacing a field's options (v1 `PUT`): existing ones
/// with their id, new ones with a label only.
#[derive(Debug, Clone)]
pub struct OptionInput {
    pub id: Option<i64>,
    pub label: Option<String>,
}

/// Changes a field: its name, its add-visible flag, and (v1) its whole option list: listed
/// ids are kept (and relabelled), options left out are deleted, options without an id are
/// added. Built-in fields keep their names; only the label field's options can change.
pub async fn update_field(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    field: &FieldDef,
    update: FieldUpdate,
) -> Result<FieldDef, DomainError> {
    session.require_admin()?;
    change(store, session, kind, field, move |current| {
        plan_update(current, &update)
    })
    .await
}

/// What a client asked to change on a field (v1 `PUT`, v2 `PATCH`).
#[derive(Debug, Clone, Default)]
pub struct FieldUpdate {
    pub name: Option<String>,
    pub add_visible_flag: Option<bool>,
    pub settings: Option<FieldSettings>,
    /// v1's whole option list.
    pub options: Option<Vec<OptionInput>>,
}

/// The changes `update` makes to `field` as it is.
fn plan_update(field: &FieldDef, update: &FieldUpdate) -> Result<FieldChanges, DomainError> {
    if let Some(s) = &update.settings {
        check_settings(s)?;
    }
    let mut changes = FieldChanges {
        add_visible_flag: update.add_visible_flag,
        settings: update.settings.clone(),
        ..FieldChanges::default()
    };
    if let Some(name) = &update.name {
        let name = check_name("name", name)?;
        if !field.is_custom && name != field.name {
            return Err(DomainError::invalid(
                "name",
                "built-in fields cannot be renamed",
            ));
        }
        changes.name = Some(name);
    }
    if let Some(options) = &update.options {
        plan_option_list(field, options, &mut changes)?;
    }
    Ok(changes)
}

/// v1's whole option list as adds, relabels and deletes against the field's options.
fn plan_option_list(
    field: &FieldDef,
    options: &[OptionInput],
    changes: &mut FieldChanges,
) -> Result<(), DomainError> {
    check_options_allowed(field)?;
    for o in options {
        match (o.id, &o.label) {
            (Some(id), label) => {
                if !field.options.iter().any(|x| x.id == id) {
                    return Err(DomainError::invalid(
                        "options",
                        format!("{id} is not an option of this field"),
                    ));
                }
                if let Some(l) = label {
                    changes
                        .rename_options
                        .push((id, check_label("options", l)?));
                }
            }
            (None, Some(l)) => changes.add_options.push(check_label("options", l)?),
            (None, None) => {
                return Err(DomainError::invalid(
                    "options",
                    "each option needs an id or a label",
                ));
            }
        }
    }
    changes.delete_options = field
        .options
        .iter()
        .filter(|x| !options.iter().any(|o| o.id == Some(x.id)))
        .map(|x| x.id)
        .collect();
    if field.field_type != FieldType::Set
        && field.key != LABEL_KEY
        && changes.add_options.is_empty()
        && changes.delete_options.len() == field.options.len()
    {
        return Err(DomainError::invalid(
            "options",
            "an enum field needs at least one option",
        ));
    }
    Ok(())
}

fn check_options_allowed(field: &FieldDef) -> Result<(), DomainError> {
    if field.has_options() || field.key == LABEL_KEY {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "options",
            "only enum and set fields have options",
        ))
    }
}

/// v2's atomic option operations: add labels, relabel ids, or delete ids; all or nothing.
pub async fn change_options(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    field: &FieldDef,
    asked: FieldChanges,
) -> Result<FieldDef, DomainError> {
    session.require_admin()?;
    change(store, session, kind, field, move |current| {
        plan_options(current, asked.clone())
    })
    .await
}

/// v2's option operations checked against `field` as it is.
fn plan_options(field: &FieldDef, asked: FieldChanges) -> Result<FieldChanges, DomainError> {
    check_options_allowed(field)?;
    let mut changes = asked;
    for l in &mut changes.add_options {
        *l = check_label("label", l)?;
    }
    for (id, l) in &mut changes.rename_options {
        if !field.options.iter().any(|x| x.id == *id) {
            return Err(DomainError::invalid(
                "id",
                format!("{id} is not an option of this field"),
            ));
        }
        *l = check_label("label", l)?;
    }
    if let Some(id) = changes
        .delete_options
        .iter()
        .find(|id| !field.options.iter().any(|x| x.id == **id))
    {
        return Err(DomainError::invalid(
            "id",
            format!("{id} is not an option of this field"),
        ));
    }
    Ok(changes)
}

/// Applies what `plan` decides on a field: once on `field` as read (a bad request is refused
/// before any write), then inside the write's transaction on the field as it is there, so that
/// two replacements of its option list apply one after the other instead of mixing.
async fn change(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    field: &FieldDef,
    plan: impl Fn(&FieldDef) -> Result<FieldChanges, DomainError> + Send + Sync + 'static,
) -> Result<FieldDef, DomainError> {
    within_option_limit(field, &plan(field)?)?;
    let edit: Edit<FieldDef, FieldChanges> = Arc::new(move |current| {
        let changes = plan(current)?;
        within_option_limit(current, &changes)?;
        Ok(changes)
    });
    store
        .update_field(session.company.id, kind, field.id, edit, Stamp::by(session))
        .await?
        .ok_or_else(field_not_found)
}

/// A field keeps at most [`values::MAX_OPTIONS`] options.
fn within_option_limit(field: &FieldDef, changes: &FieldChanges) -> Result<(), DomainError> {
    let deleted = field
        .options
        .iter()
        .filter(|o| changes.delete_options.contains(&o.id))
        .count();
    let after = field.options.len() + changes.add_options.len() - deleted;
    values::max_items("options", after, values::MAX_OPTIONS)
}

/// Deletes custom fields: their values leave every item at once and their keys are never
/// reused. Built-in fields cannot be deleted.
pub async fn delete_fields(
    store: &dyn Store,
    session: &Session,
    kind: Kind,
    ids: &[i64],
) -> Result<Vec<i64>, DomainError> {
    session.require_admin()?;
    let fields = Fields::load(store, kind, session.company.id).await?;
    if let Some(f) = fields
        .defs
        .iter()
        .find(|f| !f.is_custom && ids.contains(&f.id))
    {
        return Err(DomainError::invalid(
            "id",
            format!("{} is a built-in field and cannot be deleted", f.key),
        ));
    }
    Ok(store
        .delete_fields(session.company.id, kind, ids, Stamp::by(session))
        .await?)
}
