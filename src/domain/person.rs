//! Persons: the entity, the command both dialects parse into, and the rules for adding one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::collation::sort_key;
use super::error::DomainError;
use super::fields::{self, Fields};
use super::followers::can_see_person;
use super::ports::Store;
use super::{MarketingStatus, Session, Timestamp, Visibility, values};

/// The longest `name`, `first_name`, `last_name`, email or phone value accepted.
pub const MAX_TEXT: usize = 255;

/// One email address or phone number of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub value: String,
    pub primary: bool,
    pub label: String,
}

/// An email or phone as a dialect parsed it, before the primary rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactInput {
    pub value: String,
    pub primary: Option<bool>,
    /// Already defaulted by the dialect (v1: `""`, v2: `"work"`).
    pub label: String,
}

/// A stored person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub company_id: i64,
    pub owner_id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Contact>,
    pub phones: Vec<Contact>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    /// `None` when never set; shown as `no_consent` where Campaigns is on.
    pub marketing_status: Option<MarketingStatus>,
    /// Whether the one change of marketing status Pipedrive allows has been used.
    pub marketing_changed: bool,
    pub custom_fields: Map<String, Value>,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub delete_time: Option<Timestamp>,
    /// Users following the person.
    pub follower_ids: Vec<i64>,
}

impl Person {
    /// The value of the primary email, if the person has any email.
    pub fn primary_email(&self) -> Option<&str> {
        primary_value(&self.emails)
    }

    pub fn followers_count(&self) -> i64 {
        self.follower_ids.len() as i64
    }

    /// The name and its parts.
    pub fn full_name(&self) -> Name {
        Name {
            name: self.name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }

    /// The lower-cased first character of the name (v1's `first_char`).
    pub fn first_char(&self) -> Option<String> {
        first_char(&self.name)
    }
}

/// What a client asked for when adding (or, later, changing) a person, parsed but not yet
/// checked against the company's data. Both dialects produce this.
#[derive(Debug, Default)]
pub struct PersonDraft {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub owner_id: Option<i64>,
    /// `Some(None)` clears the organization.
    pub org_id: Option<Option<i64>>,
    pub emails: Option<Vec<ContactInput>>,
    pub phones: Option<Vec<ContactInput>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    pub marketing_status: Option<MarketingStatus>,
    pub add_time: Option<Timestamp>,
    /// Custom field values by key, in request order.
    pub custom_fields: Vec<(String, Value)>,
}

/// A person ready to be stored: every rule applied, every reference checked.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub company_id: i64,
    pub owner_id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Contact>,
    pub phones: Vec<Contact>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    pub marketing_status: Option<MarketingStatus>,
    pub custom_fields: Map<String, Value>,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    /// Users who follow the person from its creation (its owner).
    pub followers: Vec<i64>,
    /// The user adding the person.
    pub created_by: i64,
}

/// Changes to a stored person, column by column; `None` leaves a column alone. Derived columns
/// (`primary_email`, `first_char`, the search text) are recomputed by the store from the result.
#[derive(Debug, Default, Clone)]
pub struct PersonChanges {
    pub owner_id: Option<i64>,
    pub org_id: Option<Option<i64>>,
    pub name: Option<Name>,
    pub emails: Option<Vec<Contact>>,
    pub phones: Option<Vec<Contact>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    /// The new status, and whether setting it uses up the one allowed change.
    pub marketing_status: Option<(MarketingStatus, bool)>,
    /// The whole new map of custom values.
    pub custom_fields: Option<Map<String, Value>>,
}

