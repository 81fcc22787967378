//! Person fields and the options of fields that have them (the person and organization labels
//! among them): columns, row mappers and statements.

use super::{Db, FromRow, Query, Row, first, insert_id, lock, sql, to_json, vanished};
use crate::domain::Timestamp;
use crate::domain::fields::{FieldDef, FieldOption, FieldType};
use crate::domain::organization::ORG_LABEL_KEY;
use crate::domain::ports::{Edit, FieldChanges, NewField, StoreError};

const FIELD_COLUMNS: &str = "id, key, name, field_type, is_custom, order_nr, add_visible_flag, \
    created_by_user_id, updated_by_user_id, add_time, update_time, settings";

impl FromRow for FieldDef {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(FieldDef {
            id: r.int(0)?,
            key: r.string(1)?,
            name: r.string(2)?,
            field_type: FieldType::from_name(r.text(3)?).unwrap_or(FieldType::Varchar),
            is_custom: r.flag(4)?,
            order_nr: r.int(5)?,
            add_visible_flag: r.flag(6)?,
            created_by_user_id: r.opt_int(7)?,
            updated_by_user_id: r.opt_int(8)?,
            add_time: r.time(9)?,
            update_time: r.time(10)?,
            options: Vec::new(),
            deleted_options: Vec::new(),
            settings: r.json(11)?,
        })
    }
}

/// An option and whether it is active.
struct OptionRow(FieldOption, bool);

impl FromRow for OptionRow {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(OptionRow(
            FieldOption {
                id: r.int(0)?,
                field_key: r.string(1)?,
                label: r.string(2)?,
                color: r.opt_string(3)?,
                add_time: r.time(4)?,
                update_time: r.time(5)?,
            },
            r.flag(6)?,
        ))
    }
}

/// Every option of every field of a company, deleted ones too, in their order.
async fn options(db: &impl Db, company_id: i64) -> Result<Vec<OptionRow>, StoreError> {
    db.rows(sql!(
        "SELECT id, field_key, label, color, add_time, update_time, active_flag \
         FROM field_options WHERE company_id = ? ORDER BY order_nr, id",
        company_id
    ))
    .await
}

/// Active fields of a company (or the one with id `only`), built-in first, with their options.
pub async fn load(
    db: &impl Db,
    company_id: i64,
    only: Option<i64>,
) -> Result<Vec<FieldDef>, StoreError> {
    let mut q = sql!(
        format!(
            "SELECT {FIELD_COLUMNS} FROM person_fields WHERE company_id = ? AND active_flag = TRUE"
        ),
        company_id
    );
    if let Some(id) = only {
        q.push_arg(" AND id = ?", id);
    }
    q.push(" ORDER BY is_custom, order_nr, id");
    let mut fields: Vec<FieldDef> = db.rows(q).await?;
    for OptionRow(option, active) in options(db, company_id).await? {
        if let Some(f) = fields.iter_mut().find(|f| f.key == option.field_key) {
            if active {
                f.options.push(option);
            } else {
                f.deleted_options.push(option);
            }
        }
    }
    Ok(fields)
}

/// One active field of the company.
pub async fn field(db: &impl Db, company_id: i64, id: i64) -> Result<Option<FieldDef>, StoreError> {
    Ok(load(db, company_id, Some(id)).await?.pop())
}

/// The active options of the organization label field.
pub async fn org_labels(db: &impl Db, company_id: i64) -> Result<Vec<FieldOption>, StoreError> {
    Ok(options(db, company_id)
        .await?
        .into_iter()
        .filter(|o| o.1 && o.0.field_key == ORG_LABEL_KEY)
        .map(|o| o.0)
        .collect())
}

/// A built-in field of a new company.
pub async fn insert_builtin(
    db: &impl Db,
    company_id: i64,
    key: &str,
    name: &str,
    field_type: FieldType,
    order: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql!(
        "INSERT INTO person_fields (company_id, key, name, field_type, is_custom, order_nr, \
         add_visible_flag, active_flag, add_time, update_time) \
         VALUES (?, ?, ?, ?, FALSE, ?, TRUE, TRUE, ?, ?)",
        company_id,
        key,
        name,
        field_type.as_str(),
        order,
        at,
        at
    ))
    .await?;
    Ok(())
}

