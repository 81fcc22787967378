//! v1 shapes: persons, organizations and users as Pipedrive's legacy API writes them, and the
//! `related_objects` that go with them.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::domain::fields::{self, FieldDef, FieldType, Fields};
use crate::domain::organization::{self, Organization};
use crate::domain::person::{Contact, Person};
use crate::domain::summary::{self, Summary};
use crate::domain::{Company, Kind, Session, User};
use crate::error::ApiError;
use crate::store::Store;

/// Everything a page of persons refers to: its company, the users and organizations named, and
/// the company's custom fields (rendered as root keys, `null` when empty).
pub struct Related {
    pub company: Company,
    pub users: BTreeMap<i64, User>,
    pub orgs: BTreeMap<i64, Organization>,
    pub fields: Fields,
    /// The persons' summaries: deal and activity counts, next and last activity, notes (a
    /// person with nothing attached is absent).
    pub summaries: HashMap<i64, Summary>,
}

impl Related {
    /// Loads what `persons` refer to: their owners, their organizations and those
    /// organizations' owners.
    pub async fn load(
        store: &dyn Store,
        session: &Session,
        persons: &[&Person],
    ) -> Result<Self, ApiError> {
        let mut related = Self::load_added(store, session, persons).await?;
        let ids: Vec<i64> = persons.iter().map(|p| p.id).collect();
        related.summaries =
            summary::summaries(store, session, Kind::Person, &ids, (true, true)).await?;
        Ok(related)
    }

    /// [`load`](Self::load) for persons just added: nothing can be attached to a person before
    /// their id exists (no deal, activity or follower of another user), so their summaries are
    /// all 0 without reading them.
    pub async fn load_added(
        store: &dyn Store,
        session: &Session,
        persons: &[&Person],
    ) -> Result<Self, ApiError> {
        Self::of(
            store,
            session,
            persons.iter().map(|p| p.owner_id).collect(),
            persons.iter().filter_map(|p| p.org_id).collect(),
        )
        .await
    }

    /// What persons owned by `owners` and in `orgs` refer to, without their summaries.
    pub async fn of(
        store: &dyn Store,
        session: &Session,
        owners: Vec<i64>,
        orgs: Vec<i64>,
    ) -> Result<Self, ApiError> {
        let company_id = session.company.id;
        let orgs = organization::visible_by_ids(store, session, orgs).await?;
        let wanted: Vec<i64> = owners
            .into_iter()
            .chain(orgs.values().map(|o| o.owner_id))
            .collect();
        let users = store
            .users(company_id)
            .await?
            .iter()
            .filter(|u| wanted.contains(&u.id))
            .map(|u| (u.id, u.clone()))
            .collect();
        Ok(Self {
            company: session.company.clone(),
            users,
            orgs,
            fields: Fields::load(store, Kind::Person, company_id).await?,
            summaries: HashMap::new(),
        })
    }

    /// `related_objects`: `user` and (when any) `organization`, keyed by id as a string.
    pub fn objects(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if !self.orgs.is_empty() {
            let orgs = self
                .orgs
                .values()
                .map(|o| (o.id.to_string(), json!(org_related(o, &self.company))))
                .collect();
            out.insert("organization".into(), Value::Object(orgs));
        }
        let users = self
            .users
            .values()
            .map(|u| (u.id.to_string(), json!(user_brief(u))))
            .collect();
        out.insert("user".into(), Value::Object(users));
        out
    }
}

/// A user as `related_objects.user` shows it, and (with `value`) as a person's or
/// organization's `owner_id` shows it.
#[derive(Serialize)]
pub struct UserBrief<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    has_pic: u8,
    pic_hash: Option<&'a str>,
    active_flag: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<i64>,
}

/// A user as `related_objects.user` shows it.
pub fn user_brief(u: &User) -> UserBrief<'_> {
    UserBrief {
        id: u.id,
        name: &u.name,
        email: &u.email,
        has_pic: 0,
        pic_hash: None,
        active_flag: u.active,
        value: None,
    }
}

/// A user as a person's or organization's `owner_id` shows it: the brief form plus `value`.
pub fn owner_object(u: &User) -> UserBrief<'_> {
    UserBrief {
        value: Some(u.id),
        ..user_brief(u)
    }
}

