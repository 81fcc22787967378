//! The PostgreSQL backend: the same [`Store`] over one shared database, so that several
//! pipestack instances can run behind a load balancer. Every write is one transaction,
//! acknowledged after COMMIT (PostgreSQL groups concurrent commits into one WAL flush itself).
//! Substring search uses a pg_trgm index; migrations run under an advisory lock, so instances
//! starting together migrate once.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::cache::Cache;
use super::sqlite::organizations::{
    VISIBLE as ORG_VISIBLE, org_filters, update_sets as org_update_sets,
};
use super::sqlite::{in_list, order_and_page, person_filters, person_update_sets};
use super::{FieldChanges, NewCompany, NewField, NewUser, Store, StoreError, id_csv};
use crate::domain::fields::{FieldType, LABEL_KEY};
use crate::domain::followers::{Follower, FollowerChange, FollowerRef, Kind};
use crate::domain::organization::{
    NewOrganization, ORG_LABEL_KEY, Organization, OrganizationChanges, OrganizationQuery,
    search_text as org_search_text,
};
use crate::domain::person::{Contact, NewPerson, Person, PersonChanges, derive};
use crate::domain::query::{PersonFilter, PersonQuery, SortField};
use crate::domain::user::company_domain;
use crate::domain::{
    Company, FieldDef, FieldOption, MarketingStatus, Session, Timestamp, User, Visibility,
};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_field_settings.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_organization_profile.sql"),
    ),
];
/// The advisory lock key under which migrations run (any constant shared by all instances).
const MIGRATION_LOCK: i64 = 0x7069_7065_7374_6163;
const MAX_SEARCH_CANDIDATES: usize = 20_000;
/// Prepared statements kept per pooled connection.
const MAX_CACHED_STATEMENTS: usize = 512;

pub struct PgStore {
    pool: Pool,
    sessions: Cache<String, Option<Session>>,
    users: Cache<i64, Vec<User>>,
    fields: Cache<i64, Vec<FieldDef>>,
}

/// A parameter that converts to whatever type PostgreSQL inferred for its placeholder, so the
/// shared SQL builders' loosely typed values (and NULLs) bind anywhere.
#[derive(Debug)]
pub(crate) struct Arg(pub(crate) Sql);

impl ToSql for Arg {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        match &self.0 {
            Sql::Null => Ok(IsNull::Yes),
            Sql::Integer(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Sql::Integer(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Sql::Integer(i) if *ty == Type::TEXT || *ty == Type::VARCHAR => {
                i.to_string().to_sql(ty, out)
            }
            Sql::Integer(i) => i.to_sql(ty, out),
            Sql::Real(f) => f.to_sql(ty, out),
            Sql::Text(t) => t.to_sql(ty, out),
            Sql::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

type Param = Arg;

fn pg_error(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        if code == "23505" || code == "23503" {
            return StoreError::Conflict(db.message().to_owned());
        }
        if code.starts_with("57") || code.starts_with("08") || code.starts_with("53") {
            return StoreError::Unavailable(format!(
                "the database is unavailable: {}",
                db.message()
            ));
        }
        return StoreError::Internal(db.message().to_owned());
    }
    if e.is_closed() {
        return StoreError::Unavailable("the database connection was lost".into());
    }
    StoreError::Unavailable(format!("the database does not answer: {e}"))
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("no database connection: {e}"))
}

fn col<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i)
        .map_err(|e| StoreError::Internal(format!("column {i}: {e}")))
}

/// `?` placeholders (shared SQL builders) to PostgreSQL's `$1, $2, …`.
fn number(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

fn params(args: Vec<Sql>) -> Vec<Param> {
    args.into_iter().map(Arg).collect()
}

fn refs(p: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

const COMPANY_COLUMNS: &str = "id, name, domain, campaigns_enabled, add_time";
const USER_COLUMNS: &str =
    "id, company_id, name, email, is_admin, active_flag, api_token, add_time, update_time";
const PERSON_COLUMNS: &str = "p.id, p.company_id, p.owner_id, p.org_id, p.name, p.first_name, \
    p.last_name, p.emails, p.phones, p.label_ids, p.visible_to, p.marketing_status, \
    p.custom_fields, p.active_flag, p.add_time, p.update_time, p.delete_time, \
    (SELECT string_agg(f.user_id::text, ',' ORDER BY f.id) FROM followers f \
     WHERE f.kind = 'person' AND f.item_id = p.id), p.marketing_changed";
const ORG_COLUMNS: &str = "o.id, o.company_id, o.owner_id, o.name, o.address, o.address_parts, \
    o.label_ids, o.visible_to, o.active_flag, o.add_time, o.update_time, o.delete_time, \
    o.people_count, (SELECT string_agg(f.user_id::text, ',' ORDER BY f.id) FROM followers f \
    WHERE f.kind = 'organization' AND f.item_id = o.id), o.profile";

fn company_row(r: &Row) -> Result<Company, StoreError> {
    Ok(Company {
        id: col(r, 0)?,
        name: col(r, 1)?,
        domain: col(r, 2)?,
        campaigns_enabled: col(r, 3)?,
        add_time: Timestamp(col(r, 4)?),
    })
}

fn user_row(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: col(r, 0)?,
        company_id: col(r, 1)?,
        name: col(r, 2)?,
        email: col(r, 3)?,
        is_admin: col(r, 4)?,
        active: col(r, 5)?,
        api_token: col(r, 6)?,
        add_time: Timestamp(col(r, 7)?),
        update_time: Timestamp(col(r, 8)?),
    })
}

fn decode<T: serde::de::DeserializeOwned>(s: String) -> Result<T, StoreError> {
    serde_json::from_str(&s).map_err(|e| StoreError::Internal(format!("corrupt JSON column: {e}")))
}

