//! Companies and users: their columns, row mappers and statements.

use super::{Db, FromRow, Row, fields, first, insert_id, sql, vanished};
use crate::domain::ports::{Defaults, NewCompany, NewUser, StoreError};
use crate::domain::user::{company_domain, digests_match, token_digest};
use crate::domain::{Clock, Company, Session, Timestamp, User};

const COMPANY_COLUMNS: &str = "id, name, domain, campaigns_enabled, add_time, country, industry, clock_offset_ms, clock_frozen_ms";

const USER_COLUMNS: &str =
    "id, company_id, name, email, is_admin, active_flag, add_time, update_time, last_login";

impl FromRow for Company {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Company {
            id: r.int(0)?,
            name: r.string(1)?,
            domain: r.string(2)?,
            campaigns_enabled: r.flag(3)?,
            add_time: r.time(4)?,
            country: r.string(5)?,
            industry: r.string(6)?,
            clock: Clock {
                offset_ms: r.int(7)?,
                frozen_ms: r.opt_int(8)?,
            },
        })
    }
}

impl FromRow for User {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(User {
            id: r.int(0)?,
            company_id: r.int(1)?,
            name: r.string(2)?,
            email: r.string(3)?,
            is_admin: r.flag(4)?,
            active: r.flag(5)?,
            add_time: r.time(6)?,
            update_time: r.time(7)?,
            last_login: r.opt_time(8)?,
        })
    }
}

pub async fn company(db: &impl Db, id: i64) -> Result<Option<Company>, StoreError> {
    first(
        db,
        sql!(
            format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = ?"),
            id
        ),
    )
    .await
}

impl FromRow for Clock {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Clock {
            offset_ms: r.int(0)?,
            frozen_ms: r.opt_int(1)?,
        })
    }
}

/// A company's clock (real time for a company that is gone).
pub async fn clock(db: &impl Db, company_id: i64) -> Result<Clock, StoreError> {
    let clock = first(
        db,
        sql!(
            "SELECT clock_offset_ms, clock_frozen_ms FROM companies WHERE id = ?",
            company_id
        ),
    )
    .await?;
    Ok(clock.unwrap_or_default())
}

/// Sets a company's clock; whether the company exists.
pub async fn set_clock(db: &impl Db, company_id: i64, clock: Clock) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE companies SET clock_offset_ms = ?, clock_frozen_ms = ? WHERE id = ?",
            clock.offset_ms,
            clock.frozen_ms,
            company_id
        ))
        .await?;
    Ok(n == 1)
}

pub async fn companies(db: &impl Db) -> Result<Vec<Company>, StoreError> {
    db.rows(sql!(format!(
        "SELECT {COMPANY_COLUMNS} FROM companies ORDER BY id"
    )))
    .await
}

/// A company with its built-in person fields, the default labels of persons and
/// organizations, and its admin.
pub async fn add_company(
    db: &impl Db,
    company: NewCompany,
    admin: NewUser,
) -> Result<(Company, User), StoreError> {
    let at = company.add_time;
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO companies (name, domain, campaigns_enabled, add_time) VALUES (?, '', ?, ?) \
            ",
            &company.name,
            company.campaigns_enabled,
            at
        ),
    )
    .await?;
    db.execute(sql!(
        "UPDATE companies SET domain = ? WHERE id = ?",
        company_domain(&company.name, id),
        id
    ))
    .await?;
    add_defaults(db, id, &company.defaults, at).await?;
    let user = add_user(
        db,
        &NewUser {
            company_id: id,
            ..admin
        },
    )
    .await?;
    let company = self::company(db, id)
        .await?
        .ok_or_else(|| vanished("company"))?;
    Ok((company, user))
}

/// What a company starts with: built-in fields, default labels, pipeline and activity types.
pub async fn add_defaults(
    db: &impl Db,
    company_id: i64,
    defaults: &Defaults,
    at: Timestamp,
) -> Result<(), StoreError> {
    for (kind, builtins) in &defaults.fields {
        let labels = defaults
            .labels
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(&[][..], |(_, l)| l.as_slice());
        fields::add_builtins(db, company_id, *kind, builtins, labels, at).await?;
    }
    super::pipelines::add_defaults(db, company_id, at).await?;
    super::activities::add_defaults(db, company_id, at).await?;
    Ok(())
}