/// An organization as a person's `org_id` (with `value`) or `related_objects.organization`
/// (with `id`) shows it.
#[derive(Serialize)]
pub struct OrgBrief<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    name: &'a str,
    people_count: i64,
    owner_id: i64,
    address: &'a Option<String>,
    active_flag: bool,
    cc_email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<i64>,
}

/// An organization as a person's `org_id` shows it.
pub fn org_reference<'a>(o: &'a Organization, company: &Company) -> OrgBrief<'a> {
    OrgBrief {
        id: None,
        value: Some(o.id),
        ..org_related(o, company)
    }
}

/// An organization as `related_objects.organization` shows it.
pub fn org_related<'a>(o: &'a Organization, company: &Company) -> OrgBrief<'a> {
    OrgBrief {
        id: Some(o.id),
        name: &o.name,
        people_count: o.people_count,
        owner_id: o.owner_id,
        address: &o.address,
        active_flag: o.active,
        cc_email: company.cc_email(),
        value: None,
    }
}

/// The counts before `followers_count`, in the seed's order: the deal, activity and note
/// counts (live), and those of mail and files, which pipestack does not store, so truly zero.
const COUNTS_BEFORE_FOLLOWERS: [&str; 12] = [
    "open_deals_count",
    "related_open_deals_count",
    "closed_deals_count",
    "related_closed_deals_count",
    "participant_open_deals_count",
    "participant_closed_deals_count",
    "email_messages_count",
    "activities_count",
    "done_activities_count",
    "undone_activities_count",
    "files_count",
    "notes_count",
];
const COUNTS_AFTER_FOLLOWERS: [&str; 5] = [
    "won_deals_count",
    "related_won_deals_count",
    "lost_deals_count",
    "related_lost_deals_count",
    "reference_activities_count",
];
/// The next and last activity keys (live), and the mail ones Pipedrive fills from mail
/// pipestack does not store (`null`).
const ACTIVITY_AND_MAIL: [&str; 7] = [
    "next_activity_date",
    "next_activity_time",
    "next_activity_id",
    "last_activity_id",
    "last_activity_date",
    "last_incoming_mail_time",
    "last_outgoing_mail_time",
];

/// v1 email/phone lists: never empty; "none" is `[{"value":"","primary":true}]`.
pub struct Contacts<'a>(pub &'a [Contact]);

impl Serialize for Contacts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct NoContact {
            value: &'static str,
            primary: bool,
        }
        if self.0.is_empty() {
            return [NoContact {
                value: "",
                primary: true,
            }]
            .serialize(s);
        }
        self.0.serialize(s)
    }
}

/// A person in the v1 shape, key for key as the seed's response. Serialized straight to the
/// response body (no intermediate `Value`: a list page renders a hundred of these).
pub struct PersonV1<'a> {
    p: &'a Person,
    rel: &'a Related,
}

/// The v1 shape of `p`; `serde_json::to_value` of it where a handler needs to change keys.
pub fn person<'a>(p: &'a Person, rel: &'a Related) -> PersonV1<'a> {
    PersonV1 { p, rel }
}