impl PersonChanges {
    /// Drops the changes that set a column to what it already holds, so that sending a person
    /// back as read changes nothing.
    pub fn drop_unchanged(&mut self, current: &Person) {
        if self.owner_id == Some(current.owner_id) {
            self.owner_id = None;
        }
        if self.org_id == Some(current.org_id) {
            self.org_id = None;
        }
        if self.name.as_ref().is_some_and(|n| {
            n.name == current.name
                && n.first_name == current.first_name
                && n.last_name == current.last_name
        }) {
            self.name = None;
        }
        if self.emails.as_ref() == Some(&current.emails) {
            self.emails = None;
        }
        if self.phones.as_ref() == Some(&current.phones) {
            self.phones = None;
        }
        if self.label_ids.as_ref() == Some(&current.label_ids) {
            self.label_ids = None;
        }
        if self.visible_to == Some(current.visible_to) {
            self.visible_to = None;
        }
        if self
            .marketing_status
            .is_some_and(|(s, _)| Some(s) == current.marketing_status)
        {
            self.marketing_status = None;
        }
        if self.custom_fields.as_ref() == Some(&current.custom_fields) {
            self.custom_fields = None;
        }
    }

    /// Whether these change nothing (an update with an empty body).
    pub fn is_empty(&self) -> bool {
        matches!(
            self,
            PersonChanges {
                owner_id: None,
                org_id: None,
                name: None,
                emails: None,
                phones: None,
                label_ids: None,
                visible_to: None,
                marketing_status: None,
                custom_fields: None,
            }
        )
    }
}

/// What the store derives from a person's name and contacts, for sorting, filtering and search.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub keys: SortKeys,
    pub first_char: Option<String>,
    /// Lower-cased name, email values, phone digits and custom values, one per line.
    pub search_text: String,
}

/// What a person's v1 sort orders compare: the sort keys ([`super::collation::sort_key`]) of
/// the name, its parts and the primary email.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKeys {
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
}

impl SortKeys {
    pub fn of(name: &Name, emails: &[Contact]) -> Self {
        let key = |part: &Option<String>| part.as_deref().map(sort_key);
        Self {
            name: sort_key(&name.name),
            first_name: key(&name.first_name),
            last_name: key(&name.last_name),
            primary_email: primary_value(emails).map(sort_key),
        }
    }
}

pub fn derive(
    name: &Name,
    emails: &[Contact],
    phones: &[Contact],
    custom: &Map<String, Value>,
) -> Derived {
    let mut search_text = name.name.to_lowercase();
    for c in emails {
        search_text.push('\n');
        search_text.push_str(&c.value.to_lowercase());
    }
    for c in phones {
        search_text.push('\n');
        search_text.push_str(&digits(&c.value));
    }
    // Every custom text or number: a superset of the searchable ones, which search re-checks.
    for v in custom.values() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Object(o) => match o.get("value") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            },
            _ => continue,
        };
        search_text.push('\n');
        search_text.push_str(&text.to_lowercase());
    }
    Derived {
        keys: SortKeys::of(name, emails),
        first_char: first_char(&name.name),
        search_text,
    }
}

