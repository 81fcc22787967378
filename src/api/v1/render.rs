//! v1 shapes: persons, organizations and users as Pipedrive's legacy API writes them, and the
//! `related_objects` that go with them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::domain::fields::{self, FieldDef, FieldType, Fields};
use crate::domain::organization::Organization;
use crate::domain::person::{Contact, Person};
use crate::domain::{Company, Session, User};
use crate::error::ApiError;
use crate::store::Store;

/// Everything a page of persons refers to: its company, the users and organizations named, and
/// the company's custom fields (rendered as root keys, `null` when empty).
pub struct Related {
    pub company: Company,
    pub users: BTreeMap<i64, User>,
    pub orgs: BTreeMap<i64, Organization>,
    pub fields: Fields,
}

impl Related {
    /// Loads what `persons` refer to: their owners, their organizations and those
    /// organizations' owners.
    pub async fn load(
        store: &dyn Store,
        session: &Session,
        persons: &[&Person],
    ) -> Result<Self, ApiError> {
        let company_id = session.company.id;
        let mut org_ids: Vec<i64> = persons.iter().filter_map(|p| p.org_id).collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let orgs: BTreeMap<i64, Organization> = store
            .organizations_by_ids(company_id, &org_ids)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let wanted: Vec<i64> = persons
            .iter()
            .map(|p| p.owner_id)
            .chain(orgs.values().map(|o| o.owner_id))
            .collect();
        let users = store
            .users(company_id)
            .await?
            .into_iter()
            .filter(|u| wanted.contains(&u.id))
            .map(|u| (u.id, u))
            .collect();
        Ok(Self {
            company: session.company.clone(),
            users,
            orgs,
            fields: Fields::load(store, company_id).await?,
        })
    }

    /// `related_objects`: `user` and (when any) `organization`, keyed by id as a string.
    pub fn objects(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if !self.orgs.is_empty() {
            let orgs = self
                .orgs
                .values()
                .map(|o| (o.id.to_string(), org_related(o, &self.company)))
                .collect();
            out.insert("organization".into(), Value::Object(orgs));
        }
        let users = self
            .users
            .values()
            .map(|u| (u.id.to_string(), user_brief(u)))
            .collect();
        out.insert("user".into(), Value::Object(users));
        out
    }
}

/// A user as `related_objects.user` shows it.
pub fn user_brief(u: &User) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "email": u.email,
        "has_pic": 0,
        "pic_hash": null,
        "active_flag": u.active,
    })
}

/// A user as a person's or organization's `owner_id` shows it: the brief form plus `value`.
pub fn owner_object(u: &User) -> Value {
    let mut v = user_brief(u);
    v["value"] = json!(u.id);
    v
}

/// An organization as a person's `org_id` shows it.
pub fn org_reference(o: &Organization, company: &Company) -> Value {
    json!({
        "name": o.name,
        "people_count": o.people_count,
        "owner_id": o.owner_id,
        "address": o.address,
        "active_flag": o.active,
        "cc_email": company.cc_email(),
        "value": o.id,
    })
}

/// An organization as `related_objects.organization` shows it.
pub fn org_related(o: &Organization, company: &Company) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "people_count": o.people_count,
        "owner_id": o.owner_id,
        "address": o.address,
        "active_flag": o.active,
        "cc_email": company.cc_email(),
    })
}