impl Serialize for PersonV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let PersonV1 { p, rel } = *self;
        let owner = rel.users.get(&p.owner_id);
        let org = p.org_id.and_then(|id| rel.orgs.get(&id));
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &p.id)?;
        m.serialize_entry("company_id", &p.company_id)?;
        match owner {
            Some(u) => m.serialize_entry("owner_id", &owner_object(u))?,
            None => m.serialize_entry("owner_id", &p.owner_id)?,
        }
        match org {
            Some(o) => m.serialize_entry("org_id", &org_reference(o, &rel.company))?,
            None => m.serialize_entry("org_id", &p.org_id)?,
        }
        m.serialize_entry("name", &p.name)?;
        m.serialize_entry("first_name", &p.first_name)?;
        m.serialize_entry("last_name", &p.last_name)?;
        let none = Summary::default();
        let summary = rel.summaries.get(&p.id).unwrap_or(&none);
        let count = |key: &str| summary.get(key).unwrap_or_else(|| Value::from(0));
        for key in COUNTS_BEFORE_FOLLOWERS {
            m.serialize_entry(key, &count(key))?;
        }
        m.serialize_entry("followers_count", &p.followers_count())?;
        for key in COUNTS_AFTER_FOLLOWERS {
            m.serialize_entry(key, &count(key))?;
        }
        m.serialize_entry("active_flag", &p.active)?;
        m.serialize_entry("phone", &Contacts(&p.phones))?;
        m.serialize_entry("email", &Contacts(&p.emails))?;
        m.serialize_entry("primary_email", &p.primary_email())?;
        m.serialize_entry("first_char", &p.first_char())?;
        m.serialize_entry("update_time", &p.update_time.v1())?;
        m.serialize_entry("add_time", &p.add_time.v1())?;
        m.serialize_entry("delete_time", &p.delete_time.map(|t| t.v1()))?;
        m.serialize_entry("visible_to", &p.visible_to.get().to_string())?;
        if rel.company.campaigns_enabled {
            let status = p
                .marketing_status
                .unwrap_or(crate::domain::MarketingStatus::NoConsent);
            m.serialize_entry("marketing_status", status.as_str())?;
        }
        m.serialize_entry("picture_id", &())?;
        for key in ACTIVITY_AND_MAIL {
            m.serialize_entry(key, &summary.get(key).unwrap_or(Value::Null))?;
        }
        let labels = rel.fields.live_labels(&p.label_ids);
        m.serialize_entry("label", &labels.first())?;
        m.serialize_entry("label_ids", &labels)?;
        m.serialize_entry("org_name", &org.map(|o| &o.name))?;
        m.serialize_entry("owner_name", &owner.map(|u| &u.name))?;
        m.serialize_entry("cc_email", &rel.company.cc_email())?;
        for def in rel.fields.custom() {
            let value = fields::live_value(def, p.custom_fields.get(&def.key));
            for (key, v) in custom_value(def, value) {
                m.serialize_entry(&key, &v)?;
            }
        }
        m.end()
    }
}

