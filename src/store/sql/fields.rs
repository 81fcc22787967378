//! Fields of every kind and the options of fields that have them (the labels among them):
//! columns, row mappers and statements. Each kind's fields have a table of their own (ids and
//! keys are per kind); options of all kinds share one, marked with their kind.

use super::{Db, FromRow, Query, Row, first, insert_id, lock, sql, to_json, vanished};
use crate::domain::fields::{FieldDef, FieldOption, FieldType, LABEL_KEY, builtin_fields};
use crate::domain::ports::{BuiltinField, Edit, FieldChanges, NewField, StoreError};
use crate::domain::{Kind, Timestamp};

/// The table of a kind's fields.
const fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "person_fields",
        Kind::Organization => "organization_fields",
        Kind::Deal => "deal_fields",
    }
}

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

/// Every option of every field of a kind of a company, deleted ones too, in their order.
async fn options(db: &impl Db, company_id: i64, kind: Kind) -> Result<Vec<OptionRow>, StoreError> {
    db.rows(sql!(
        "SELECT id, field_key, label, color, add_time, update_time, active_flag \
         FROM field_options WHERE company_id = ? AND entity = ? ORDER BY order_nr, id",
        company_id,
        kind.as_str()
    ))
    .await
}

/// Active fields of a kind of a company (or the one with id `only`), built-in first, with
/// their options.
pub async fn load(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    only: Option<i64>,
) -> Result<Vec<FieldDef>, StoreError> {
    let mut q = sql!(
        format!(
            "SELECT {FIELD_COLUMNS} FROM {} WHERE company_id = ? AND active_flag = TRUE",
            table(kind)
        ),
        company_id
    );
    if let Some(id) = only {
        q.push_arg(" AND id = ?", id);
    }
    q.push(" ORDER BY is_custom, order_nr, id");
    let mut fields: Vec<FieldDef> = db.rows(q).await?;
    for OptionRow(option, active) in options(db, company_id, kind).await? {
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

/// One active field of a kind of the company.
pub async fn field(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    id: i64,
) -> Result<Option<FieldDef>, StoreError> {
    Ok(load(db, company_id, kind, Some(id)).await?.pop())
}

/// Options appended to a field, after its last one.
async fn insert_options(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    key: &str,
    labels: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    for label in labels {
        db.execute(sql!(
            "INSERT INTO field_options (company_id, entity, field_key, label, order_nr, \
             add_time, update_time) VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(order_nr), 0) + 1 \
             FROM field_options WHERE company_id = ? AND entity = ? AND field_key = ?), ?, ?)",
            company_id,
            kind.as_str(),
            key,
            label,
            company_id,
            kind.as_str(),
            key,
            now,
            now
        ))
        .await?;
    }
    Ok(())
}

/// A custom field, after the company's last field of its kind.
pub async fn insert(db: &impl Db, f: &NewField) -> Result<FieldDef, StoreError> {
    let table = table(f.kind);
    let id = insert_id(
        db,
        sql!(
            format!(
                "INSERT INTO {table} (company_id, key, name, field_type, is_custom, order_nr, \
                 add_visible_flag, active_flag, created_by_user_id, updated_by_user_id, \
                 add_time, update_time, settings) VALUES (?, ?, ?, ?, TRUE, \
                 (SELECT COALESCE(MAX(order_nr), 0) + 1 FROM {table} WHERE company_id = ?), \
                 ?, TRUE, ?, ?, ?, ?, ?)"
            ),
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
    insert_options(db, f.company_id, f.kind, &f.key, &f.options, f.now).await?;
    field(db, f.company_id, f.kind, id)
        .await?
        .ok_or_else(|| vanished("field"))
}

/// Changes an active field as `edit` decides on it (locked, with its options as they are
/// then), all or nothing: the field before and after; `None` when there is no such field.
pub async fn update<D: Db>(
    db: &D,
    company_id: i64,
    kind: Kind,
    id: i64,
    edit: Edit<FieldDef, FieldChanges>,
    user_id: i64,
    now: Timestamp,
) -> Result<Option<(FieldDef, FieldDef)>, StoreError> {
    let table = table(kind);
    let mut q = sql!(
        format!(
            "SELECT f.id FROM {table} f WHERE f.company_id = ? AND f.id = ? \
             AND f.active_flag = TRUE"
        ),
        company_id,
        id
    );
    lock::<D>(&mut q, "f");
    let locked: Option<i64> = first(db, q).await?;
    if locked.is_none() {
        return Ok(None);
    }
    let Some(current) = field(db, company_id, kind, id).await? else {
        return Ok(None);
    };
    let ch = edit(&current).map_err(StoreError::refused)?;
    ch.check_options_exist(&current)?;
    let mut q = sql!(
        format!("UPDATE {table} SET update_time = ?, updated_by_user_id = ?"),
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
    insert_options(db, company_id, kind, &current.key, &ch.add_options, now).await?;
    let after = field(db, company_id, kind, id)
        .await?
        .ok_or_else(|| vanished("field"))?;
    Ok(Some((current, after)))
}

/// Marks custom fields deleted; the ids deleted now.
pub async fn delete(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    ids: &[i64],
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut deleted = Vec::new();
    for id in ids {
        let q: Query = sql!(
            format!(
                "UPDATE {} SET active_flag = FALSE, update_time = ? WHERE company_id = ? \
                 AND id = ? AND is_custom = TRUE AND active_flag = TRUE",
                table(kind)
            ),
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

/// The built-in fields of a kind and its labels, for a company that has none yet.
pub async fn add_builtins(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    fields: &[BuiltinField],
    labels: &[(String, String)],
    at: Timestamp,
) -> Result<(), StoreError> {
    // One statement for the fields and one for the labels (a reset pays them on every call).
    if !fields.is_empty() {
        let mut q = sql!(format!(
            "INSERT INTO {} (company_id, key, name, field_type, is_custom, order_nr, \
             add_visible_flag, active_flag, add_time, update_time) VALUES ",
            table(kind)
        ));
        for (order, (key, name, field_type)) in fields.iter().enumerate() {
            q.push(if order == 0 { "(" } else { ", (" });
            q.push_arg("?, ", company_id)
                .push_arg("?, ", key.as_str())
                .push_arg("?, ", name.as_str())
                .push_arg("?, FALSE, ", field_type.as_str())
                .push_arg("?, TRUE, TRUE, ", order as i64)
                .push_arg("?, ", at)
                .push_arg("?)", at);
        }
        db.execute(q).await?;
    }
    if !labels.is_empty() {
        let mut q = sql!(
            "INSERT INTO field_options (company_id, entity, field_key, label, color, order_nr, \
             add_time, update_time) VALUES "
        );
        for (order, (label, color)) in labels.iter().enumerate() {
            q.push(if order == 0 { "(" } else { ", (" });
            q.push_arg("?, ", company_id)
                .push_arg("?, ", kind.as_str())
                .push_arg("?, ", LABEL_KEY)
                .push_arg("?, ", label.as_str())
                .push_arg("?, ", color.as_str())
                .push_arg("?, ", order as i64)
                .push_arg("?, ", at)
                .push_arg("?)", at);
        }
        db.execute(q).await?;
    }
    Ok(())
}

/// Gives every company the built-in fields of `kind` (the migration that adds the kind's
/// fields), and its default labels where it has none of that kind yet.
pub async fn fill_builtins(db: &impl Db, kind: Kind) -> Result<(), StoreError> {
    let companies: Vec<(i64, bool)> = db
        .rows(sql!(
            "SELECT c.id, EXISTS (SELECT 1 FROM field_options o WHERE o.company_id = c.id \
             AND o.entity = ? AND o.field_key = ?) FROM companies c ORDER BY c.id",
            kind.as_str(),
            LABEL_KEY
        ))
        .await?;
    let fields: Vec<BuiltinField> = builtin_fields(kind)
        .iter()
        .filter_map(|(k, n, t)| Some(((*k).to_owned(), (*n).to_owned(), FieldType::from_name(t)?)))
        .collect();
    let labels: Vec<(String, String)> = kind
        .default_labels()
        .iter()
        .map(|(l, c)| ((*l).to_owned(), (*c).to_owned()))
        .collect();
    let now = Timestamp::now();
    for (company_id, has_labels) in companies {
        let labels = if has_labels { &[][..] } else { &labels[..] };
        add_builtins(db, company_id, kind, &fields, labels, now).await?;
    }
    Ok(())
}