/// Counts Pipedrive keeps for deals, activities, mail and files: pipestack stores none of those
/// entities yet, so they are truly zero.
const ZERO_COUNTS_BEFORE_FOLLOWERS: [&str; 12] = [
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
const ZERO_COUNTS_AFTER_FOLLOWERS: [&str; 5] = [
    "won_deals_count",
    "related_won_deals_count",
    "lost_deals_count",
    "related_lost_deals_count",
    "reference_activities_count",
];

/// v1 email/phone lists: never empty; "none" is `[{"value":"","primary":true}]`.
fn contacts(list: &[Contact]) -> Value {
    if list.is_empty() {
        return json!([{"value": "", "primary": true}]);
    }
    Value::Array(
        list.iter()
            .map(|c| json!({"value": c.value, "primary": c.primary, "label": c.label}))
            .collect(),
    )
}

/// A person in the v1 shape, key for key as the seed's response.
pub fn person(p: &Person, rel: &Related) -> Value {
    let owner = rel.users.get(&p.owner_id);
    let org = p.org_id.and_then(|id| rel.orgs.get(&id));
    let mut m = Map::with_capacity(64 + rel.fields.0.len() * 2);
    m.insert("id".into(), json!(p.id));
    m.insert("company_id".into(), json!(p.company_id));
    m.insert(
        "owner_id".into(),
        owner.map_or_else(|| json!(p.owner_id), owner_object),
    );
    m.insert(
        "org_id".into(),
        org.map_or(Value::Null, |o| org_reference(o, &rel.company)),
    );
    m.insert("name".into(), json!(p.name));
    m.insert("first_name".into(), json!(p.first_name));
    m.insert("last_name".into(), json!(p.last_name));
    for key in ZERO_COUNTS_BEFORE_FOLLOWERS {
        m.insert(key.into(), json!(0));
    }
    m.insert("followers_count".into(), json!(p.followers_count()));
    for key in ZERO_COUNTS_AFTER_FOLLOWERS {
        m.insert(key.into(), json!(0));
    }
    m.insert("active_flag".into(), json!(p.active));
    m.insert("phone".into(), contacts(&p.phones));
    m.insert("email".into(), contacts(&p.emails));
    m.insert("primary_email".into(), json!(p.primary_email()));
    m.insert("first_char".into(), json!(p.first_char()));
    m.insert("update_time".into(), json!(p.update_time.v1()));
    m.insert("add_time".into(), json!(p.add_time.v1()));
    m.insert("delete_time".into(), json!(p.delete_time.map(|t| t.v1())));
    m.insert("visible_to".into(), json!(p.visible_to.get().to_string()));
    if rel.company.campaigns_enabled {
        let status = p
            .marketing_status
            .unwrap_or(crate::domain::MarketingStatus::NoConsent);
        m.insert("marketing_status".into(), json!(status.as_str()));
    }
    m.insert("picture_id".into(), Value::Null);
    for key in [
        "next_activity_date",
        "next_activity_time",
        "next_activity_id",
        "last_activity_id",
        "last_activity_date",
        "last_incoming_mail_time",
        "last_outgoing_mail_time",
    ] {
        m.insert(key.into(), Value::Null);
    }
    let labels = rel.fields.live_labels(&p.label_ids);
    m.insert("label".into(), json!(labels.first()));
    m.insert("label_ids".into(), json!(labels));
    m.insert("org_name".into(), json!(org.map(|o| &o.name)));
    m.insert("owner_name".into(), json!(owner.map(|u| &u.name)));
    m.insert("cc_email".into(), json!(rel.company.cc_email()));
    for def in rel.fields.custom() {
        custom_value(
            &mut m,
            def,
            fields::live_value(def, p.custom_fields.get(&def.key)),
        );
    }
    Value::Object(m)
}

/// A custom value as v1 writes it: at the person's root, `null` when empty, with `_currency`,
/// `_until` and address-part siblings; enum as an option id string, set as a comma string.
fn custom_value(m: &mut Map<String, Value>, def: &FieldDef, value: Option<Value>) {
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
    m.insert(key.clone(), main);
    for sub in def.subfields() {
        m.insert(format!("{key}_{sub}"), part(sub));
    }
}

/// An organization in the v1 shape.
pub fn organization(o: &Organization, owner: Option<&User>, company: &Company) -> Value {
    let mut m = Map::with_capacity(64);
    m.insert("id".into(), json!(o.id));
    m.insert("company_id".into(), json!(o.company_id));
    m.insert(
        "owner_id".into(),
        owner.map_or_else(|| json!(o.owner_id), owner_object),
    );
    m.insert("name".into(), json!(o.name));
    for key in [
        "open_deals_count",
        "related_open_deals_count",
        "closed_deals_count",
        "related_closed_deals_count",
        "email_messages_count",
    ] {
        m.insert(key.into(), json!(0));
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
        m.insert(key.into(), json!(0));
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
        m.insert(key.into(), Value::Null);
    }
    m.insert("delete_time".into(), json!(o.delete_time.map(|t| t.v1())));
    m.insert("label".into(), json!(o.label_ids.first()));
    m.insert("label_ids".into(), json!(o.label_ids));
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
        let v = o.address_parts.get(part).cloned().unwrap_or(Value::Null);
        m.insert(format!("address_{part}"), v);
    }
    m.insert("address_formatted_address".into(), json!(o.address));
    m.insert("owner_name".into(), json!(owner.map(|u| &u.name)));
    m.insert("cc_email".into(), json!(company.cc_email()));
    Value::Object(m)
}

/// A user in the v1 `/users` shape. `me` adds the company keys of `/users/me`.
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
    m.insert("last_login".into(), Value::Null);
    m.insert("created".into(), json!(u.add_time.v1()));
    m.insert("modified".into(), json!(u.update_time.v1()));
    m.insert("has_created_company".into(), json!(role_admin));
    m.insert(
        "access".into(),
        json!([
            {"app": "sales", "admin": role_admin, "permission_set_id": null},
            {"app": "global", "admin": role_admin, "permission_set_id": null},
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
        m.insert("company_country".into(), Value::Null);
        m.insert("company_industry".into(), Value::Null);
        m.insert(
            "language".into(),
            json!({"language_code": "en", "country_code": "US"}),
        );
    }
    Value::Object(m)
}