/// A label of a new company (person or organization label field, by `key`).
pub async fn insert_label(
    db: &impl Db,
    company_id: i64,
    key: &str,
    label: &str,
    color: &str,
    order: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql!(
        "INSERT INTO field_options (company_id, field_key, label, color, order_nr, add_time, \
         update_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
        company_id,
        key,
        label,
        color,
        order,
        at,
        at
    ))
    .await?;
    Ok(())
}

/// Options appended to a field, after its last one.
async fn insert_options(
    db: &impl Db,
    company_id: i64,
    key: &str,
    labels: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    for label in labels {
        db.execute(sql!(
            "INSERT INTO field_options (company_id, field_key, label, order_nr, add_time, \
             update_time) VALUES (?, ?, ?, (SELECT COALESCE(MAX(order_nr), 0) + 1 \
             FROM field_options WHERE company_id = ? AND field_key = ?), ?, ?)",
            company_id,
            key,
            label,
            company_id,
            key,
            now,
            now
        ))
        .await?;
    }
    Ok(())
}

/// A custom field, after the company's last field.
pub async fn insert(db: &impl Db, f: &NewField) -> Result<FieldDef, StoreError> {
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO person_fields (company_id, key, name, field_type, is_custom, order_nr, \
             add_visible_flag, active_flag, created_by_user_id, updated_by_user_id, add_time, \
             update_time, settings) VALUES (?, ?, ?, ?, TRUE, (SELECT COALESCE(MAX(order_nr), 0) \
             + 1 FROM person_fields WHERE company_id = ?), ?, TRUE, ?, ?, ?, ?, ?)",
            f.company_id,
            &f.key,
            &f.name,
            f.field_type.as_str(),
            f.company_id,
            f.add_visible_flag,
            f.user_id,
            f.user_id,
            f.now,
            f.now,
            to_json(&f.settings)?
        ),
    )
    .await?;
    insert_options(db, f.company_id, &f.key, &f.options, f.now).await?;
    field(db, f.company_id, id)
        .await?
        .ok_or_else(|| vanished("field"))
}

/// Changes an active field as `edit` decides on it (locked, with its options as they are
/// then), all or nothing; `None` when there is no such field.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    id: i64,
    edit: Edit<FieldDef, FieldChanges>,
    user_id: i64,
    now: Timestamp,
) -> Result<Option<FieldDef>, StoreError> {
    let mut q = sql!(
        "SELECT f.id FROM person_fields f WHERE f.company_id = ? AND f.id = ? \
         AND f.active_flag = TRUE",
        company_id,
        id
    );
    lock::<D>(&mut q, "f");
    let locked: Option<i64> = first(db, q).await?;
    if locked.is_none() {
        return Ok(None);
    }
    let Some(current) = field(db, company_id, id).await? else {
        return Ok(None);
    };
    let ch = edit(&current).map_err(StoreError::refused)?;
    ch.check_options_exist(&current)?;
    let mut q = sql!(
        "UPDATE person_fields SET update_time = ?, updated_by_user_id = ?",
        now,
        user_id
    );
    if let Some(name) = &ch.name {
        q.push_arg(", name = ?", name);
    }
    if let Some(flag) = ch.add_visible_flag {
        q.push_arg(", add_visible_flag = ?", flag);
    }
    if let Some(settings) = &ch.settings {
        q.push_arg(", settings = ?", to_json(settings)?);
    }
    q.push_arg(" WHERE id = ?", id);
    db.execute(q).await?;
    for (option, label) in &ch.rename_options {
        db.execute(sql!(
            "UPDATE field_options SET label = ?, update_time = ? WHERE id = ?",
            label,
            now,
            *option
        ))
        .await?;
    }
    for option in &ch.delete_options {
        db.execute(sql!(
            "UPDATE field_options SET active_flag = FALSE, update_time = ? WHERE id = ?",
            now,
            *option
        ))
        .await?;
    }
    insert_options(db, company_id, &current.key, &ch.add_options, now).await?;
    field(db, company_id, id).await
}

/// Marks custom fields deleted; the ids deleted now.
pub async fn delete(
    db: &impl Db,
    company_id: i64,
    ids: &[i64],
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut deleted = Vec::new();
    for id in ids {
        let q: Query = sql!(
            "UPDATE person_fields SET active_flag = FALSE, update_time = ? WHERE company_id = ? \
             AND id = ? AND is_custom = TRUE AND active_flag = TRUE",
            now,
            company_id,
            *id
        );
        if db.execute(q).await? == 1 {
            deleted.push(*id);
        }
    }
    Ok(deleted)
}