/// The digits of a phone number (`"+1 (555) 12-34"` → `"15551234"`).
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl NewPerson {
    /// The name and its parts.
    pub fn full_name(&self) -> Name {
        Name {
            name: self.name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }

    /// The person as stored with `id`, as a read would return it (for stores that answer a
    /// create without reading the person back).
    pub fn into_person(self, id: i64) -> Person {
        Person {
            id,
            company_id: self.company_id,
            owner_id: self.owner_id,
            org_id: self.org_id,
            name: self.name,
            first_name: self.first_name,
            last_name: self.last_name,
            emails: self.emails,
            phones: self.phones,
            label_ids: self.label_ids,
            visible_to: self.visible_to,
            marketing_status: self.marketing_status,
            marketing_changed: false,
            custom_fields: self.custom_fields,
            active: true,
            add_time: self.add_time,
            update_time: self.update_time,
            delete_time: None,
            follower_ids: self.followers,
        }
    }
}

/// A person's name and its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Splits a full name: the first word is the first name and the rest, however many words, is
/// the last name (`"Jack"` → `Jack`/`null`; `"Anna Maria van Dijk"` → `Anna`/`Maria van Dijk`).
pub fn split_name(name: &str) -> Name {
    let name = name.trim();
    let mut words = name.split_whitespace();
    let first = words.next().map(str::to_owned);
    let rest: Vec<&str> = words.collect();
    Name {
        name: name.to_owned(),
        first_name: first,
        last_name: (!rest.is_empty()).then(|| rest.join(" ")),
    }
}

/// Resolves `name`, `first_name` and `last_name` as Pipedrive does: a `name` is split into its
/// parts, unless parts are also given, which then win for the parts; parts alone make the name
/// by concatenation, and may not both be empty. `Ok(None)` when nothing was given.
pub fn resolve_name(
    name: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<Option<Name>, DomainError> {
    for (field, v) in [("name", name), ("first_name", first), ("last_name", last)] {
        if let Some(v) = v {
            values::max_chars(field, v, MAX_TEXT)?;
        }
    }
    if let Some(name) = name {
        if name.trim().is_empty() {
            return Err(name_must_be_given());
        }
        // Parts given with the name replace the split ones; an empty (or null) part leaves the
        // split one (SDKs send null for every unset key).
        let mut out = split_name(name);
        if let Some(first) = first.and_then(name_part) {
            out.first_name = Some(first);
        }
        if let Some(last) = last.and_then(name_part) {
            out.last_name = Some(last);
        }
        return Ok(Some(out));
    }
    if first.is_none() && last.is_none() {
        return Ok(None);
    }
    let first = first.map(str::trim).unwrap_or("");
    let last = last.map(str::trim).unwrap_or("");
    if first.is_empty() && last.is_empty() {
        return Err(name_must_be_given());
    }
    let name = format!("{first} {last}").trim().to_owned();
    if name.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            "name",
            format!(
                "first_name and last_name make the name, which must be at most {MAX_TEXT} \
                 characters"
            ),
        ));
    }
    Ok(Some(Name {
        name,
        first_name: name_part(first),
        last_name: name_part(last),
    }))
}

/// A first or last name as stored: a missing part is `None`, as for a one-word name.
fn name_part(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The name after an update: a new `name` is split as on create; `first_name` or `last_name`
/// alone replace that part and rebuild the name from both parts.
pub fn resolve_update_name(
    current: &Person,
    name: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<Option<Name>, DomainError> {
    if name.is_some() || (first.is_some() && last.is_some()) {
        return resolve_name(name, first, last);
    }
    if first.is_none() && last.is_none() {
        return Ok(None);
    }
    let first = first.or(current.first_name.as_deref());
    let last = last.or(current.last_name.as_deref());
    resolve_name(None, Some(first.unwrap_or("")), Some(last.unwrap_or("")))
}

pub fn name_must_be_given() -> DomainError {
    DomainError::refused("Name must be given.")
}

/// Applies the primary rule to a list of emails or phones: empty values are dropped (Pipedrive
/// renders "none" as `[{"value":"","primary":true}]`, so a client may echo that back), at most one
/// may be primary, and when none is the first one is.
pub fn normalize_contacts(
    field: &str,
    inputs: Vec<ContactInput>,
) -> Result<Vec<Contact>, DomainError> {
    values::max_items(field, inputs.len(), values::MAX_CONTACTS)?;
    let inputs: Vec<ContactInput> = inputs
        .into_iter()
        .filter(|c| !c.value.trim().is_empty())
        .collect();
    let primaries = inputs.iter().filter(|c| c.primary == Some(true)).count();
    if primaries > 1 {
        return Err(DomainError::invalid(
            field,
            "at most one value can be marked as primary",
        ));
    }
    let mut out = Vec::with_capacity(inputs.len());
    for (i, c) in inputs.into_iter().enumerate() {
        let value = c.value.trim().to_owned();
        values::max_chars(&format!("{field}[{i}].value"), &value, MAX_TEXT)?;
        values::max_chars(&format!("{field}[{i}].label"), &c.label, MAX_TEXT)?;
        let primary = match c.primary {
            Some(p) => p,
            None => primaries == 0 && i == 0,
        };
        out.push(Contact {
            value,
            primary,
            label: c.label,
        });
    }
    Ok(out)
}

pub fn primary_value(contacts: &[Contact]) -> Option<&str> {
    contacts
        .iter()
        .find(|c| c.primary)
        .or(contacts.first())
        .map(|c| c.value.as_str())
}

pub fn first_char(name: &str) -> Option<String> {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_lowercase().collect())
}

/// Whether an address looks deliverable enough for marketing: `local@domain.tld`, no spaces.
pub fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !s.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The marketing status a person gets: only where Campaigns is on, and only with a valid email;
/// otherwise it is not set and reads as `no_consent`.
fn marketing_status_for(
    session: &Session,
    asked: Option<MarketingStatus>,
    emails: &[Contact],
) -> Result<Option<MarketingStatus>, DomainError> {
    if asked.is_some() && !session.company.campaigns_enabled {
        return Err(DomainError::invalid(
            "marketing_status",
            "the Campaigns product is not enabled for this company",
        ));
    }
    let has_valid_email = emails.iter().any(|c| is_valid_email(&c.value));
    Ok(if has_valid_email { asked } else { None })
}

/// A marketing status change on update: only where Campaigns is on; not set without a valid
/// email; and, once a status is set, changed only once: later changes are silently ignored, as
/// Pipedrive does.
fn marketing_change(
    session: &Session,
    current: &Person,
    asked: Option<MarketingStatus>,
    emails: &[Contact],
) -> Result<Option<(MarketingStatus, bool)>, DomainError> {
    let Some(asked) = marketing_status_for(session, asked, emails)? else {
        return Ok(None);
    };
    match current.marketing_status {
        None => Ok(Some((asked, false))),
        Some(now) if now == asked || current.marketing_changed => Ok(None),
        Some(_) => Ok(Some((asked, true))),
    }
}

/// A reference a new or changed person makes to another entity, checked against the store
/// (the API) or against what an import has loaded, after every store-free rule has passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub kind: RefKind,
    pub id: i64,
    /// The 400's message when the reference does not hold.
    pub error: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// An active user of the company.
    User,
    /// An active organization the session's user may see.
    Org,
    /// An active person the session's user may see.
    Person,
}