/// A custom value as v1 writes it: at the person's root, `null` when empty, with `_currency`,
/// `_until` and address-part siblings; enum as an option id string, set as a comma string.
pub fn custom_value(def: &FieldDef, value: Option<Value>) -> Vec<(String, Value)> {
    let key = &def.key;
    let part = |name: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let main = match def.field_type {
        FieldType::Monetary | FieldType::Daterange | FieldType::Timerange | FieldType::Address => {
            part("value")
        }
        FieldType::Enum => value
            .as_ref()
            .and_then(Value::as_i64)
            .map_or(Value::Null, |id| json!(id.to_string())),
        FieldType::Set => value
            .as_ref()
            .and_then(Value::as_array)
            .map_or(Value::Null, |ids| {
                json!(
                    ids.iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            }),
        _ => value.clone().unwrap_or(Value::Null),
    };
    let mut out = vec![(key.clone(), main)];
    for sub in def.subfields() {
        out.push((format!("{key}_{sub}"), part(sub)));
    }
    out
}

/// An organization in the v1 shape, its custom values at its root.
pub fn organization(
    o: &Organization,
    owner: Option<&User>,
    company: &Company,
    fields: &Fields,
    summary: &Summary,
) -> Value {
    let count = |key: &str| summary.get(key).unwrap_or_else(|| Value::from(0));
    let mut m = Map::with_capacity(64);
    m.insert("id".into(), json!(o.id));
    m.insert("company_id".into(), json!(o.company_id));
    m.insert(
        "owner_id".into(),
        owner.map_or_else(|| json!(o.owner_id), |u| json!(owner_object(u))),
    );
    m.insert("name".into(), json!(o.name));
    for key in [
        "open_deals_count",
        "related_open_deals_count",
        "closed_deals_count",
        "related_closed_deals_count",
        "email_messages_count",
    ] {
        m.insert(key.into(), count(key));
    }
    m.insert("people_count".into(), json!(o.people_count));
    for key in [
        "activities_count",
        "done_activities_count",
        "undone_activities_count",
        "files_count",
        "notes_count",
        "won_deals_count",
        "related_won_deals_count",
        "lost_deals_count",
        "related_lost_deals_count",
    ] {
        m.insert(key.into(), count(key));
    }
    m.insert("followers_count".into(), json!(o.followers_count()));
    m.insert("active_flag".into(), json!(o.active));
    m.insert("picture_id".into(), Value::Null);
    m.insert("country_code".into(), Value::Null);
    m.insert(
        "first_char".into(),
        json!(crate::domain::person::first_char(&o.name)),
    );
    m.insert("update_time".into(), json!(o.update_time.v1()));
    m.insert("add_time".into(), json!(o.add_time.v1()));
    m.insert("visible_to".into(), json!(o.visible_to.get().to_string()));
    for key in [
        "next_activity_date",
        "next_activity_time",
        "next_activity_id",
        "last_activity_id",
        "last_activity_date",
    ] {
        m.insert(key.into(), summary.get(key).unwrap_or(Value::Null));
    }
    m.insert("delete_time".into(), json!(o.delete_time.map(|t| t.v1())));
    let labels = fields.live_labels(&o.label_ids);
    m.insert("label".into(), json!(labels.first()));
    m.insert("label_ids".into(), json!(labels));
    m.insert("address".into(), json!(o.address));
    for part in [
        "subpremise",
        "street_number",
        "route",
        "sublocality",
        "locality",
        "admin_area_level_1",
        "admin_area_level_2",
        "country",
        "postal_code",
    ] {
        // A part the address lacks is "", as Pipedrive writes it (its v1 contract: strings).
        let v = o
            .address_parts
            .get(part)
            .cloned()
            .unwrap_or_else(|| json!(""));
        m.insert(format!("address_{part}"), v);
    }
    m.insert(
        "address_formatted_address".into(),
        json!(o.address.as_deref().unwrap_or("")),
    );
    m.insert("owner_name".into(), json!(owner.map(|u| &u.name)));
    m.insert("cc_email".into(), json!(company.cc_email()));
    for def in fields.custom() {
        let value = fields::live_value(def, o.custom_fields.get(&def.key));
        m.extend(custom_value(def, value));
    }
    Value::Object(m)
}

/// A user in the v1 `/users` shape. `me` adds the company keys of `/users/me`.
/// The id of the permission set a user has in an app: pipestack's companies have two per app
/// (regular users and admins), with ids in UUID form as Pipedrive's, stable for the company.
fn permission_set_id(company_id: i64, app: u16, admin: bool) -> String {
    format!(
        "{:08x}-{app:04x}-4000-8000-{:012x}",
        company_id & 0xffff_ffff,
        u64::from(admin)
    )
}

pub fn user(u: &User, session: &Session, me: bool) -> Value {
    let role_admin = u.is_admin;
    let mut m = Map::with_capacity(32);
    m.insert("id".into(), json!(u.id));
    m.insert("name".into(), json!(u.name));
    m.insert("default_currency".into(), json!("USD"));
    m.insert("locale".into(), json!("en_US"));
    m.insert("lang".into(), json!(1));
    m.insert("email".into(), json!(u.email));
    m.insert("phone".into(), Value::Null);
    m.insert("activated".into(), json!(u.active));
    m.insert(
        "last_login".into(),
        json!(u.last_login.unwrap_or(u.add_time).v1()),
    );
    m.insert("created".into(), json!(u.add_time.v1()));
    m.insert("modified".into(), json!(u.update_time.v1()));
    m.insert("has_created_company".into(), json!(role_admin));
    m.insert(
        "access".into(),
        json!([
            {"app": "sales", "admin": role_admin, "permission_set_id": permission_set_id(u.company_id, 1, role_admin)},
            {"app": "global", "admin": role_admin, "permission_set_id": permission_set_id(u.company_id, 2, role_admin)},
        ]),
    );
    m.insert("active_flag".into(), json!(u.active));
    m.insert("timezone_name".into(), json!("UTC"));
    m.insert("timezone_offset".into(), json!("+00:00"));
    m.insert("role_id".into(), json!(1));
    m.insert("icon_url".into(), Value::Null);
    m.insert("is_you".into(), json!(u.id == session.user.id));
    m.insert("is_deleted".into(), json!(!u.active));
    if me {
        let c = &session.company;
        m.insert("company_id".into(), json!(c.id));
        m.insert("company_name".into(), json!(c.name));
        m.insert("company_domain".into(), json!(c.domain));
        m.insert("company_country".into(), json!(c.country));
        m.insert("company_industry".into(), json!(c.industry));
        m.insert(
            "language".into(),
            json!({"language_code": "en", "country_code": "US"}),
        );
    }
    Value::Object(m)
}
