//! First start and tenant administration: creating companies, users and tokens.
//!
//! The CLI (`pipestack serve`, `users add`, `users token`, `companies …`) and the tests share
//! these. A token is shown once, by the call that makes it: the store keeps only its digest.

use crate::domain::DomainError;
use crate::domain::fields::{FieldType, builtin_fields};
use crate::domain::ports::{Defaults, NewCompany, NewUser, Store};
use crate::domain::user::token_digest;
use crate::domain::{Company, Kind, Timestamp, User, random_hex40};

/// The company a fresh database gets when nobody named one.
pub const DEFAULT_COMPANY: &str = "pipestack";

/// A user and the API token just made for it (shown once: the store keeps only its digest).
#[derive(Debug, Clone)]
pub struct Issued {
    pub user: User,
    pub api_token: String,
}

impl std::ops::Deref for Issued {
    type Target = User;

    fn deref(&self) -> &User {
        &self.user
    }
}

/// What the first start found or made.
#[derive(Debug)]
pub enum Bootstrap {
    /// The database was empty: this company, admin and token were just created.
    Created { company: Company, admin: Issued },
    /// The database already had companies; `admin` is the first company's first admin, with
    /// its token when one was fixed.
    Existing {
        company: Company,
        admin: User,
        token: Option<String>,
    },
}

/// Makes sure the store has a company with an admin; with `fixed_token`, that admin's token is
/// set to it (for scripts and CI that need a known token).
pub async fn bootstrap(
    store: &dyn Store,
    fixed_token: Option<&str>,
) -> Result<Bootstrap, DomainError> {
    if let Some(t) = fixed_token {
        check_token(t)?;
    }
    let companies = store.companies().await?;
    let Some(company) = companies.into_iter().next() else {
        let (company, admin) = add_company(store, DEFAULT_COMPANY, fixed_token).await?;
        return Ok(Bootstrap::Created { company, admin });
    };
    let admin = store
        .users(company.id)
        .await?
        .iter()
        .find(|u| u.is_admin)
        .cloned()
        .ok_or_else(|| {
            DomainError::Internal(format!("company {} has no admin user", company.id))
        })?;
    if let Some(t) = fixed_token {
        store.set_token_digest(admin.id, &token_digest(t)).await?;
    }
    Ok(Bootstrap::Existing {
        company,
        admin,
        token: fixed_token.map(str::to_owned),
    })
}

/// Gives a user a new random token, shown once; the old one stops working at once.
pub async fn new_token(store: &dyn Store, user_id: i64) -> Result<String, DomainError> {
    let token = random_hex40()?;
    if !store
        .set_token_digest(user_id, &token_digest(&token))
        .await?
    {
        return Err(DomainError::NotFound(format!("User {user_id} not found")));
    }
    Ok(token)
}

/// What every company starts with (and gets back when the admin API resets it): the built-in
/// fields and default labels of each kind.
pub fn defaults() -> Defaults {
    Defaults {
        fields: Kind::ALL
            .into_iter()
            .map(|kind| {
                let builtins = builtin_fields(kind)
                    .iter()
                    .filter_map(|(k, n, t)| {
                        Some(((*k).to_owned(), (*n).to_owned(), FieldType::from_name(t)?))
                    })
                    .collect();
                (kind, builtins)
            })
            .collect(),
        labels: Kind::ALL
            .into_iter()
            .map(|kind| {
                let labels = kind
                    .default_labels()
                    .iter()
                    .map(|(l, c)| ((*l).to_owned(), (*c).to_owned()))
                    .collect();
                (kind, labels)
            })
            .collect(),
    }
}

/// Creates a company with its admin user and default person labels.
pub async fn add_company(
    store: &dyn Store,
    name: &str,
    token: Option<&str>,
) -> Result<(Company, Issued), DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    let now = Timestamp::now();
    let token = match token {
        Some(t) => t.to_owned(),
        None => random_hex40()?,
    };
    let company = NewCompany {
        name: name.to_owned(),
        campaigns_enabled: true,
        defaults: defaults(),
        add_time: now,
    };
    let admin = NewUser {
        company_id: 0,
        name: "Admin".into(),
        email: format!("admin@{}.example", slug_host(name)),
        is_admin: true,
        token_digest: token_digest(&token),
        add_time: now,
    };
    let (company, user) = store.add_company(company, admin).await?;
    Ok((
        company,
        Issued {
            user,
            api_token: token,
        },
    ))
}

/// Adds a (non-admin) user to a company, with a fresh token.
pub async fn add_user(
    store: &dyn Store,
    company_id: i64,
    name: &str,
    email: &str,
) -> Result<Issued, DomainError> {
    let (name, email) = (name.trim(), email.trim());
    if name.is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    if !crate::domain::person::is_valid_email(email) {
        return Err(DomainError::invalid("email", "must be an email address"));
    }
    if store.company(company_id).await?.is_none() {
        return Err(DomainError::NotFound(format!(
            "Company {company_id} not found"
        )));
    }
    let token = random_hex40()?;
    let user = NewUser {
        company_id,
        name: name.to_owned(),
        email: email.to_owned(),
        is_admin: false,
        token_digest: token_digest(&token),
        add_time: Timestamp::now(),
    };
    let user = store.add_user(user).await?;
    Ok(Issued {
        user,
        api_token: token,
    })
}

/// A token given by an operator must be usable in a header and a query string.
fn check_token(t: &str) -> Result<(), DomainError> {
    if t.len() < 8
        || t.len() > 128
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(DomainError::invalid(
            "api token",
            "must be 8 to 128 characters of letters, digits, '-' or '_'",
        ));
    }
    Ok(())
}

fn slug_host(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if s.is_empty() { "company".into() } else { s }
}
