//! Organizations in SQLite: rows, lists, search, updates and deletes.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Map;

use super::{db_error, follow, in_list, order_and_page, to_json};
use crate::domain::followers::Kind;
use crate::domain::organization::{
    Address, NewOrganization, Organization, OrganizationChanges, OrganizationFilter,
    OrganizationQuery, search_text,
};
use crate::domain::query::SortField;
use crate::domain::{Timestamp, Visibility};
use crate::store::StoreError;
use crate::store::id_csv;

const COLUMNS: &str = "o.id, o.company_id, o.owner_id, o.name, o.address, o.address_parts, \
    o.label_ids, o.visible_to, o.active_flag, o.add_time, o.update_time, o.delete_time, \
    o.people_count, \
    (SELECT group_concat(f.user_id) FROM followers f WHERE f.kind = 'organization' AND f.item_id = o.id), \
    o.profile";

/// Keeps organizations the viewer may see.
pub(crate) const VISIBLE: &str = " AND (o.visible_to <> 1 OR o.owner_id = ? OR EXISTS (\
    SELECT 1 FROM followers f WHERE f.kind = 'organization' AND f.item_id = o.id AND f.user_id = ?))";

fn row(r: &Row) -> rusqlite::Result<Organization> {
    let parts: String = r.get(5)?;
    let labels: String = r.get(6)?;
    Ok(Organization {
        id: r.get(0)?,
        company_id: r.get(1)?,
        owner_id: r.get(2)?,
        name: r.get(3)?,
        address: r.get(4)?,
        address_parts: serde_json::from_str(&parts).unwrap_or_default(),
        label_ids: serde_json::from_str(&labels).unwrap_or_default(),
        visible_to: Visibility::new(r.get(7)?).unwrap_or(Visibility::DEFAULT),
        active: r.get(8)?,
        add_time: Timestamp(r.get(9)?),
        update_time: Timestamp(r.get(10)?),
        delete_time: r.get::<_, Option<i64>>(11)?.map(Timestamp),
        people_count: r.get(12)?,
        follower_ids: id_csv(r.get_ref(13)?.as_str_or_null()?),
        profile: serde_json::from_str(r.get_ref(14)?.as_str()?).unwrap_or_default(),
    })
}

fn query(conn: &Connection, sql: &str, args: Vec<Sql>) -> Result<Vec<Organization>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let rows = stmt
        .query_map(params_from_iter(args), row)
        .map_err(db_error)?;
    rows.collect::<Result<_, _>>().map_err(db_error)
}

pub fn get(
    conn: &Connection,
    company_id: i64,
    id: i64,
) -> Result<Option<Organization>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM organizations o WHERE o.company_id = ?1 AND o.id = ?2"
    ))
    .and_then(|mut s| s.query_row(params![company_id, id], row).optional())
    .map_err(db_error)
}

pub fn by_ids(
    conn: &Connection,
    company_id: i64,
    ids: &[i64],
) -> Result<Vec<Organization>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organizations o WHERE o.company_id = ? AND o.id IN ({})",
        in_list(ids.len())
    );
    let mut args = vec![Sql::Integer(company_id)];
    args.extend(ids.iter().map(|i| Sql::Integer(*i)));
    query(conn, &sql, args)
}

pub(crate) fn parts_json(a: Option<&Address>) -> Result<String, StoreError> {
    to_json(&a.map(|a| a.parts.clone()).unwrap_or_default())
}

pub fn insert(conn: &Connection, o: &NewOrganization) -> Result<Organization, StoreError> {
    conn.prepare_cached(
        "INSERT INTO organizations (company_id, owner_id, name, address, address_parts, label_ids,
            visible_to, search_text, active_flag, add_time, update_time, profile)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11)",
    )
    .and_then(|mut s| {
        s.execute(params![
            o.company_id,
            o.owner_id,
            o.name,
            o.address.as_ref().map(|a| &a.value),
            parts_json(o.address.as_ref()).unwrap_or_else(|_| "{}".into()),
            serde_json::to_string(&o.label_ids).unwrap_or_else(|_| "[]".into()),
            o.visible_to.get(),
            search_text(&o.name, o.address.as_ref()),
            o.add_time.0,
            o.update_time.0,
            to_json(&o.profile).unwrap_or_else(|_| "{}".into())
        ])
    })
    .map_err(db_error)?;
    let id = conn.last_insert_rowid();
    follow(
        conn,
        o.company_id,
        Kind::Organization,
        id,
        o.owner_id,
        o.created_by,
        o.update_time,
    )?;
    get(conn, o.company_id, id)?
        .ok_or_else(|| StoreError::Internal("inserted organization vanished".into()))
}