fn person_row(r: &Row) -> Result<Person, StoreError> {
    let marketing: Option<String> = col(r, 11)?;
    Ok(Person {
        id: col(r, 0)?,
        company_id: col(r, 1)?,
        owner_id: col(r, 2)?,
        org_id: col(r, 3)?,
        name: col(r, 4)?,
        first_name: col(r, 5)?,
        last_name: col(r, 6)?,
        emails: decode::<Vec<Contact>>(col(r, 7)?)?,
        phones: decode::<Vec<Contact>>(col(r, 8)?)?,
        label_ids: decode(col(r, 9)?)?,
        visible_to: Visibility::new(col(r, 10)?).unwrap_or(Visibility::DEFAULT),
        marketing_status: marketing.as_deref().and_then(MarketingStatus::from_name),
        custom_fields: decode::<Map<String, Value>>(col(r, 12)?)?,
        active: col(r, 13)?,
        add_time: Timestamp(col(r, 14)?),
        update_time: Timestamp(col(r, 15)?),
        delete_time: col::<Option<i64>>(r, 16)?.map(Timestamp),
        follower_ids: id_csv(col(r, 17)?),
        marketing_changed: col(r, 18)?,
    })
}

fn org_row(r: &Row) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: col(r, 0)?,
        company_id: col(r, 1)?,
        owner_id: col(r, 2)?,
        name: col(r, 3)?,
        address: col(r, 4)?,
        address_parts: decode(col(r, 5)?).unwrap_or_default(),
        label_ids: decode(col(r, 6)?).unwrap_or_default(),
        visible_to: Visibility::new(col(r, 7)?).unwrap_or(Visibility::DEFAULT),
        active: col(r, 8)?,
        add_time: Timestamp(col(r, 9)?),
        update_time: Timestamp(col(r, 10)?),
        delete_time: col::<Option<i64>>(r, 11)?.map(Timestamp),
        people_count: col(r, 12)?,
        follower_ids: id_csv(col(r, 13)?),
        profile: decode(col(r, 14)?).unwrap_or_default(),
    })
}

fn follower_row(r: &Row) -> Result<Follower, StoreError> {
    Ok(Follower {
        id: col(r, 0)?,
        item_id: col(r, 1)?,
        user_id: col(r, 2)?,
        add_time: Timestamp(col(r, 3)?),
    })
}

/// The connection's prepared statement for `sql`, preparing it on first use: one round trip
/// per query instead of two (parse, then execute).
async fn prepared<C: GenericClient>(
    c: &C,
    sql: &str,
) -> Result<tokio_postgres::Statement, StoreError> {
    c.prepare_cached(sql).await.map_err(pg_error)
}

async fn query_rows<C: GenericClient, T>(
    c: &C,
    sql: &str,
    args: Vec<Sql>,
    map: fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let p = params(args);
    let stmt = prepared(c, &number(sql)).await?;
    let rows = c.query(&stmt, &refs(&p)).await.map_err(pg_error)?;
    rows.iter().map(map).collect()
}

async fn get_person<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
) -> Result<Option<Person>, StoreError> {
    let sql = format!("SELECT {PERSON_COLUMNS} FROM persons p WHERE p.company_id = ? AND p.id = ?");
    Ok(query_rows(
        c,
        &sql,
        vec![Sql::Integer(company), Sql::Integer(id)],
        person_row,
    )
    .await?
    .pop())
}

async fn get_org<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
) -> Result<Option<Organization>, StoreError> {
    let sql =
        format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.company_id = ? AND o.id = ?");
    Ok(query_rows(
        c,
        &sql,
        vec![Sql::Integer(company), Sql::Integer(id)],
        org_row,
    )
    .await?
    .pop())
}

async fn get_user<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE company_id = ? AND id = ?");
    Ok(query_rows(
        c,
        &sql,
        vec![Sql::Integer(company), Sql::Integer(id)],
        user_row,
    )
    .await?
    .pop())
}

async fn get_company<C: GenericClient>(c: &C, id: i64) -> Result<Option<Company>, StoreError> {
    let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = ?");
    Ok(query_rows(c, &sql, vec![Sql::Integer(id)], company_row)
        .await?
        .pop())
}

async fn exec<C: GenericClient>(c: &C, sql: &str, args: Vec<Sql>) -> Result<u64, StoreError> {
    let p = params(args);
    let stmt = prepared(c, &number(sql)).await?;
    c.execute(&stmt, &refs(&p)).await.map_err(pg_error)
}

async fn insert_id<C: GenericClient>(c: &C, sql: &str, args: Vec<Sql>) -> Result<i64, StoreError> {
    let p = params(args);
    let stmt = prepared(c, &format!("{} RETURNING id", number(sql))).await?;
    let row = c.query_one(&stmt, &refs(&p)).await.map_err(pg_error)?;
    col(&row, 0)
}

fn b(v: bool) -> Sql {
    Sql::Integer(i64::from(v))
}

async fn insert_user<C: GenericClient>(c: &C, u: &NewUser) -> Result<User, StoreError> {
    let id = insert_id(
        c,
        "INSERT INTO users (company_id, name, email, is_admin, active_flag, api_token, add_time, update_time)
         VALUES (?, ?, ?, ?, TRUE, ?, ?, ?)",
        vec![
            Sql::Integer(u.company_id),
            Sql::Text(u.name.clone()),
            Sql::Text(u.email.clone()),
            b(u.is_admin),
            Sql::Text(u.api_token.clone()),
            Sql::Integer(u.add_time.0),
            Sql::Integer(u.add_time.0),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "email: a user with the email {} already exists in this company",
            u.email
        )),
        other => other,
    })?;
    get_user(c, u.company_id, id)
        .await?
        .ok_or_else(|| StoreError::Internal("inserted user vanished".into()))
}

