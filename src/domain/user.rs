//! Companies (tenants), their users, and the session a token opens.

use sha2::{Digest, Sha256};

use super::webhook::ChangeSource;
use super::{Clock, DomainError, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub id: i64,
    pub name: String,
    /// The company's subdomain-style slug (`acme-1a2b`), used in `cc_email` and `/users/me`.
    pub domain: String,
    /// Whether the company uses the Campaigns product: decides whether `marketing_status` is
    /// accepted and returned.
    pub campaigns_enabled: bool,
    /// Where the company is (a country code, `/users/me`'s `company_country`).
    pub country: String,
    /// What the company does (`/users/me`'s `company_industry`).
    pub industry: String,
    pub add_time: Timestamp,
    /// The company's clock: real time unless a test moved it.
    pub clock: Clock,
}

impl Company {
    /// The Smart BCC address Pipedrive shows as `cc_email` on persons and organizations.
    pub fn cc_email(&self) -> String {
        format!("{}@pipedrivemail.com", self.domain)
    }

    /// A deal's own Bcc address: the company's, with `+deal<id>`.
    pub fn deal_cc_email(&self, deal_id: i64) -> String {
        format!("{}+deal{deal_id}@pipedrivemail.com", self.domain)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    /// When the user's token last opened a session (to the minute); `None` before it ever did.
    pub last_login: Option<Timestamp>,
}

/// How an API token is kept: its SHA-256, in hex. The token itself is shown once, when it is
/// made, and never stored, so a copy of the database opens no session.
pub fn token_digest(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for b in Sha256::digest(token.as_bytes()) {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 15)]));
    }
    hex
}

/// Whether two digests are equal, in time that does not depend on where they first differ.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The company and user an API token belongs to: every request runs as one, through the API
/// or the web app.
#[derive(Debug, Clone)]
pub struct Session {
    pub company: Company,
    pub user: User,
    pub source: ChangeSource,
}

impl Session {
    /// Now, by the company's clock.
    pub fn now(&self) -> Timestamp {
        self.company.clock.now()
    }

    /// Managing the company's setup (fields, pipelines, stages) is for admins, as in Pipedrive.
    pub fn require_admin(&self) -> Result<(), DomainError> {
        if self.user.is_admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "You do not have permissions to do this.".into(),
            ))
        }
    }
}

/// Makes a company slug from its name: lowercase ASCII words joined by `-`, plus the id.
pub fn company_domain(name: &str, id: i64) -> String {
    let mut slug = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        slug.push_str("company");
    }
    format!("{slug}-{id}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_kept_as_their_sha256() {
        assert_eq!(
            super::token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(super::digests_match("ab", "ab"));
        assert!(!super::digests_match("ab", "ac"));
        assert!(!super::digests_match("ab", "abc"));
    }

    #[test]
    fn company_domain_is_a_slug_with_the_id() {
        assert_eq!(
            super::company_domain("Acme & Sons, Ltd.", 7),
            "acme-sons-ltd-7"
        );
        assert_eq!(super::company_domain("Ülo", 2), "lo-2");
        assert_eq!(super::company_domain("!!!", 3), "company-3");
    }
}
