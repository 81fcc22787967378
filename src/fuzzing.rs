//! Entry points for fuzzing the request parsers: each takes arbitrary bytes and runs them
//! through the same code a request would, returning normally whatever the input (a panic is
//! the bug). The cargo-fuzz targets in `fuzz/` call these, and `tests/fuzz_regressions.rs`
//! replays every input saved under `fuzz/regressions/<target>/` through them, so a crash once
//! found stays a test.

use serde_json::Value;

use crate::api::limits::{self, Limits};
use crate::api::parse::{QueryParams, decode_cursor};
use crate::api::payload::parse_form;
use crate::api::{v1, v2};
use crate::domain::fields::{self, FieldDef, FieldOption, FieldType, Fields, LABEL_KEY};
use crate::domain::person::prepare_person;
use crate::domain::{Company, Kind, Session, Timestamp, User, query};

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// The targets, by name (the names of `fuzz/fuzz_targets/*.rs` and `fuzz/regressions/*`).
pub const TARGETS: &[(&str, Target)] = &[
    ("form_body", form_body),
    ("person_body", person_body),
    ("field_value", field_value),
    ("sort_and_cursor", sort_and_cursor),
];

/// A form-encoded body (`email[0][value]=…`), then the body-shape limits.
pub fn form_body(data: &[u8]) {
    let limits = Limits::default();
    if let Some(map) = parse_form(data, limits.max_json_depth) {
        let _ = limits::check_shape(&Value::Object(map), &limits);
    }
}

/// A JSON body through both dialects' person parsers and the domain's preparation (names,
/// email and phone forms, labels, visibility, custom field values of every type).
pub fn person_body(data: &[u8]) {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if limits::check_shape(&Value::Object(body.clone()), &Limits::default()).is_err() {
        return;
    }
    let (session, fields) = fixture();
    for draft in [v1::persons::draft(body.clone()), v2::persons::draft(body)]
        .into_iter()
        .flatten()
    {
        let _ = prepare_person(&session, &fields, draft, Timestamp(0));
    }
}

/// One custom field value: the first byte picks the field type, the rest is JSON.
pub fn field_value(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let (_, fields) = fixture();
    let custom: Vec<&FieldDef> = fields.custom().collect();
    let def = custom[usize::from(pick) % custom.len()];
    if let Ok(Some(canonical)) = fields::parse_value(def, &value) {
        let _ = fields::live_value(def, Some(&canonical));
        let _ = fields::search_text(def, &canonical);
        let _ = fields::reference(def, &canonical);
    }
}

/// A query string through the list parameters: v1 `sort`, v2 `sort_by`/`sort_direction`/
/// `cursor`, `limit`, `ids`, times; and the bytes as a cursor on their own.
pub fn sort_and_cursor(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = query::parse_sort(s, "persons", query::person_sortable);
    let _ = decode_cursor(s);
    let q = QueryParams::parse(Some(s));
    let _ = v2::ListOrder::parse(&q);
    let _ = q
        .str("sort")
        .map(|s| query::parse_sort(s, "persons", query::person_sortable));
    let _ = q.int("limit").map(query::limit);
    let _ = q.ids("ids", 100);
    let _ = q.bool("exact_match");
    let _ = v2::time_param(&q, "updated_since");
    let _ = q.list("include_fields");
}

/// A company with a custom field of every creatable type and two labels.
fn fixture() -> (Session, Fields) {
    let company = Company {
        id: 1,
        name: "Fuzz".into(),
        domain: "fuzz-1".into(),
        campaigns_enabled: true,
        country: "US".into(),
        industry: "Other".into(),
        add_time: Timestamp(0),
        clock: Default::default(),
    };
    let user = User {
        id: 1,
        company_id: 1,
        name: "Admin".into(),
        email: "admin@fuzz.example".into(),
        is_admin: true,
        active: true,
        add_time: Timestamp(0),
        update_time: Timestamp(0),
        last_login: None,
    };
    let option = |id: i64, key: &str| FieldOption {
        id,
        field_key: key.to_owned(),
        label: format!("Option {id}"),
        color: None,
        add_time: Timestamp(0),
        update_time: Timestamp(0),
    };
    let def = |id: i64, key: String, t: FieldType, custom: bool| FieldDef {
        id,
        options: if matches!(t, FieldType::Enum | FieldType::Set) {
            vec![option(id * 10, &key), option(id * 10 + 1, &key)]
        } else {
            vec![]
        },
        key,
        name: format!("{t:?}"),
        field_type: t,
        is_custom: custom,
        order_nr: id,
        add_visible_flag: true,
        created_by_user_id: None,
        updated_by_user_id: None,
        add_time: Timestamp(0),
        update_time: Timestamp(0),
        deleted_options: Vec::new(),
        settings: Default::default(),
    };
    use FieldType as T;
    let mut defs = vec![def(1, LABEL_KEY.into(), T::Set, false)];
    for (i, t) in [
        T::Varchar,
        T::VarcharAuto,
        T::Text,
        T::Phone,
        T::Double,
        T::Monetary,
        T::Date,
        T::Daterange,
        T::Time,
        T::Timerange,
        T::Enum,
        T::Set,
        T::User,
        T::Org,
        T::People,
        T::Address,
    ]
    .into_iter()
    .enumerate()
    {
        let id = i as i64 + 2;
        defs.push(def(id, format!("{id:040x}"), t, true));
    }
    (
        Session {
            company,
            user,
            source: Default::default(),
        },
        Fields {
            kind: Kind::Person,
            defs: defs.into(),
        },
    )
}