async fn load_fields<C: GenericClient>(
    c: &C,
    company: i64,
    only: Option<i64>,
) -> Result<Vec<FieldDef>, StoreError> {
    let mut sql = "SELECT id, key, name, field_type, is_custom, order_nr, add_visible_flag,
            created_by_user_id, updated_by_user_id, add_time, update_time, settings
         FROM person_fields WHERE company_id = ? AND active_flag"
        .to_owned();
    let mut args = vec![Sql::Integer(company)];
    if let Some(id) = only {
        sql.push_str(" AND id = ?");
        args.push(Sql::Integer(id));
    }
    sql.push_str(" ORDER BY is_custom, order_nr, id");
    let mut fields = query_rows(c, &sql, args, |r| {
        let t: String = col(r, 3)?;
        Ok(FieldDef {
            id: col(r, 0)?,
            key: col(r, 1)?,
            name: col(r, 2)?,
            field_type: FieldType::from_name(&t).unwrap_or(FieldType::Varchar),
            is_custom: col(r, 4)?,
            order_nr: col(r, 5)?,
            add_visible_flag: col(r, 6)?,
            created_by_user_id: col(r, 7)?,
            updated_by_user_id: col(r, 8)?,
            add_time: Timestamp(col(r, 9)?),
            update_time: Timestamp(col(r, 10)?),
            options: Vec::new(),
            deleted_options: Vec::new(),
            settings: serde_json::from_str(col(r, 11)?)
                .map_err(|e| StoreError::Internal(format!("corrupt field settings: {e}")))?,
        })
    })
    .await?;
    for (o, active) in load_options(c, company, true).await? {
        if let Some(f) = fields.iter_mut().find(|f| f.key == o.field_key) {
            if active {
                f.options.push(o);
            } else {
                f.deleted_options.push(o);
            }
        }
    }
    Ok(fields)
}

/// The options of every field of a company, each with whether it is active; deleted ones
/// only when `deleted` is true.
async fn load_options<C: GenericClient>(
    c: &C,
    company: i64,
    deleted: bool,
) -> Result<Vec<(FieldOption, bool)>, StoreError> {
    query_rows(
        c,
        "SELECT id, field_key, label, color, add_time, update_time, active_flag FROM field_options
         WHERE company_id = ? AND (active_flag OR ?) ORDER BY order_nr, id",
        vec![Sql::Integer(company), Sql::Integer(i64::from(deleted))],
        |r| {
            Ok((
                FieldOption {
                    id: col(r, 0)?,
                    field_key: col(r, 1)?,
                    label: col(r, 2)?,
                    color: col(r, 3)?,
                    add_time: Timestamp(col(r, 4)?),
                    update_time: Timestamp(col(r, 5)?),
                },
                col(r, 6)?,
            ))
        },
    )
    .await
}