pub async fn set_campaigns(
    db: &impl Db,
    company_id: i64,
    enabled: bool,
) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE companies SET campaigns_enabled = ? WHERE id = ?",
            enabled,
            company_id
        ))
        .await?;
    Ok(n == 1)
}

pub async fn user(db: &impl Db, company_id: i64, id: i64) -> Result<Option<User>, StoreError> {
    first(
        db,
        sql!(
            format!("SELECT {USER_COLUMNS} FROM users WHERE company_id = ? AND id = ?"),
            company_id,
            id
        ),
    )
    .await
}

/// A user by id, of whichever company.
pub async fn user_by_id(db: &impl Db, id: i64) -> Result<Option<User>, StoreError> {
    first(
        db,
        sql!(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"), id),
    )
    .await
}

pub async fn users(db: &impl Db, company_id: i64) -> Result<Vec<User>, StoreError> {
    db.rows(sql!(
        format!("SELECT {USER_COLUMNS} FROM users WHERE company_id = ? ORDER BY id"),
        company_id
    ))
    .await
}

/// A user with the digest of its token, as the session lookup reads it.
struct Holder(User, String);

impl FromRow for Holder {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Holder(User::from_row(r)?, r.string(9)?))
    }
}

/// The session of the active user whose token has `digest`. The index finds the row by the
/// digest; the digests are then compared again in constant time.
pub async fn session(db: &impl Db, digest: &str) -> Result<Option<Session>, StoreError> {
    let holder: Option<Holder> = first(
        db,
        sql!(
            format!(
                "SELECT {USER_COLUMNS}, api_token_sha256 FROM users \
                 WHERE api_token_sha256 = ? AND active_flag = TRUE"
            ),
            digest
        ),
    )
    .await?;
    let Some(Holder(user, _)) = holder.filter(|h| digests_match(&h.1, digest)) else {
        return Ok(None);
    };
    let company = company(db, user.company_id)
        .await?
        .ok_or_else(|| StoreError::Internal("a user without a company".into()))?;
    Ok(Some(Session {
        company,
        user,
        source: Default::default(),
    }))
}

pub async fn add_user(db: &impl Db, u: &NewUser) -> Result<User, StoreError> {
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO users (company_id, name, email, is_admin, active_flag, \
             api_token_sha256, add_time, update_time) VALUES (?, ?, ?, ?, TRUE, ?, ?, ?)",
            u.company_id,
            &u.name,
            &u.email,
            u.is_admin,
            &u.token_digest,
            u.add_time,
            u.add_time
        ),
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "email: a user with the email {} already exists in this company",
            u.email
        )),
        other => other,
    })?;
    user(db, u.company_id, id)
        .await?
        .ok_or_else(|| vanished("user"))
}

pub async fn set_user_active(db: &impl Db, user_id: i64, active: bool) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE users SET active_flag = ?, update_time = ? WHERE id = ?",
            active,
            Timestamp::now(),
            user_id
        ))
        .await?;
    Ok(n == 1)
}

pub async fn set_token_digest(
    db: &impl Db,
    user_id: i64,
    digest: &str,
) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE users SET api_token_sha256 = ?, update_time = ? WHERE id = ?",
            digest,
            Timestamp::now(),
            user_id
        ))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict("api token: already used by another user".into())
            }
            other => other,
        })?;
    Ok(n == 1)
}

pub async fn record_login(
    db: &impl Db,
    company_id: i64,
    user_id: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE users SET last_login = ? WHERE company_id = ? AND id = ?",
        at,
        company_id,
        user_id
    ))
    .await?;
    Ok(())
}

pub async fn set_company_profile(
    db: &impl Db,
    company_id: i64,
    country: &str,
    industry: &str,
) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "UPDATE companies SET country = ?, industry = ? WHERE id = ?",
            country,
            industry,
            company_id
        ))
        .await?;
    Ok(n == 1)
}

/// Keeps every token as its digest (the migration that renames the column holds the tokens
/// themselves until this runs).
pub async fn fill_token_digests(db: &impl Db) -> Result<(), StoreError> {
    let held: Vec<(i64, String)> = db
        .rows(sql!("SELECT id, api_token_sha256 FROM users ORDER BY id"))
        .await?;
    for (id, token) in held {
        db.execute(sql!(
            "UPDATE users SET api_token_sha256 = ? WHERE id = ?",
            token_digest(&token),
            id
        ))
        .await?;
    }
    Ok(())
}
