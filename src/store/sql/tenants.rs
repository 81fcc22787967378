//! Companies and users: their columns, row mappers and statements.

use super::{Db, FromRow, Row, fields, first, insert_id, sql, vanished};
use crate::domain::fields::LABEL_KEY;
use crate::domain::organization::ORG_LABEL_KEY;
use crate::domain::ports::{NewCompany, NewUser, StoreError};
use crate::domain::user::company_domain;
use crate::domain::{Company, Session, Timestamp, User};

const COMPANY_COLUMNS: &str = "id, name, domain, campaigns_enabled, add_time";

const USER_COLUMNS: &str =
    "id, company_id, name, email, is_admin, active_flag, api_token, add_time, update_time";

impl FromRow for Company {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Company {
            id: r.int(0)?,
            name: r.string(1)?,
            domain: r.string(2)?,
            campaigns_enabled: r.flag(3)?,
            add_time: r.time(4)?,
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
            api_token: r.string(6)?,
            add_time: r.time(7)?,
            update_time: r.time(8)?,
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
    for (order, (key, name, field_type)) in company.person_fields.iter().enumerate() {
        fields::insert_builtin(db, id, key, name, *field_type, order as i64, at).await?;
    }
    for key in [LABEL_KEY, ORG_LABEL_KEY] {
        for (order, (label, color)) in company.person_labels.iter().enumerate() {
            fields::insert_label(db, id, key, label, color, order as i64, at).await?;
        }
    }
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

pub async fn users(db: &impl Db, company_id: i64) -> Result<Vec<User>, StoreError> {
    db.rows(sql!(
        format!("SELECT {USER_COLUMNS} FROM users WHERE company_id = ? ORDER BY id"),
        company_id
    ))
    .await
}

/// The session an active user's token opens.
pub async fn session(db: &impl Db, token: &str) -> Result<Option<Session>, StoreError> {
    let user: Option<User> = first(
        db,
        sql!(
            format!("SELECT {USER_COLUMNS} FROM users WHERE api_token = ? AND active_flag = TRUE"),
            token
        ),
    )
    .await?;
    let Some(user) = user else { return Ok(None) };
    let company = company(db, user.company_id)
        .await?
        .ok_or_else(|| StoreError::Internal("a user without a company".into()))?;
    Ok(Some(Session { company, user }))
}

pub async fn add_user(db: &impl Db, u: &NewUser) -> Result<User, StoreError> {
    let id = insert_id(
        db,
        sql!(
            "INSERT INTO users (company_id, name, email, is_admin, active_flag, api_token, \
             add_time, update_time) VALUES (?, ?, ?, ?, TRUE, ?, ?, ?)",
            u.company_id,
            &u.name,
            &u.email,
            u.is_admin,
            &u.api_token,
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

pub async fn set_api_token(db: &impl Db, user_id: i64, token: &str) -> Result<(), StoreError> {
    db.execute(sql!(
        "UPDATE users SET api_token = ?, update_time = ? WHERE id = ?",
        token,
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
    Ok(())
}