async fn insert_options<C: GenericClient>(
    c: &C,
    company: i64,
    key: &str,
    labels: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    for label in labels {
        exec(
            c,
            "INSERT INTO field_options (company_id, field_key, label, order_nr, add_time, update_time)
             VALUES (?, ?, ?, (SELECT COALESCE(MAX(order_nr), 0) + 1 FROM field_options
                               WHERE company_id = ? AND field_key = ?), ?, ?)",
            vec![
                Sql::Integer(company),
                Sql::Text(key.into()),
                Sql::Text(label.clone()),
                Sql::Integer(company),
                Sql::Text(key.into()),
                Sql::Integer(now.0),
                Sql::Integer(now.0),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn follow<C: GenericClient>(
    c: &C,
    company: i64,
    kind: Kind,
    item: i64,
    user: i64,
    actor: i64,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let p = params(vec![
        Sql::Integer(company),
        Sql::Text(kind.as_str().into()),
        Sql::Integer(item),
        Sql::Integer(user),
        Sql::Integer(now.0),
    ]);
    let stmt = prepared(
        c,
        "INSERT INTO followers (company_id, kind, item_id, user_id, add_time) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING RETURNING id",
    )
    .await?;
    let row = c.query_opt(&stmt, &refs(&p)).await.map_err(pg_error)?;
    let Some(row) = row else { return Ok(None) };
    log_follow(c, company, kind, item, user, actor, "added", now).await?;
    Ok(Some(col(&row, 0)?))
}

#[allow(clippy::too_many_arguments)]
async fn log_follow<C: GenericClient>(
    c: &C,
    company: i64,
    kind: Kind,
    item: i64,
    user: i64,
    actor: i64,
    action: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    exec(
        c,
        "INSERT INTO follower_changes (company_id, kind, item_id, user_id, actor_user_id, action, time)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            Sql::Integer(company),
            Sql::Text(kind.as_str().into()),
            Sql::Integer(item),
            Sql::Integer(user),
            Sql::Integer(actor),
            Sql::Text(action.into()),
            Sql::Integer(now.0),
        ],
    )
    .await?;
    Ok(())
}

async fn touch<C: GenericClient>(
    c: &C,
    kind: Kind,
    item: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let table = match kind {
        Kind::Person => "persons",
        Kind::Organization => "organizations",
    };
    exec(
        c,
        &format!("UPDATE {table} SET update_time = ? WHERE id = ?"),
        vec![Sql::Integer(now.0), Sql::Integer(item)],
    )
    .await?;
    Ok(())
}

async fn count_people<C: GenericClient>(c: &C, org: i64, delta: i64) -> Result<(), StoreError> {
    exec(
        c,
        "UPDATE organizations SET people_count = people_count + ? WHERE id = ?",
        vec![Sql::Integer(delta), Sql::Integer(org)],
    )
    .await?;
    Ok(())
}

async fn index_emails<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
    emails: &[Contact],
) -> Result<(), StoreError> {
    exec(
        c,
        "DELETE FROM person_emails WHERE person_id = ?",
        vec![Sql::Integer(id)],
    )
    .await?;
    for e in emails {
        exec(
            c,
            "INSERT INTO person_emails (company_id, value, person_id) VALUES (?, ?, ?)",
            vec![
                Sql::Integer(company),
                Sql::Text(e.value.to_lowercase()),
                Sql::Integer(id),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Inserts one person in a single statement (one round trip): the row, its email index rows,
/// its organization's count, its followers and their changelog.
async fn insert_person_row<C: GenericClient>(c: &C, p: &NewPerson) -> Result<i64, StoreError> {
    let d = derive(&p.name, &p.emails, &p.phones, &p.custom_fields);
    let scalars = params(vec![
        Sql::Integer(p.company_id),
        Sql::Integer(p.owner_id),
        p.org_id.map_or(Sql::Null, Sql::Integer),
        Sql::Text(p.name.clone()),
        p.first_name.clone().map_or(Sql::Null, Sql::Text),
        p.last_name.clone().map_or(Sql::Null, Sql::Text),
        Sql::Text(json(&p.emails)?),
        Sql::Text(json(&p.phones)?),
        d.primary_email.map_or(Sql::Null, Sql::Text),
        Sql::Text(json(&p.label_ids)?),
        Sql::Integer(p.visible_to.get()),
        p.marketing_status
            .map_or(Sql::Null, |m| Sql::Text(m.as_str().into())),
        Sql::Text(json(&p.custom_fields)?),
        Sql::Integer(p.add_time.0),
        Sql::Integer(p.update_time.0),
        d.first_char.map_or(Sql::Null, Sql::Text),
        Sql::Text(d.search_text),
        Sql::Integer(p.created_by),
    ]);
    let emails: Vec<String> = p.emails.iter().map(|e| e.value.to_lowercase()).collect();
    let mut args = refs(&scalars);
    args.push(&emails);
    args.push(&p.followers);
    let stmt = prepared(
        c,
        "WITH p AS (
                INSERT INTO persons (company_id, owner_id, org_id, name, first_name, last_name,
                    emails, phones, primary_email, label_ids, visible_to, marketing_status,
                    custom_fields, active_flag, add_time, update_time, first_char, search_text)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, TRUE, $14, $15, $16, $17)
                RETURNING id
            ), e AS (
                INSERT INTO person_emails (company_id, value, person_id)
                SELECT $1, v, p.id FROM p, unnest($19::text[]) AS v
            ), o AS (
                UPDATE organizations SET people_count = people_count + 1 WHERE id = $3
            ), f AS (
                INSERT INTO followers (company_id, kind, item_id, user_id, add_time)
                SELECT $1, 'person', p.id, u, $15 FROM p, unnest($20::bigint[]) AS u
                ON CONFLICT DO NOTHING RETURNING item_id, user_id
            ), l AS (
                INSERT INTO follower_changes (company_id, kind, item_id, user_id, actor_user_id, action, time)
                SELECT $1, 'person', f.item_id, f.user_id, $18, 'added', $15 FROM f
            )
            SELECT id FROM p",
    )
    .await?;
    let row = c.query_one(&stmt, &args).await.map_err(pg_error)?;
    col(&row, 0)
}

async fn apply_changes<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
    ch: PersonChanges,
    now: Timestamp,
) -> Result<Person, StoreError> {
    let current = get_person(c, company, id)
        .await?
        .ok_or_else(|| StoreError::Internal("changed person vanished".into()))?;
    if let Some(new_org) = ch.org_id
        && new_org != current.org_id
    {
        if let Some(o) = current.org_id {
            count_people(c, o, -1).await?;
        }
        if let Some(o) = new_org {
            count_people(c, o, 1).await?;
        }
    }
    let (sets, mut args) = person_update_sets(&ch, now)?;
    args.push(Sql::Integer(company));
    args.push(Sql::Integer(id));
    exec(
        c,
        &format!(
            "UPDATE persons SET {} WHERE company_id = ? AND id = ?",
            sets.join(", ")
        ),
        args,
    )
    .await?;
    if let Some(e) = &ch.emails {
        index_emails(c, company, id, e).await?;
    }
    let person = get_person(c, company, id)
        .await?
        .ok_or_else(|| StoreError::Internal("changed person vanished".into()))?;
    let d = derive(
        &person.name,
        &person.emails,
        &person.phones,
        &person.custom_fields,
    );
    exec(
        c,
        "UPDATE persons SET primary_email = ?, first_char = ?, search_text = ? WHERE id = ?",
        vec![
            d.primary_email.map_or(Sql::Null, Sql::Text),
            d.first_char.map_or(Sql::Null, Sql::Text),
            Sql::Text(d.search_text),
            Sql::Integer(id),
        ],
    )
    .await?;
    Ok(person)
}

async fn soft_delete<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let p = params(vec![
        Sql::Integer(now.0),
        Sql::Integer(company),
        Sql::Integer(id),
    ]);
    let stmt = prepared(
        c,
        "UPDATE persons SET active_flag = FALSE, delete_time = $1, update_time = $1
             WHERE company_id = $2 AND id = $3 AND active_flag RETURNING org_id",
    )
    .await?;
    let row = c.query_opt(&stmt, &refs(&p)).await.map_err(pg_error)?;
    let Some(row) = row else { return Ok(false) };
    if let Some(org) = col::<Option<i64>>(&row, 0)? {
        count_people(c, org, -1).await?;
    }
    Ok(true)
}

async fn is_active_person<C: GenericClient>(
    c: &C,
    company: i64,
    id: i64,
) -> Result<bool, StoreError> {
    Ok(get_person(c, company, id).await?.is_some_and(|p| p.active))
}

fn person_sort(f: SortField) -> &'static str {
    match f {
        SortField::Id => "p.id",
        SortField::Name => "lower(p.name)",
        SortField::FirstName => "lower(p.first_name)",
        SortField::LastName => "lower(p.last_name)",
        SortField::FirstChar => "p.first_char",
        SortField::AddTime => "p.add_time",
        SortField::UpdateTime => "p.update_time",
        SortField::OwnerId => "p.owner_id",
        SortField::OrgId => "p.org_id",
        SortField::VisibleTo => "p.visible_to",
        SortField::PrimaryEmail => "lower(p.primary_email)",
    }
}

fn org_sort(f: SortField) -> Option<&'static str> {
    Some(match f {
        SortField::Id => "o.id",
        SortField::Name => "lower(o.name)",
        SortField::AddTime => "o.add_time",
        SortField::UpdateTime => "o.update_time",
        SortField::OwnerId => "o.owner_id",
        SortField::VisibleTo => "o.visible_to",
        _ => return None,
    })
}