impl Reference {
    pub fn owner(id: i64) -> Self {
        Self {
            kind: RefKind::User,
            id,
            error: format!("owner_id: user {id} not found or not accessible"),
        }
    }

    pub fn org(id: i64) -> Self {
        Self {
            kind: RefKind::Org,
            id,
            error: format!("org_id: organization {id} not found or not accessible"),
        }
    }

    pub fn fail(&self) -> DomainError {
        DomainError::refused(self.error.clone())
    }
}

/// Checks references against the store.
pub async fn check_references(
    store: &dyn Store,
    session: &Session,
    refs: &[Reference],
) -> Result<(), DomainError> {
    for r in refs {
        let ok = match r.kind {
            RefKind::User => store
                .user(session.company.id, r.id)
                .await?
                .is_some_and(|u| u.active),
            RefKind::Org => {
                match super::organization::active_organization(store, session, r.id).await {
                    Ok(_) => true,
                    Err(DomainError::NotFound(_)) => false,
                    Err(e) => return Err(e),
                }
            }
            RefKind::Person => match active_person(store, session, r.id).await {
                Ok(_) => true,
                Err(DomainError::NotFound(_)) => false,
                Err(e) => return Err(e),
            },
        };
        if !ok {
            return Err(r.fail());
        }
    }
    Ok(())
}

