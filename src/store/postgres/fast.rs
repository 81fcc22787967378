//! What PostgreSQL earns over the SQL core's statement-by-statement path: a person inserted
//! in one statement, one round trip, with its email index rows, its organization's count and
//! its followers (whose addition their rows keep, see `followers::follow_new`).

use tokio_postgres::types::ToSql;

use super::db::{PgDb, number, pg_error};
use crate::domain::ports::StoreError;
use crate::store::sql::persons::PreparedPerson;

pub async fn insert_person(db: &PgDb, prepared: &PreparedPerson) -> Result<i64, StoreError> {
    let row = prepared.insert();
    let n = row.args.len();
    let sql = format!(
        "WITH p AS ({} RETURNING id), e AS (
            INSERT INTO person_emails (company_id, value, person_id)
            SELECT ${c}, v, p.id FROM p, unnest(${emails}::text[]) AS v
        ), o AS (
            UPDATE organizations SET people_count = people_count + 1 WHERE id = ${org}
        ), f AS (
            INSERT INTO followers (company_id, kind, item_id, user_id, add_time, unlogged_actor)
            SELECT ${c}, 'person', p.id, u, ${at}, ${actor} FROM p,
                unnest(${followers}::bigint[]) AS u
            ON CONFLICT DO NOTHING
        )
        SELECT id FROM p",
        number(&row.sql),
        c = n + 1,
        org = n + 2,
        at = n + 3,
        actor = n + 4,
        emails = n + 5,
        followers = n + 6,
    );
    let p = &prepared.new;
    let emails: Vec<String> = p.emails.iter().map(|e| e.value.to_lowercase()).collect();
    let mut args: Vec<&(dyn ToSql + Sync)> =
        row.args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
    args.extend([
        &p.company_id as &(dyn ToSql + Sync),
        &p.org_id,
        &p.update_time.0,
        &p.created_by,
        &emails,
        &p.followers,
    ]);
    let stmt = db.prepared(&sql).await?;
    let row = db
        .client()?
        .query_one(&stmt, &args)
        .await
        .map_err(pg_error)?;
    row.try_get(0)
        .map_err(|e| StoreError::Internal(format!("inserted person id: {e}")))
}