/// `LIKE` pattern for a substring, with `%`, `_` and `\\` taken literally.
fn like(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl PgStore {
    /// Connects to `url`, applies pending migrations under an advisory lock (instances
    /// starting together migrate once), and keeps a pool of `pool_size` connections.
    pub async fn open(url: &str, options: &super::StoreOptions) -> Result<Self, StoreError> {
        let pool_size = options.pool_size;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Internal(format!("bad PostgreSQL URL: {e}")))?;
        config.options(format!(
            "-c statement_timeout={}",
            options.statement_timeout_ms
        ));
        config.connect_timeout(std::time::Duration::from_millis(
            options.statement_timeout_ms,
        ));
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        // TLS as libpq's `sslmode` says: `disable` plain; `prefer` (the default) TLS when the
        // server offers it; `require` TLS or nothing. Like libpq's `require`, the certificate
        // is not verified (that is `verify-full`, which this URL syntax cannot express).
        let manager = if config.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
            Manager::from_config(config, NoTls, manager_config)
        } else {
            let connector = native_tls::TlsConnector::builder()
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .build()
                .map_err(|e| StoreError::Internal(format!("cannot set up TLS: {e}")))?;
            Manager::from_config(
                config,
                postgres_native_tls::MakeTlsConnector::new(connector),
                manager_config,
            )
        };
        let wait = std::time::Duration::from_millis(options.statement_timeout_ms);
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(wait))
            .create_timeout(Some(wait))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Internal(format!("cannot build the pool: {e}")))?;
        let store = Self {
            pool,
            sessions: Cache::default(),
            users: Cache::default(),
            fields: Cache::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(pg_error)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await
        .map_err(pg_error)?;
        for (version, sql) in MIGRATIONS {
            let applied = tx
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await
                .map_err(pg_error)?
                .is_some();
            if !applied {
                tx.batch_execute(sql).await.map_err(pg_error)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[version, &Timestamp::now().0],
                )
                .await
                .map_err(pg_error)?;
            }
        }
        tx.commit().await.map_err(pg_error)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        // Filters and sort orders make many statement shapes: a connection that has gathered
        // more than a bound starts its cache over (PostgreSQL frees the dropped ones).
        if client.statement_cache.size() > MAX_CACHED_STATEMENTS {
            client.statement_cache.clear();
        }
        Ok(client)
    }
}