/// Checks that `owner_id` names an active user of the session's company.
pub async fn check_owner(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<i64, DomainError> {
    check_references(store, session, &[Reference::owner(id)]).await?;
    Ok(id)
}

/// Checks that every label id is an option of the company's person label field.
pub fn check_labels(fields: &Fields, ids: Vec<i64>) -> Result<Vec<i64>, DomainError> {
    values::max_items("label_ids", ids.len(), values::MAX_LABELS)?;
    let labels = fields.labels();
    if let Some(missing) = ids.iter().find(|id| !labels.iter().any(|o| o.id == **id)) {
        return Err(DomainError::invalid(
            "label_ids",
            format!("label {missing} is not an option of the person label field"),
        ));
    }
    Ok(ids)
}

/// Checks custom values: every key must name a custom person field of the company and every
/// value fit its type. Returns canonical values (`None` clears) and adds the references that
/// user, org and people values make.
pub fn check_custom_fields(
    fields: &Fields,
    given: Vec<(String, Value)>,
    refs: &mut Vec<Reference>,
    stored: Option<&Map<String, Value>>,
) -> Result<Vec<(String, Option<Value>)>, DomainError> {
    let mut out = Vec::with_capacity(given.len());
    for (key, value) in given {
        let def = fields.custom_by_key(&key).ok_or_else(|| {
            DomainError::invalid(
                &key,
                "no custom person field has this key (see GET /v1/personFields)",
            )
        })?;
        let parsed = fields::parse_value(def, &value)?;
        let unchanged = stored.is_some_and(|s| s.get(&key) == parsed.as_ref());
        if let Some(r) = parsed.as_ref().and_then(|v| fields::reference(def, v))
            && !unchanged
        {
            refs.push(r);
        }
        out.push((key, parsed));
    }
    Ok(out)
}

/// Every rule for a new person that needs no store: the person to insert and the references
/// it makes. The API and the importer both go through here.
pub fn prepare_person(
    session: &Session,
    fields: &Fields,
    draft: PersonDraft,
    now: Timestamp,
) -> Result<(NewPerson, Vec<Reference>), DomainError> {
    let name = resolve_name(
        draft.name.as_deref(),
        draft.first_name.as_deref(),
        draft.last_name.as_deref(),
    )?
    .ok_or_else(name_must_be_given)?;
    let emails = normalize_contacts("email", draft.emails.unwrap_or_default())?;
    let phones = normalize_contacts("phone", draft.phones.unwrap_or_default())?;
    let marketing_status = marketing_status_for(session, draft.marketing_status, &emails)?;
    let mut refs = Vec::new();
    let owner_id = match draft.owner_id {
        Some(id) => {
            refs.push(Reference::owner(id));
            id
        }
        None => session.user.id,
    };
    let org_id = draft.org_id.flatten();
    if let Some(id) = org_id {
        refs.push(Reference::org(id));
    }
    let label_ids = check_labels(fields, draft.label_ids.unwrap_or_default())?;
    let custom_fields = check_custom_fields(fields, draft.custom_fields, &mut refs, None)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let new = NewPerson {
        company_id: session.company.id,
        owner_id,
        org_id,
        name: name.name,
        first_name: name.first_name,
        last_name: name.last_name,
        emails,
        phones,
        label_ids,
        visible_to: draft.visible_to.unwrap_or(Visibility::DEFAULT),
        marketing_status,
        custom_fields,
        add_time: draft.add_time.unwrap_or(now),
        update_time: now,
        followers: vec![owner_id],
        created_by: session.user.id,
    };
    Ok((new, refs))
}

/// Adds a person: the one implementation behind v1 `POST /persons` and v2 `POST /persons`.
pub async fn add_person(
    store: &dyn Store,
    session: &Session,
    draft: PersonDraft,
) -> Result<Person, DomainError> {
    let fields = Fields::load(store, session.company.id).await?;
    let (new, refs) = prepare_person(session, &fields, draft, Timestamp::now())?;
    check_references(store, session, &refs).await?;
    Ok(store.insert_person(new).await?)
}

pub fn person_not_found() -> DomainError {
    DomainError::NotFound("Person not found".into())
}

/// A person of the session's company that its user may see (deleted ones too), or 404: a
/// person one may not see is answered exactly like one that does not exist.
pub async fn find_person(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Person, DomainError> {
    store
        .person(session.company.id, id)
        .await?
        .filter(|p| can_see_person(session, p))
        .ok_or_else(person_not_found)
}

/// Like [`find_person`], but not deleted.
pub async fn active_person(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Person, DomainError> {
    find_person(store, session, id).await.and_then(|p| {
        if p.active {
            Ok(p)
        } else {
            Err(person_not_found())
        }
    })
}

/// Changes a person: the one implementation behind v1 `PUT` and v2 `PATCH`. Absent fields are
/// left alone; lists (emails, phones, labels) are replaced whole; `update_time` always moves.
///
/// `current` is the person as found by [`active_person`]: callers look the person up before
/// they read the body, so a person one may not see is a 404 whatever the body says.
pub async fn update_person(
    store: &dyn Store,
    session: &Session,
    current: Person,
    draft: PersonDraft,
) -> Result<Person, DomainError> {
    let id = current.id;
    if draft.add_time.is_some() {
        return Err(DomainError::invalid(
            "add_time",
            "can only be set when the person is added",
        ));
    }
    let mut changes = PersonChanges {
        name: resolve_update_name(
            &current,
            draft.name.as_deref(),
            draft.first_name.as_deref(),
            draft.last_name.as_deref(),
        )?,
        emails: draft
            .emails
            .map(|e| normalize_contacts("email", e))
            .transpose()?,
        phones: draft
            .phones
            .map(|p| normalize_contacts("phone", p))
            .transpose()?,
        visible_to: draft.visible_to,
        ..PersonChanges::default()
    };
    let emails = changes.emails.as_deref().unwrap_or(&current.emails);
    changes.marketing_status = marketing_change(session, &current, draft.marketing_status, emails)?;
    let mut refs = Vec::new();
    // Sending back the current owner or organization changes nothing, so it is not checked
    // again (a read-modify-write client must not fail because that owner was deactivated);
    // the same holds for custom values that refer to users, organizations or persons.
    if let Some(owner) = draft.owner_id.filter(|o| *o != current.owner_id) {
        refs.push(Reference::owner(owner));
        changes.owner_id = Some(owner);
    }
    if let Some(org) = draft.org_id.filter(|o| *o != current.org_id) {
        if let Some(id) = org {
            refs.push(Reference::org(id));
        }
        changes.org_id = Some(org);
    }
    let fields = Fields::load(store, session.company.id).await?;
    if let Some(labels) = draft.label_ids {
        changes.label_ids = Some(check_labels(&fields, labels)?);
    }
    if !draft.custom_fields.is_empty() {
        let given = draft
            .custom_fields
            .into_iter()
            .map(|(key, value)| match fields.custom_by_key(&key) {
                Some(def) => {
                    let value = fields::merge_update(def, current.custom_fields.get(&key), value);
                    (key, value)
                }
                None => (key, value),
            })
            .collect();
        let given = check_custom_fields(&fields, given, &mut refs, Some(&current.custom_fields))?;
        let mut merged = current.custom_fields.clone();
        for (key, value) in given {
            match value {
                Some(v) => merged.insert(key, v),
                None => merged.remove(&key),
            };
        }
        changes.custom_fields = Some(merged);
    }
    check_references(store, session, &refs).await?;
    changes.drop_unchanged(&current);
    if changes.is_empty() {
        // Nothing to change: no write, and `update_time` stays (syncs by `updated_since` must
        // not see an untouched person again).
        return Ok(current);
    }
    store
        .update_person(session.company.id, id, changes, Timestamp::now())
        .await?
        .ok_or_else(person_not_found)
}

/// Soft-deletes persons: they stay readable by id (`active_flag: false`, `is_deleted: true`)
/// and leave lists, search and counts. Returns the ids that were deleted now; ids that are
/// unknown, of another company or already deleted are skipped.
pub async fn delete_persons(
    store: &dyn Store,
    session: &Session,
    ids: &[i64],
) -> Result<Vec<i64>, DomainError> {
    let mut visible = Vec::with_capacity(ids.len());
    for id in ids {
        if active_person(store, session, *id).await.is_ok() {
            visible.push(*id);
        }
    }
    Ok(store
        .delete_persons(session.company.id, &visible, Timestamp::now())
        .await?)
}

/// Merges person `id` into `merge_with_id`, which is kept and wins every conflict: its name,
/// owner and visibility stay; its organization, marketing status and custom values stay where
/// set and are filled from the other where not; emails, phones, labels and followers are united.
/// Person `id` is deleted.
pub async fn merge_persons(
    store: &dyn Store,
    session: &Session,
    from: Person,
    merge_with_id: i64,
) -> Result<Person, DomainError> {
    let id = from.id;
    if id == merge_with_id {
        return Err(DomainError::invalid(
            "merge_with_id",
            "a person cannot be merged with itself",
        ));
    }
    let into = active_person(store, session, merge_with_id)
        .await
        .map_err(|_| {
            DomainError::invalid("merge_with_id", format!("person {merge_with_id} not found"))
        })?;
    let mut custom = from.custom_fields.clone();
    custom.extend(into.custom_fields.clone());
    let mut labels = into.label_ids.clone();
    labels.extend(
        from.label_ids
            .iter()
            .filter(|l| !into.label_ids.contains(l)),
    );
    let changes = PersonChanges {
        org_id: Some(into.org_id.or(from.org_id)),
        emails: Some(unite(&into.emails, &from.emails, |v| v.to_lowercase())),
        phones: Some(unite(&into.phones, &from.phones, digits)),
        label_ids: Some(labels),
        marketing_status: match (into.marketing_status, from.marketing_status) {
            (None, Some(s)) => Some((s, from.marketing_changed)),
            _ => None,
        },
        custom_fields: Some(custom),
        ..PersonChanges::default()
    };
    store
        .merge_persons(
            session.company.id,
            id,
            merge_with_id,
            changes,
            session.user.id,
            Timestamp::now(),
        )
        .await?
        .ok_or_else(person_not_found)
}

/// `keep` followed by the values of `add` that `keep` lacks (compared by `key`); `keep`'s
/// primary stays primary.
fn unite(keep: &[Contact], add: &[Contact], key: impl Fn(&str) -> String) -> Vec<Contact> {
    let mut out = keep.to_vec();
    for c in add {
        if !out.iter().any(|k| key(&k.value) == key(&c.value)) {
            out.push(Contact {
                primary: false,
                ..c.clone()
            });
        }
    }
    if !out.is_empty() && !out.iter().any(|c| c.primary) {
        out[0].primary = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: &str, primary: Option<bool>) -> ContactInput {
        ContactInput {
            value: value.into(),
            primary,
            label: String::new(),
        }
    }

    #[test]
    fn one_word_names_have_no_last_name() {
        let n = split_name("Jack");
        assert_eq!(n.first_name.as_deref(), Some("Jack"));
        assert_eq!(n.last_name, None);
    }

    #[test]
    fn the_last_name_is_everything_after_the_first_word() {
        let n = split_name("  Anna   Maria van Dijk ");
        assert_eq!(n.name, "Anna   Maria van Dijk");
        assert_eq!(n.first_name.as_deref(), Some("Anna"));
        assert_eq!(n.last_name.as_deref(), Some("Maria van Dijk"));
    }

    #[test]
    fn parts_alone_make_the_name() {
        let n = resolve_name(None, Some("Will"), Some("Smith"))
            .unwrap()
            .unwrap();
        assert_eq!(n.name, "Will Smith");
        assert!(resolve_name(None, Some(""), Some(" ")).is_err());
        assert!(resolve_name(Some(" "), None, None).is_err());
        assert_eq!(resolve_name(None, None, None).unwrap(), None);
    }

    #[test]
    fn the_first_contact_is_primary_when_none_is_marked() {
        let c = normalize_contacts("email", vec![input("a@x.io", None), input("b@x.io", None)])
            .unwrap();
        assert!(c[0].primary && !c[1].primary);
        let c = normalize_contacts(
            "email",
            vec![input("a@x.io", None), input("b@x.io", Some(true))],
        )
        .unwrap();
        assert!(!c[0].primary && c[1].primary);
    }

    #[test]
    fn two_primaries_are_refused_and_empty_values_dropped() {
        assert!(
            normalize_contacts(
                "email",
                vec![input("a", Some(true)), input("b", Some(true))]
            )
            .is_err()
        );
        assert!(
            normalize_contacts("email", vec![input("", Some(true))])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn email_validity_for_marketing() {
        assert!(is_valid_email("john.doe@example.com"));
        for bad in [
            "",
            "john",
            "john@",
            "@example.com",
            "john@localhost",
            "jo hn@x.io",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