/// The SET list and arguments of an organization update, for both SQL stores: `update_time`,
/// every column the changes name, and the search text of the result.
pub(crate) fn update_sets(
    ch: &OrganizationChanges,
    current: &Organization,
    now: Timestamp,
) -> Result<(Vec<String>, Vec<Sql>), StoreError> {
    let mut sets = vec!["update_time = ?".to_owned()];
    let mut args = vec![Sql::Integer(now.0)];
    let mut set = |col: &str, v: Sql| {
        sets.push(format!("{col} = ?"));
        args.push(v);
    };
    if let Some(name) = &ch.name {
        set("name", Sql::Text(name.clone()));
    }
    if let Some(owner) = ch.owner_id {
        set("owner_id", Sql::Integer(owner));
    }
    if let Some(address) = &ch.address {
        set(
            "address",
            address
                .as_ref()
                .map_or(Sql::Null, |a| Sql::Text(a.value.clone())),
        );
        set("address_parts", Sql::Text(parts_json(address.as_ref())?));
    }
    if let Some(labels) = &ch.label_ids {
        set("label_ids", Sql::Text(to_json(labels)?));
    }
    if let Some(v) = ch.visible_to {
        set("visible_to", Sql::Integer(v.get()));
    }
    if let Some(profile) = &ch.profile {
        set("profile", Sql::Text(to_json(profile)?));
    }
    let name = ch.name.as_deref().unwrap_or(&current.name);
    let address = match &ch.address {
        Some(a) => a.clone(),
        None => current.address.clone().map(|value| Address {
            value,
            parts: Map::new(),
        }),
    };
    set(
        "search_text",
        Sql::Text(search_text(name, address.as_ref())),
    );
    Ok((sets, args))
}

pub fn update(
    conn: &Connection,
    company_id: i64,
    id: i64,
    ch: OrganizationChanges,
    now: Timestamp,
) -> Result<Option<Organization>, StoreError> {
    let Some(current) = get(conn, company_id, id)?.filter(|o| o.active) else {
        return Ok(None);
    };
    let (sets, mut args) = update_sets(&ch, &current, now)?;
    args.push(Sql::Integer(company_id));
    args.push(Sql::Integer(id));
    conn.execute(
        &format!(
            "UPDATE organizations SET {} WHERE company_id = ? AND id = ?",
            sets.join(", ")
        ),
        params_from_iter(args),
    )
    .map_err(db_error)?;
    get(conn, company_id, id)
}

pub fn delete(
    conn: &Connection,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = conn
        .execute(
            "UPDATE organizations SET active_flag = 0, delete_time = ?1, update_time = ?1
             WHERE company_id = ?2 AND id = ?3 AND active_flag = 1",
            params![now.0, company_id, id],
        )
        .map_err(db_error)?;
    if n == 0 {
        return Ok(false);
    }
    conn.execute(
        "UPDATE persons SET org_id = NULL, update_time = ?1 WHERE company_id = ?2 AND org_id = ?3",
        params![now.0, company_id, id],
    )
    .map_err(db_error)?;
    conn.execute(
        "UPDATE organizations SET people_count = 0 WHERE id = ?1",
        [id],
    )
    .map_err(db_error)?;
    Ok(true)
}

fn sort_column(f: SortField) -> Option<&'static str> {
    Some(match f {
        SortField::Id => "o.id",
        SortField::Name => "o.name COLLATE NOCASE",
        SortField::AddTime => "o.add_time",
        SortField::UpdateTime => "o.update_time",
        SortField::OwnerId => "o.owner_id",
        SortField::VisibleTo => "o.visible_to",
        _ => return None,
    })
}

/// Whether organizations can be sorted by a field.
pub fn sortable(f: SortField) -> bool {
    sort_column(f).is_some()
}

/// Appends an organization list's filters (`?` placeholders; the same SQL on both backends).
pub(crate) fn org_filters(sql: &mut String, args: &mut Vec<Sql>, f: &OrganizationFilter) {
    if let Some(owner) = f.owner_id {
        sql.push_str(" AND o.owner_id = ?");
        args.push(Sql::Integer(owner));
    }
    if let Some(ids) = &f.ids {
        sql.push_str(&format!(" AND o.id IN ({})", in_list(ids.len().max(1))));
        if ids.is_empty() {
            args.push(Sql::Null);
        }
        args.extend(ids.iter().map(|i| Sql::Integer(*i)));
    }
    if let Some(c) = &f.first_char {
        sql.push_str(" AND substr(o.search_text, 1, length(?)) = ?");
        args.push(Sql::Text(c.clone()));
        args.push(Sql::Text(c.clone()));
    }
    if let Some(t) = f.updated_since {
        sql.push_str(" AND o.update_time >= ?");
        args.push(Sql::Integer(t.0));
    }
    if let Some(t) = f.updated_until {
        sql.push_str(" AND o.update_time < ?");
        args.push(Sql::Integer(t.0));
    }
    if let Some(v) = f.viewer {
        sql.push_str(VISIBLE);
        args.push(Sql::Integer(v));
        args.push(Sql::Integer(v));
    }
}

pub fn list(
    conn: &Connection,
    company_id: i64,
    q: &OrganizationQuery,
) -> Result<Vec<Organization>, StoreError> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM organizations o WHERE o.company_id = ? AND o.active_flag = 1"
    );
    let mut args = vec![Sql::Integer(company_id)];
    org_filters(&mut sql, &mut args, &q.filter);
    order_and_page(
        &mut sql,
        &mut args,
        &q.order,
        &q.page,
        q.limit,
        "o.id",
        sort_column,
    );
    query(conn, &sql, args)
}

pub fn search(
    conn: &Connection,
    company_id: i64,
    needle: &str,
    viewer: Option<i64>,
) -> Result<Vec<Organization>, StoreError> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM organizations o
         WHERE o.company_id = ? AND o.active_flag = 1 AND instr(o.search_text, ?) > 0"
    );
    let mut args = vec![Sql::Integer(company_id), Sql::Text(needle.to_owned())];
    if let Some(v) = viewer {
        sql.push_str(VISIBLE);
        args.push(Sql::Integer(v));
        args.push(Sql::Integer(v));
    }
    sql.push_str(" ORDER BY o.id");
    query(conn, &sql, args)
}