/// Runs `$body` in a transaction on a pooled connection and commits it; `$tx` names it.
macro_rules! write {
    ($self:ident, |$tx:ident| $body:block) => {{
        let mut client = $self.client().await?;
        let $tx = client.transaction().await.map_err(pg_error)?;
        let result = async { $body }.await;
        match result {
            Ok(v) => {
                $tx.commit().await.map_err(pg_error)?;
                Ok(v)
            }
            Err(e) => {
                let _ = $tx.rollback().await;
                Err(e)
            }
        }
    }};
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.simple_query("SELECT 1").await.map_err(pg_error)?;
        Ok(())
    }

    async fn session_by_token(&self, token: &str) -> Result<Option<Session>, StoreError> {
        if let Some(s) = self.sessions.get(&token.to_owned()) {
            return Ok(s);
        }
        let c = self.client().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE api_token = ? AND active_flag");
        let Some(user) = query_rows(&c, &sql, vec![Sql::Text(token.into())], user_row)
            .await?
            .pop()
        else {
            return Ok(None);
        };
        let company = get_company(&c, user.company_id)
            .await?
            .ok_or_else(|| StoreError::Internal("user without company".into()))?;
        let found = Some(Session { company, user });
        self.sessions.put(token.to_owned(), found.clone());
        Ok(found)
    }

    async fn companies(&self) -> Result<Vec<Company>, StoreError> {
        let c = self.client().await?;
        query_rows(
            &c,
            &format!("SELECT {COMPANY_COLUMNS} FROM companies ORDER BY id"),
            vec![],
            company_row,
        )
        .await
    }

    async fn company(&self, id: i64) -> Result<Option<Company>, StoreError> {
        let c = self.client().await?;
        get_company(&c, id).await
    }

    async fn add_company(
        &self,
        company: NewCompany,
        admin: NewUser,
    ) -> Result<(Company, User), StoreError> {
        write!(self, |tx| {
            let id = insert_id(
                &tx,
                "INSERT INTO companies (name, domain, campaigns_enabled, add_time) VALUES (?, '', ?, ?)",
                vec![Sql::Text(company.name.clone()), b(company.campaigns_enabled), Sql::Integer(company.add_time.0)],
            )
            .await?;
            exec(
                &tx,
                "UPDATE companies SET domain = ? WHERE id = ?",
                vec![
                    Sql::Text(company_domain(&company.name, id)),
                    Sql::Integer(id),
                ],
            )
            .await?;
            for (order, (key, name, t)) in company.person_fields.iter().enumerate() {
                exec(
                    &tx,
                    "INSERT INTO person_fields (company_id, key, name, field_type, is_custom, order_nr, add_visible_flag, active_flag, add_time, update_time)
                     VALUES (?, ?, ?, ?, FALSE, ?, TRUE, TRUE, ?, ?)",
                    vec![Sql::Integer(id), Sql::Text(key.clone()), Sql::Text(name.clone()), Sql::Text(t.as_str().into()), Sql::Integer(order as i64), Sql::Integer(company.add_time.0), Sql::Integer(company.add_time.0)],
                )
                .await?;
            }
            for key in [LABEL_KEY, ORG_LABEL_KEY] {
                for (order, (label, color)) in company.person_labels.iter().enumerate() {
                    exec(
                        &tx,
                        "INSERT INTO field_options (company_id, field_key, label, color, order_nr, add_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        vec![Sql::Integer(id), Sql::Text(key.into()), Sql::Text(label.clone()), Sql::Text(color.clone()), Sql::Integer(order as i64), Sql::Integer(company.add_time.0), Sql::Integer(company.add_time.0)],
                    )
                    .await?;
                }
            }
            let user = insert_user(
                &tx,
                &NewUser {
                    company_id: id,
                    ..admin.clone()
                },
            )
            .await?;
            let company = get_company(&tx, id)
                .await?
                .ok_or_else(|| StoreError::Internal("inserted company vanished".into()))?;
            Ok((company, user))
        })
    }

    async fn set_campaigns(&self, company_id: i64, enabled: bool) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = exec(
            &c,
            "UPDATE companies SET campaigns_enabled = ? WHERE id = ?",
            vec![b(enabled), Sql::Integer(company_id)],
        )
        .await?;
        self.sessions.clear();
        Ok(n == 1)
    }

    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = exec(
            &c,
            "UPDATE users SET active_flag = ?, update_time = ? WHERE id = ?",
            vec![
                b(active),
                Sql::Integer(Timestamp::now().0),
                Sql::Integer(user_id),
            ],
        )
        .await?;
        self.sessions.clear();
        self.users.clear();
        Ok(n == 1)
    }

    async fn add_user(&self, user: NewUser) -> Result<User, StoreError> {
        let c = self.client().await?;
        let u = insert_user(&c, &user).await?;
        self.users.forget(&user.company_id);
        Ok(u)
    }

    async fn set_api_token(&self, user_id: i64, token: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        exec(
            &c,
            "UPDATE users SET api_token = ?, update_time = ? WHERE id = ?",
            vec![
                Sql::Text(token.into()),
                Sql::Integer(Timestamp::now().0),
                Sql::Integer(user_id),
            ],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict("api token: already used by another user".into())
            }
            other => other,
        })?;
        self.sessions.clear();
        self.users.clear();
        Ok(())
    }

    async fn users(&self, company_id: i64) -> Result<Vec<User>, StoreError> {
        if let Some(u) = self.users.get(&company_id) {
            return Ok(u);
        }
        let c = self.client().await?;
        let users = query_rows(
            &c,
            &format!("SELECT {USER_COLUMNS} FROM users WHERE company_id = ? ORDER BY id"),
            vec![Sql::Integer(company_id)],
            user_row,
        )
        .await?;
        self.users.put(company_id, users.clone());
        Ok(users)
    }

    async fn user(&self, company_id: i64, id: i64) -> Result<Option<User>, StoreError> {
        let c = self.client().await?;
        get_user(&c, company_id, id).await
    }

    async fn person_fields(&self, company_id: i64) -> Result<Vec<FieldDef>, StoreError> {
        if let Some(f) = self.fields.get(&company_id) {
            return Ok(f);
        }
        let c = self.client().await?;
        let fields = load_fields(&c, company_id, None).await?;
        self.fields.put(company_id, fields.clone());
        Ok(fields)
    }

    async fn insert_field(&self, f: NewField) -> Result<FieldDef, StoreError> {
        let company = f.company_id;
        let done = write!(self, |tx| {
            let id = insert_id(
                &tx,
                "INSERT INTO person_fields (company_id, key, name, field_type, is_custom, order_nr, add_visible_flag, active_flag, created_by_user_id, updated_by_user_id, add_time, update_time, settings)
                 VALUES (?, ?, ?, ?, TRUE, (SELECT COALESCE(MAX(order_nr), 0) + 1 FROM person_fields WHERE company_id = ?), ?, TRUE, ?, ?, ?, ?, ?)",
                vec![Sql::Integer(f.company_id), Sql::Text(f.key.clone()), Sql::Text(f.name.clone()), Sql::Text(f.field_type.as_str().into()), Sql::Integer(f.company_id), b(f.add_visible_flag), Sql::Integer(f.user_id), Sql::Integer(f.user_id), Sql::Integer(f.now.0), Sql::Integer(f.now.0), Sql::Text(json(&f.settings)?)],
            )
            .await?;
            insert_options(&tx, f.company_id, &f.key, &f.options, f.now).await?;
            load_fields(&tx, f.company_id, Some(id))
                .await?
                .pop()
                .ok_or_else(|| StoreError::Internal("inserted field vanished".into()))
        });
        self.fields.forget(&company);
        done
    }

    async fn update_field(
        &self,
        company_id: i64,
        id: i64,
        ch: FieldChanges,
        user_id: i64,
        now: Timestamp,
    ) -> Result<Option<FieldDef>, StoreError> {
        let done = write!(self, |tx| {
            let Some(field) = load_fields(&tx, company_id, Some(id)).await?.pop() else {
                return Ok(None);
            };
            ch.check_options_exist(&field)?;
            if let Some(name) = &ch.name {
                exec(
                    &tx,
                    "UPDATE person_fields SET name = ? WHERE id = ?",
                    vec![Sql::Text(name.clone()), Sql::Integer(id)],
                )
                .await?;
            }
            if let Some(flag) = ch.add_visible_flag {
                exec(
                    &tx,
                    "UPDATE person_fields SET add_visible_flag = ? WHERE id = ?",
                    vec![b(flag), Sql::Integer(id)],
                )
                .await?;
            }
            if let Some(settings) = &ch.settings {
                exec(
                    &tx,
                    "UPDATE person_fields SET settings = ? WHERE id = ?",
                    vec![Sql::Text(json(settings)?), Sql::Integer(id)],
                )
                .await?;
            }
            for (oid, label) in &ch.rename_options {
                exec(
                    &tx,
                    "UPDATE field_options SET label = ?, update_time = ? WHERE id = ?",
                    vec![
                        Sql::Text(label.clone()),
                        Sql::Integer(now.0),
                        Sql::Integer(*oid),
                    ],
                )
                .await?;
            }
            for oid in &ch.delete_options {
                exec(
                    &tx,
                    "UPDATE field_options SET active_flag = FALSE, update_time = ? WHERE id = ?",
                    vec![Sql::Integer(now.0), Sql::Integer(*oid)],
                )
                .await?;
            }
            insert_options(&tx, company_id, &field.key, &ch.add_options, now).await?;
            exec(
                &tx,
                "UPDATE person_fields SET update_time = ?, updated_by_user_id = ? WHERE id = ?",
                vec![Sql::Integer(now.0), Sql::Integer(user_id), Sql::Integer(id)],
            )
            .await?;
            Ok(load_fields(&tx, company_id, Some(id)).await?.pop())
        });
        self.fields.forget(&company_id);
        done
    }

    async fn delete_fields(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        let done = write!(self, |tx| {
            let mut deleted = Vec::new();
            for id in ids {
                let n = exec(&tx, "UPDATE person_fields SET active_flag = FALSE, update_time = ? WHERE company_id = ? AND id = ? AND is_custom AND active_flag", vec![Sql::Integer(now.0), Sql::Integer(company_id), Sql::Integer(id)]).await?;
                if n == 1 {
                    deleted.push(id);
                }
            }
            Ok(deleted)
        });
        self.fields.forget(&company_id);
        done
    }

    async fn insert_organization(&self, o: NewOrganization) -> Result<Organization, StoreError> {
        write!(self, |tx| {
            let search = org_search_text(&o.name, o.address.as_ref());
            let id = insert_id(
                &tx,
                "INSERT INTO organizations (company_id, owner_id, name, address, address_parts, label_ids, visible_to, search_text, active_flag, add_time, update_time, profile)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?)",
                vec![
                    Sql::Integer(o.company_id), Sql::Integer(o.owner_id), Sql::Text(o.name.clone()),
                    o.address.as_ref().map_or(Sql::Null, |a| Sql::Text(a.value.clone())),
                    Sql::Text(json(&o.address.as_ref().map(|a| a.parts.clone()).unwrap_or_default())?),
                    Sql::Text(json(&o.label_ids)?), Sql::Integer(o.visible_to.get()), Sql::Text(search),
                    Sql::Integer(o.add_time.0), Sql::Integer(o.update_time.0),
                    Sql::Text(json(&o.profile)?),
                ],
            )
            .await?;
            follow(
                &tx,
                o.company_id,
                Kind::Organization,
                id,
                o.owner_id,
                o.created_by,
                o.update_time,
            )
            .await?;
            get_org(&tx, o.company_id, id)
                .await?
                .ok_or_else(|| StoreError::Internal("inserted organization vanished".into()))
        })
    }

    async fn organization(
        &self,
        company_id: i64,
        id: i64,
    ) -> Result<Option<Organization>, StoreError> {
        let c = self.client().await?;
        get_org(&c, company_id, id).await
    }

    async fn list_organizations(
        &self,
        company_id: i64,
        q: OrganizationQuery,
    ) -> Result<Vec<Organization>, StoreError> {
        let mut sql = format!(
            "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.company_id = ? AND o.active_flag"
        );
        let mut args = vec![Sql::Integer(company_id)];
        org_filters(&mut sql, &mut args, &q.filter);
        order_and_page(
            &mut sql, &mut args, &q.order, &q.page, q.limit, "o.id", org_sort,
        );
        let c = self.client().await?;
        query_rows(&c, &sql, args, org_row).await
    }

    async fn update_organization(
        &self,
        company_id: i64,
        id: i64,
        ch: OrganizationChanges,
        now: Timestamp,
    ) -> Result<Option<Organization>, StoreError> {
        write!(self, |tx| {
            let Some(current) = get_org(&tx, company_id, id).await?.filter(|o| o.active) else {
                return Ok(None);
            };
            let (sets, mut args) = org_update_sets(&ch, &current, now)?;
            args.push(Sql::Integer(company_id));
            args.push(Sql::Integer(id));
            exec(
                &tx,
                &format!(
                    "UPDATE organizations SET {} WHERE company_id = ? AND id = ?",
                    sets.join(", ")
                ),
                args,
            )
            .await?;
            get_org(&tx, company_id, id).await
        })
    }

    async fn delete_organization(
        &self,
        company_id: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        write!(self, |tx| {
            let n = exec(&tx, "UPDATE organizations SET active_flag = FALSE, delete_time = ?, update_time = ? WHERE company_id = ? AND id = ? AND active_flag", vec![Sql::Integer(now.0), Sql::Integer(now.0), Sql::Integer(company_id), Sql::Integer(id)]).await?;
            if n == 0 {
                return Ok(false);
            }
            exec(&tx, "UPDATE persons SET org_id = NULL, update_time = ? WHERE company_id = ? AND org_id = ?", vec![Sql::Integer(now.0), Sql::Integer(company_id), Sql::Integer(id)]).await?;
            exec(
                &tx,
                "UPDATE organizations SET people_count = 0 WHERE id = ?",
                vec![Sql::Integer(id)],
            )
            .await?;
            Ok(true)
        })
    }

    async fn search_organization_candidates(
        &self,
        company_id: i64,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Organization>, StoreError> {
        let mut sql = format!(
            "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.search_text LIKE ? AND o.company_id = ? AND o.active_flag"
        );
        let mut args = vec![Sql::Text(like(needle)), Sql::Integer(company_id)];
        if let Some(v) = viewer {
            sql.push_str(ORG_VISIBLE);
            args.push(Sql::Integer(v));
            args.push(Sql::Integer(v));
        }
        sql.push_str(&format!(" ORDER BY o.id LIMIT {MAX_SEARCH_CANDIDATES}"));
        let c = self.client().await?;
        query_rows(&c, &sql, args, org_row).await
    }

    async fn org_label_options(&self, company_id: i64) -> Result<Vec<FieldOption>, StoreError> {
        let c = self.client().await?;
        Ok(load_options(&c, company_id, false)
            .await?
            .into_iter()
            .map(|(o, _)| o)
            .filter(|o| o.field_key == ORG_LABEL_KEY)
            .collect())
    }

    async fn followers(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<Follower>, StoreError> {
        let c = self.client().await?;
        query_rows(&c, "SELECT id, item_id, user_id, add_time FROM followers WHERE company_id = ? AND kind = ? AND item_id = ? ORDER BY id", vec![Sql::Integer(company_id), Sql::Text(kind.as_str().into()), Sql::Integer(item_id)], follower_row).await
    }

    async fn add_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        user_id: i64,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError> {
        write!(self, |tx| {
            let Some(id) = follow(&tx, company_id, kind, item_id, user_id, actor, now).await?
            else {
                return Ok(None);
            };
            touch(&tx, kind, item_id, now).await?;
            Ok(Some(Follower {
                id,
                item_id,
                user_id,
                add_time: now,
            }))
        })
    }

    async fn remove_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        which: FollowerRef,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError> {
        write!(self, |tx| {
            let (column, value) = match which {
                FollowerRef::Relationship(id) => ("id", id),
                FollowerRef::User(id) => ("user_id", id),
            };
            let found = query_rows(&tx, &format!("SELECT id, item_id, user_id, add_time FROM followers WHERE company_id = ? AND kind = ? AND item_id = ? AND {column} = ?"), vec![Sql::Integer(company_id), Sql::Text(kind.as_str().into()), Sql::Integer(item_id), Sql::Integer(value)], follower_row).await?.pop();
            let Some(f) = found else { return Ok(None) };
            exec(
                &tx,
                "DELETE FROM followers WHERE id = ?",
                vec![Sql::Integer(f.id)],
            )
            .await?;
            log_follow(
                &tx, company_id, kind, item_id, f.user_id, actor, "removed", now,
            )
            .await?;
            touch(&tx, kind, item_id, now).await?;
            Ok(Some(f))
        })
    }

    async fn follower_changes(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<FollowerChange>, StoreError> {
        let c = self.client().await?;
        query_rows(&c, "SELECT id, action, actor_user_id, user_id, time FROM follower_changes WHERE company_id = ? AND kind = ? AND item_id = ? ORDER BY id", vec![Sql::Integer(company_id), Sql::Text(kind.as_str().into()), Sql::Integer(item_id)], |r| {
            Ok(FollowerChange { id: col(r, 0)?, action: col(r, 1)?, actor_user_id: col(r, 2)?, follower_user_id: col(r, 3)?, time: Timestamp(col(r, 4)?) })
        })
        .await
    }

    async fn organizations_by_ids(
        &self,
        company_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Organization>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.company_id = ? AND o.id IN ({})",
            in_list(ids.len())
        );
        let mut args = vec![Sql::Integer(company_id)];
        args.extend(ids.iter().map(|i| Sql::Integer(*i)));
        let c = self.client().await?;
        query_rows(&c, &sql, args, org_row).await
    }

    async fn insert_person(&self, p: NewPerson) -> Result<Person, StoreError> {
        write!(self, |tx| {
            let id = insert_person_row(&tx, &p).await?;
            get_person(&tx, p.company_id, id)
                .await?
                .ok_or_else(|| StoreError::Internal("inserted person vanished".into()))
        })
    }

    async fn insert_persons(&self, persons: Vec<NewPerson>) -> Result<Vec<i64>, StoreError> {
        write!(self, |tx| {
            let mut ids = Vec::with_capacity(persons.len());
            for p in &persons {
                ids.push(insert_person_row(&tx, p).await?);
            }
            Ok(ids)
        })
    }

    async fn person(&self, company_id: i64, id: i64) -> Result<Option<Person>, StoreError> {
        let c = self.client().await?;
        get_person(&c, company_id, id).await
    }

    async fn list_persons(
        &self,
        company_id: i64,
        q: PersonQuery,
    ) -> Result<Vec<Person>, StoreError> {
        let mut sql = format!(
            "SELECT {PERSON_COLUMNS} FROM persons p WHERE p.company_id = ? AND p.active_flag"
        );
        let mut args = vec![Sql::Integer(company_id)];
        person_filters(&mut sql, &mut args, &q.filter);
        order_and_page(
            &mut sql,
            &mut args,
            &q.order,
            &q.page,
            q.limit,
            "p.id",
            |f| Some(person_sort(f)),
        );
        let c = self.client().await?;
        query_rows(&c, &sql, args, person_row).await
    }

    async fn update_person(
        &self,
        company_id: i64,
        id: i64,
        changes: PersonChanges,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        write!(self, |tx| {
            if !is_active_person(&tx, company_id, id).await? {
                return Ok(None);
            }
            apply_changes(&tx, company_id, id, changes, now)
                .await
                .map(Some)
        })
    }

    async fn delete_persons(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        write!(self, |tx| {
            let mut deleted = Vec::new();
            for id in ids {
                if soft_delete(&tx, company_id, id, now).await? {
                    deleted.push(id);
                }
            }
            Ok(deleted)
        })
    }

    async fn merge_persons(
        &self,
        company_id: i64,
        from: i64,
        into: i64,
        changes: PersonChanges,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        write!(self, |tx| {
            if !is_active_person(&tx, company_id, from).await?
                || !is_active_person(&tx, company_id, into).await?
            {
                return Ok(None);
            }
            let moving: Vec<i64> = query_rows(
                &tx,
                "SELECT user_id FROM followers WHERE kind = 'person' AND item_id = ?",
                vec![Sql::Integer(from)],
                |r| col(r, 0),
            )
            .await?;
            for user in moving {
                follow(&tx, company_id, Kind::Person, into, user, actor, now).await?;
            }
            soft_delete(&tx, company_id, from, now).await?;
            apply_changes(&tx, company_id, into, changes, now)
                .await
                .map(Some)
        })
    }

    async fn persons_by_email(
        &self,
        company_id: i64,
        email: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let mut sql = format!(
            "SELECT {PERSON_COLUMNS} FROM persons p WHERE p.id IN (SELECT person_id FROM person_emails WHERE company_id = ? AND value = ?) AND p.company_id = ? AND p.active_flag"
        );
        let mut args = vec![
            Sql::Integer(company_id),
            Sql::Text(email.to_lowercase()),
            Sql::Integer(company_id),
        ];
        let filter = PersonFilter {
            org_id,
            viewer,
            ..PersonFilter::default()
        };
        person_filters(&mut sql, &mut args, &filter);
        sql.push_str(&format!(" ORDER BY p.id LIMIT {MAX_SEARCH_CANDIDATES}"));
        let c = self.client().await?;
        query_rows(&c, &sql, args, person_row).await
    }

    async fn search_candidates(
        &self,
        company_id: i64,
        needle: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let mut sql = format!(
            "SELECT {PERSON_COLUMNS} FROM persons p WHERE p.search_text LIKE ? AND p.company_id = ? AND p.active_flag"
        );
        let mut args = vec![Sql::Text(like(needle)), Sql::Integer(company_id)];
        let filter = PersonFilter {
            org_id,
            viewer,
            ..PersonFilter::default()
        };
        person_filters(&mut sql, &mut args, &filter);
        sql.push_str(&format!(" ORDER BY p.id LIMIT {MAX_SEARCH_CANDIDATES}"));
        let c = self.client().await?;
        query_rows(&c, &sql, args, person_row).await
    }
}
