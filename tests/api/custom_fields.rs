//! personFields in both dialects and typed custom values on persons.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Adds a custom field through v2 and returns its key.
async fn field(app: &TestApp, name: &str, field_type: &str, options: &[&str]) -> Value {
    let mut body = json!({"field_name": name, "field_type": field_type});
    if !options.is_empty() {
        body["options"] = json!(
            options
                .iter()
                .map(|l| json!({"label": l}))
                .collect::<Vec<_>>()
        );
    }
    let r = app.post("/api/v2/personFields", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

fn key(f: &Value) -> String {
    f["field_code"].as_str().unwrap().to_owned()
}

fn option_id(f: &Value, i: usize) -> i64 {
    f["options"][i]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn v1_lists_built_in_fields_with_edit_flag_false_and_custom_ones_after() {
    let app = TestApp::spawn().await;
    let custom = field(&app, "Nickname", "varchar", &[]).await;
    let r = app.get("/v1/personFields").await;
    assert_eq!(r.status, 200);
    let fields = r.data().as_array().unwrap();
    for builtin in [
        "name",
        "email",
        "phone",
        "owner_id",
        "org_id",
        "label",
        "visible_to",
        "marketing_status",
        "add_time",
    ] {
        let f = fields
            .iter()
            .find(|f| f["key"] == builtin)
            .unwrap_or_else(|| panic!("{builtin}"));
        assert_eq!(f["edit_flag"], false, "{builtin}");
    }
    let last = fields.last().unwrap();
    assert_eq!(last["key"], key(&custom));
    assert_eq!(last["edit_flag"], true);
    assert_eq!(last["field_type"], "varchar");
    assert_eq!(last["options"], Value::Null);
    let k = last["key"].as_str().unwrap();
    assert!(
        k.len() == 40
            && k.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let r = app.get("/v1/personFields?start=0&limit=2").await;
    assert_eq!(r.data().as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["additional_data"]["pagination"]["more_items_in_collection"],
        true
    );
    assert_eq!(r.body["additional_data"]["pagination"]["next_start"], 2);
}

#[tokio::test]
async fn v1_adds_gets_renames_and_deletes_a_field_keeping_option_ids() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/personFields", &json!({"name": "Tier", "field_type": "enum", "options": [{"label": "Gold"}, {"label": "Silver"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let f = r.data().clone();
    let id = f["id"].as_i64().unwrap();
    let (gold, silver) = (
        f["options"][0]["id"].as_i64().unwrap(),
        f["options"][1]["id"].as_i64().unwrap(),
    );
    assert_eq!(app.get(&format!("/v1/personFields/{id}")).await.data(), &f);

    let r = app
        .put(&format!("/v1/personFields/{id}"), &json!({"name": "Level", "options": [{"id": gold, "label": "Golden"}, {"label": "Bronze"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = r.data();
    assert_eq!(u["name"], "Level");
    assert_eq!(u["key"], f["key"], "keys never change");
    let opts = u["options"].as_array().unwrap();
    assert_eq!(opts.len(), 2, "silver, left out, is deleted");
    assert_eq!(opts[0], json!({"id": gold, "label": "Golden"}));
    assert_eq!(opts[1]["label"], "Bronze");
    assert!(opts.iter().all(|o| o["id"] != silver));

    let r = app.delete(&format!("/v1/personFields/{id}")).await;
    assert_eq!(r.body, json!({"success": true, "data": {"id": id}}));
    app.get(&format!("/v1/personFields/{id}"))
        .await
        .assert_error(404, "Field not found");
}

#[tokio::test]
async fn v1_bulk_deletes_fields_and_refuses_built_in_ones() {
    let app = TestApp::spawn().await;
    let a = app
        .post(
            "/v1/personFields",
            &json!({"name": "A", "field_type": "text"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let b = app
        .post(
            "/v1/personFields",
            &json!({"name": "B", "field_type": "date"}),
        )
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let r = app.delete(&format!("/v1/personFields?ids={a},{b}")).await;
    assert_eq!(r.body, json!({"success": true, "data": {"id": [a, b]}}));
    app.delete("/v1/personFields")
        .await
        .assert_error(400, "Please provide at least one item to delete");
    let name_id = app
        .get("/v1/personFields")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "name")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/v1/personFields/{name_id}"))
        .await
        .assert_error(400, "name is a built-in field");
    app.put(
        &format!("/v1/personFields/{name_id}"),
        &json!({"name": "Full name"}),
    )
    .await
    .assert_error(400, "built-in fields cannot be renamed");
}

#[tokio::test]
async fn field_definitions_reject_bad_input() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"field_type": "varchar"}), "name: is required"),
        (
            json!({"name": " ", "field_type": "varchar"}),
            "name: must not be empty",
        ),
        (json!({"name": "X"}), "field_type: is required"),
        (
            json!({"name": "X", "field_type": "int"}),
            "field_type: \"int\" is not a type",
        ),
        (
            json!({"name": "X", "field_type": "enum"}),
            "options: enum and set fields need at least one option",
        ),
        (
            json!({"name": "X", "field_type": "varchar", "options": [{"label": "a"}]}),
            "options: only enum and set",
        ),
        (
            json!({"name": "X", "field_type": "set", "options": [{"label": ""}]}),
            "options: an option label must not be empty",
        ),
        (
            json!({"name": "X", "field_type": "varchar", "color": "red"}),
            "color (unknown field)",
        ),
    ];
    for (body, needle) in cases {
        app.post("/v1/personFields", &body)
            .await
            .assert_error(400, needle);
    }
    app.post(
        "/api/v2/personFields",
        &json!({"field_name": "X", "field_type": "visible_to"}),
    )
    .await
    .assert_error(400, "field_type: \"visible_to\" is not a type");
    assert!(
        app.post(
            "/v1/personFields",
            &json!({"name": "V", "field_type": "visible_to"})
        )
        .await
        .status
        .is_success()
    );
    let f = field(&app, "Y", "varchar", &[]).await;
    app.patch(
        &format!("/api/v2/personFields/{}", key(&f)),
        &json!({"field_type": "text"}),
    )
    .await
    .assert_error(400, "field_type (cannot be changed)");
    app.patch(&format!("/api/v2/personFields/{}", key(&f)), &json!({}))
        .await
        .assert_error(400, "At least one field");
    app.get("/api/v2/personFields/0000000000000000000000000000000000000000")
        .await
        .assert_error(404, "Field not found");
}

#[tokio::test]
async fn only_admins_manage_fields() {
    let app = TestApp::spawn().await;
    let user = pipestack::setup::add_user(
        app.store.as_ref(),
        app.company.id,
        "Jane",
        "jane@example.com",
    )
    .await
    .unwrap();
    let r = app
        .post_as(
            &user.api_token,
            "/api/v2/personFields",
            &json!({"field_name": "X", "field_type": "varchar"}),
        )
        .await;
    r.assert_error(403, "You do not have permissions to do this.");
    assert_eq!(
        app.get_as(&user.api_token, "/api/v2/personFields")
            .await
            .status,
        200,
        "reading is for everyone"
    );
}

#[tokio::test]
async fn v2_lists_and_gets_fields_with_cursor_and_namespaces() {
    let app = TestApp::spawn().await;
    let f = field(&app, "Lead Source", "enum", &["Inbound", "Outbound"]).await;
    assert_eq!(f["is_custom_field"], true);
    assert_eq!(f["options"][1]["label"], "Outbound");
    assert!(f["options"][0]["add_time"].as_str().unwrap().ends_with('Z'));
    let mut seen = Vec::new();
    let mut url = "/api/v2/personFields?limit=5".to_owned();
    loop {
        let r = app.get(&url).await;
        seen.extend(
            r.data()
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["field_code"].as_str().unwrap().to_owned()),
        );
        match r.body["additional_data"]["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v2/personFields?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert!(seen.contains(&"name".to_owned()) && seen.contains(&"label_ids".to_owned()));
    assert_eq!(seen.last().unwrap(), &key(&f));
    let r = app
        .get(&format!(
            "/api/v2/personFields/{}?include_fields=ui_visibility,required_fields",
            key(&f)
        ))
        .await;
    assert!(r.data()["ui_visibility"]["add_visible_flag"].is_boolean());
    assert!(r.data()["required_fields"]["enabled"].is_boolean());
    app.get("/api/v2/personFields?include_fields=everything")
        .await
        .assert_error(400, "include_fields");
    let r = app.get("/api/v2/personFields/name").await;
    assert_eq!(r.data()["is_custom_field"], false);
}

#[tokio::test]
async fn v2_option_changes_are_atomic() {
    let app = TestApp::spawn().await;
    let f = field(&app, "Colour", "set", &["Red", "Green"]).await;
    let path = format!("/api/v2/personFields/{}/options", key(&f));
    let r = app
        .post(&path, &json!([{"label": "Blue"}, {"label": "Black"}]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data().as_array().unwrap().len(),
        2,
        "only the new options come back"
    );
    let red = option_id(&f, 0);
    let r = app
        .patch(&path, &json!([{"id": red, "label": "Crimson"}]))
        .await;
    assert_eq!(r.data(), &json!([{"id": red, "label": "Crimson"}]));
    // One unknown id fails the whole request: nothing is deleted.
    let r = app
        .call(
            reqwest::Method::DELETE,
            &path,
            Some(&app.token),
            Some(&json!([{"id": red}, {"id": 999999}])),
        )
        .await;
    r.assert_error(400, "999999 is not an option of this field");
    let now = app.get(&format!("/api/v2/personFields/{}", key(&f))).await;
    assert_eq!(now.data()["options"].as_array().unwrap().len(), 4);
    let r = app
        .call(
            reqwest::Method::DELETE,
            &path,
            Some(&app.token),
            Some(&json!([{"id": red}])),
        )
        .await;
    assert_eq!(r.data(), &json!([{"id": red, "label": "Crimson"}]));
    app.post(&path, &json!([]))
        .await
        .assert_error(400, "At least one option");
    app.post(&path, &json!({"label": "x"}))
        .await
        .assert_error(400, "non-empty JSON array");
    let text = field(&app, "Plain", "text", &[]).await;
    app.post(
        &format!("/api/v2/personFields/{}/options", key(&text)),
        &json!([{"label": "x"}]),
    )
    .await
    .assert_error(400, "only enum and set fields have options");
}

/// A type, the v2 value written, what v2 reads back, and the v1 root keys (suffix → value).
type Case = (&'static str, Value, Value, Vec<(&'static str, Value)>);

/// One case per creatable type: the v2 value written, what v2 reads back, and the v1 root
/// keys (suffix → value) it reads as.
fn cases(opts: &[i64], user: i64, org: i64, person: i64) -> Vec<Case> {
    vec![
        (
            "varchar",
            json!("hello"),
            json!("hello"),
            vec![("", json!("hello"))],
        ),
        (
            "varchar_auto",
            json!("auto"),
            json!("auto"),
            vec![("", json!("auto"))],
        ),
        (
            "text",
            json!("long text"),
            json!("long text"),
            vec![("", json!("long text"))],
        ),
        (
            "phone",
            json!("+1 555"),
            json!("+1 555"),
            vec![("", json!("+1 555"))],
        ),
        ("double", json!(2.5), json!(2.5), vec![("", json!(2.5))]),
        (
            "monetary",
            json!({"value": 500, "currency": "EUR"}),
            json!({"value": 500, "currency": "EUR"}),
            vec![("", json!(500)), ("_currency", json!("EUR"))],
        ),
        (
            "date",
            json!("2024-01-31"),
            json!("2024-01-31"),
            vec![("", json!("2024-01-31"))],
        ),
        (
            "daterange",
            json!({"value": "2024-01-01", "until": "2024-02-01"}),
            json!({"value": "2024-01-01", "until": "2024-02-01"}),
            vec![("", json!("2024-01-01")), ("_until", json!("2024-02-01"))],
        ),
        (
            "time",
            json!("09:00:00"),
            json!("09:00:00"),
            vec![("", json!("09:00:00"))],
        ),
        (
            "timerange",
            json!({"value": "09:00:00", "until": "11:30:00"}),
            json!({"value": "09:00:00", "until": "11:30:00"}),
            vec![("", json!("09:00:00")), ("_until", json!("11:30:00"))],
        ),
        (
            "enum",
            json!(opts[0]),
            json!(opts[0]),
            vec![("", json!(opts[0].to_string()))],
        ),
        (
            "set",
            json!([opts[0], opts[1]]),
            json!([opts[0], opts[1]]),
            vec![("", json!(format!("{},{}", opts[0], opts[1])))],
        ),
        ("user", json!(user), json!(user), vec![("", json!(user))]),
        ("org", json!(org), json!(org), vec![("", json!(org))]),
        (
            "people",
            json!(person),
            json!(person),
            vec![("", json!(person))],
        ),
        (
            "address",
            json!({"value": "530 Fifth Avenue", "locality": "New York"}),
            json!({"value": "530 Fifth Avenue", "subpremise": null, "street_number": null, "route": null, "sublocality": null, "locality": "New York", "admin_area_level_1": null, "admin_area_level_2": null, "country": null, "postal_code": null, "formatted_address": null}),
            vec![
                ("", json!("530 Fifth Avenue")),
                ("_locality", json!("New York")),
                ("_country", Value::Null),
            ],
        ),
    ]
}

#[tokio::test]
async fn every_type_round_trips_from_v2_to_v1_and_from_v1_to_v2() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme").await;
    let other = app.add_person(json!({"name": "Referenced"})).await["id"]
        .as_i64()
        .unwrap();
    let mut defs = Vec::new();
    for t in [
        "varchar",
        "varchar_auto",
        "text",
        "phone",
        "double",
        "monetary",
        "date",
        "daterange",
        "time",
        "timerange",
        "enum",
        "set",
        "user",
        "org",
        "people",
        "address",
    ] {
        let opts: &[&str] = if t == "enum" || t == "set" {
            &["One", "Two"]
        } else {
            &[]
        };
        defs.push(field(&app, &format!("F {t}"), t, opts).await);
    }
    for (i, (t, written, read_v2, read_v1)) in cases(&[0, 0], app.admin.id, org, other)
        .into_iter()
        .enumerate()
    {
        let def = &defs[i];
        assert_eq!(def["field_type"], t);
        let k = key(def);
        let (written, read_v2, read_v1) = if t == "enum" || t == "set" {
            let opts = [option_id(def, 0), option_id(def, 1)];
            let c = cases(&opts, app.admin.id, org, other).swap_remove(i);
            (c.1, c.2, c.3)
        } else {
            (written, read_v2, read_v1)
        };

        // Written in v2, read in v1 and v2.
        let p = app
            .add_person_v2(json!({"name": format!("V2 {t}"), "custom_fields": {&k: written}}))
            .await;
        assert_eq!(p["custom_fields"][&k], read_v2, "{t} via v2");
        let id = p["id"].as_i64().unwrap();
        let v1 = app.get(&format!("/v1/persons/{id}")).await;
        for (suffix, expected) in &read_v1 {
            assert_eq!(
                v1.data()[format!("{k}{suffix}")],
                *expected,
                "{t}{suffix} read in v1"
            );
        }

        // Written in v1 (root keys, with siblings), read in v2.
        let mut body = json!({"name": format!("V1 {t}")});
        for (suffix, v) in &read_v1 {
            if !v.is_null() {
                body[format!("{k}{suffix}")] = v.clone();
            }
        }
        let r = app.post("/v1/persons", &body).await;
        assert_eq!(r.status, 201, "{t}: {}", r.body);
        let id = r.data()["id"].as_i64().unwrap();
        let v2 = app.get(&format!("/api/v2/persons/{id}")).await;
        assert_eq!(
            v2.data()["custom_fields"][&k],
            read_v2,
            "{t} written in v1, read in v2"
        );
    }
}

#[tokio::test]
async fn each_type_refuses_a_wrong_value_with_a_400_naming_key_name_and_reason() {
    let app = TestApp::spawn().await;
    let bad: Vec<(&str, Value, &str)> = vec![
        (
            "varchar",
            json!("x".repeat(256)),
            "must be at most 255 characters",
        ),
        ("varchar_auto", json!({"a": 1}), "must be a string"),
        (
            "text",
            json!("x".repeat(65_536)),
            "must be at most 65535 characters",
        ),
        ("phone", json!([1]), "must be a string"),
        ("double", json!("many"), "must be a number"),
        (
            "monetary",
            json!({"value": 5, "currency": "EURO"}),
            "currency must be a three-letter code",
        ),
        (
            "date",
            json!("31/01/2024"),
            "must be a date in the format YYYY-MM-DD",
        ),
        (
            "daterange",
            json!("2024-01-01"),
            "needs a start (value) and an end (until; in v1 the key",
        ),
        (
            "time",
            json!("25:00:00"),
            "must be a time in the format HH:MM:SS",
        ),
        (
            "timerange",
            json!({"value": "10:00:00", "until": "09:00:00"}),
            "until must not be before value",
        ),
        (
            "enum",
            json!(999999),
            "999999 is not an option of this field",
        ),
        ("set", json!([]), "must not be empty: send null to clear it"),
        (
            "user",
            json!(999999),
            "999999 does not exist in this company",
        ),
        (
            "org",
            json!(999999),
            "999999 does not exist in this company",
        ),
        ("people", json!("abc"), "must be a positive integer id"),
        (
            "address",
            json!({"locality": "Nowhere"}),
            "value is required",
        ),
    ];
    for (t, value, reason) in bad {
        let opts: &[&str] = if t == "enum" || t == "set" {
            &["One"]
        } else {
            &[]
        };
        let def = field(&app, &format!("Field {t}"), t, opts).await;
        let k = key(&def);
        let needle = format!("{k} (Field {t}): {reason}");
        app.post(
            "/api/v2/persons",
            &json!({"name": "X", "custom_fields": {&k: value}}),
        )
        .await
        .assert_error(400, &needle);
        let mut body = json!({"name": "X"});
        body[&k] = value;
        app.post("/v1/persons", &body)
            .await
            .assert_error(400, &needle);
    }
    assert_eq!(app.count_rows("persons").await, 0);
}

#[tokio::test]
async fn null_clears_values_on_update_in_both_dialects() {
    let app = TestApp::spawn().await;
    let set = field(&app, "Tags", "set", &["A", "B"]).await;
    let text = field(&app, "Note", "varchar", &[]).await;
    let (ks, kt) = (key(&set), key(&text));
    let id = app
        .add_person_v2(
            json!({"name": "P", "custom_fields": {&ks: [option_id(&set, 0)], &kt: "hi"}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"custom_fields": {&ks: null}}),
        )
        .await;
    assert_eq!(r.data()["custom_fields"][&ks], Value::Null);
    assert_eq!(r.data()["custom_fields"][&kt], "hi", "others stay");
    let mut body = json!({});
    body[&kt] = Value::Null;
    let r = app.put(&format!("/v1/persons/{id}"), &body).await;
    assert_eq!(r.data()[&kt], Value::Null);
}

#[tokio::test]
async fn include_option_labels_and_the_custom_fields_parameter_shape_v2_reads() {
    let app = TestApp::spawn().await;
    let e = field(&app, "Tier", "enum", &["Gold", "Silver"]).await;
    let s = field(&app, "Tags", "set", &["A", "B"]).await;
    let t = field(&app, "Nick", "varchar", &[]).await;
    let id = app
        .add_person_v2(json!({"name": "P", "custom_fields": {key(&e): option_id(&e, 1), key(&s): [option_id(&s, 0), option_id(&s, 1)], key(&t): "n"}}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .get(&format!("/api/v2/persons/{id}?include_option_labels=true"))
        .await;
    let cf = &r.data()["custom_fields"];
    assert_eq!(
        cf[key(&e)],
        json!({"id": option_id(&e, 1), "label": "Silver"})
    );
    assert_eq!(
        cf[key(&s)],
        json!([{"id": option_id(&s, 0), "label": "A"}, {"id": option_id(&s, 1), "label": "B"}])
    );
    let r = app
        .get(&format!("/api/v2/persons?custom_fields={}", key(&t)))
        .await;
    let cf = r.data()[0]["custom_fields"].as_object().unwrap();
    assert_eq!(cf.len(), 1);
    assert_eq!(cf[&key(&t)], "n");
}

#[tokio::test]
async fn labels_are_the_options_of_the_label_field() {
    let app = TestApp::spawn().await;
    let path = "/api/v2/personFields/label_ids/options";
    let r = app.post(path, &json!([{"label": "VIP"}])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vip = r.data()[0]["id"].as_i64().unwrap();
    let p = app
        .add_person(json!({"name": "Star", "label_ids": [vip]}))
        .await;
    assert_eq!(p["label"], vip);
    let id = p["id"].as_i64().unwrap();
    app.patch(path, &json!([{"id": vip, "label": "Very Important"}]))
        .await;
    let r = app
        .get(&format!("/api/v2/persons/{id}?include_labels=true"))
        .await;
    assert_eq!(
        r.data()["labels"],
        json!([{"id": vip, "label": "Very Important"}])
    );
    // Deleting the option removes it from every person, in both dialects.
    app.call(
        reqwest::Method::DELETE,
        path,
        Some(&app.token),
        Some(&json!([{"id": vip}])),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v2/persons/{id}")).await.data()["label_ids"],
        json!([])
    );
    let v1 = app.get(&format!("/v1/persons/{id}")).await;
    assert_eq!(v1.data()["label_ids"], json!([]));
    assert_eq!(v1.data()["label"], Value::Null);
    app.post("/v1/persons", &json!({"name": "X", "label": vip}))
        .await
        .assert_error(400, "label_ids");
    // v1 manages the same options through the `label` field.
    let label_field = app
        .get("/v1/personFields")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap()
        .clone();
    let lid = label_field["id"].as_i64().unwrap();
    let mut options: Vec<Value> = label_field["options"].as_array().unwrap().clone();
    options.push(json!({"label": "Partner"}));
    let r = app
        .put(
            &format!("/v1/personFields/{lid}"),
            &json!({"options": options}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let labels = app
        .labels_of(app.company.id, pipestack::domain::Kind::Person)
        .await;
    assert!(labels.iter().any(|l| l.label == "Partner"));
}

#[tokio::test]
async fn deleting_a_field_removes_its_values_at_once_and_renaming_keeps_them() {
    let app = TestApp::spawn().await;
    let f = field(&app, "Nick", "varchar", &[]).await;
    let e = field(&app, "Tier", "enum", &["Gold"]).await;
    let k = key(&f);
    let id = app
        .add_person_v2(
            json!({"name": "P", "custom_fields": {&k: "Bobby", key(&e): option_id(&e, 0)}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/v2/personFields/{k}"),
        &json!({"field_name": "Nickname"}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v2/persons/{id}")).await.data()["custom_fields"][&k],
        "Bobby"
    );
    // Adding an option keeps existing values.
    app.post(
        &format!("/api/v2/personFields/{}/options", key(&e)),
        &json!([{"label": "Silver"}]),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v2/persons/{id}")).await.data()["custom_fields"][key(&e)],
        option_id(&e, 0)
    );

    let r = app.delete(&format!("/api/v2/personFields/{k}")).await;
    assert_eq!(r.data()["field_code"], k);
    assert!(
        app.get(&format!("/api/v2/persons/{id}")).await.data()["custom_fields"]
            .get(&k)
            .is_none()
    );
    assert!(
        app.get(&format!("/v1/persons/{id}"))
            .await
            .data()
            .get(&k)
            .is_none()
    );
    let r = app
        .get("/api/v2/persons/search?term=bobby&fields=custom_fields")
        .await;
    assert_eq!(r.data()["items"], json!([]));
    app.post(
        "/api/v2/persons",
        &json!({"name": "Q", "custom_fields": {&k: "x"}}),
    )
    .await
    .assert_error(400, "no custom person field has this key");
    let again = field(&app, "Nick", "varchar", &[]).await;
    assert_ne!(key(&again), k, "a key is never reused");
}

#[tokio::test]
async fn persons_search_finds_values_of_searchable_custom_fields() {
    let app = TestApp::spawn().await;
    let text = field(&app, "Company code", "varchar", &[]).await;
    let money = field(&app, "Budget", "monetary", &[]).await;
    let date = field(&app, "Since", "date", &[]).await;
    let a = app
        .add_person_v2(json!({"name": "A", "custom_fields": {key(&text): "ACME-4711"}}))
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app.add_person_v2(json!({"name": "B", "custom_fields": {key(&money): {"value": 98765, "currency": "USD"}}})).await["id"].as_i64().unwrap();
    app.add_person_v2(json!({"name": "C", "custom_fields": {key(&date): "2024-04-11"}}))
        .await;
    let r = app
        .get("/api/v2/persons/search?term=acme-47&fields=custom_fields")
        .await;
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["item"]["id"], a);
    assert_eq!(items[0]["item"]["custom_fields"], json!(["ACME-4711"]));
    let r = app
        .get("/v1/persons/search?term=98765&fields=custom_fields")
        .await;
    assert_eq!(r.data()["items"][0]["item"]["id"], b);
    let r = app
        .get("/api/v2/persons/search?term=2024-04&fields=custom_fields")
        .await;
    assert_eq!(
        r.data()["items"],
        json!([]),
        "dates are not a searchable type"
    );
    let r = app
        .get("/api/v2/persons/search?term=acme-4711&fields=name")
        .await;
    assert_eq!(
        r.data()["items"],
        json!([]),
        "only when custom_fields is asked for"
    );
}

/// An update that names some parts of a value made of parts keeps the others: v1's `<key>`
/// alone keeps `<key>_currency`, `<key>_currency` alone keeps the amount, `<key>_until` alone
/// keeps the start (and v2's objects likewise); a new address text drops the old address's
/// parts, a part alone keeps the text; `null` and `""` still clear.
#[tokio::test]
async fn updating_part_of_a_composite_value_keeps_the_other_parts() {
    let app = TestApp::spawn().await;
    let (money, range, addr) = (
        key(&field(&app, "Budget", "monetary", &[]).await),
        key(&field(&app, "Contract", "daterange", &[]).await),
        key(&field(&app, "HQ", "address", &[]).await),
    );
    let mut body = json!({"name": "Parts"});
    body[&money] = json!(500);
    body[format!("{money}_currency")] = json!("EUR");
    body[&range] = json!("2024-01-01");
    body[format!("{range}_until")] = json!("2024-12-31");
    body[&addr] = json!("221B Baker Street");
    body[format!("{addr}_locality")] = json!("London");
    let r = app.post("/v1/persons", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let put = |body: Value| {
        let app = &app;
        async move {
            let r = app.put(&format!("/v1/persons/{id}"), &body).await;
            assert_eq!(r.status, 200, "{body}: {}", r.body);
            r.data().clone()
        }
    };

    let p = put(json!({&money: 700})).await;
    assert_eq!(
        (&p[&money], &p[format!("{money}_currency")]),
        (&json!(700), &json!("EUR"))
    );
    let p = put(json!({format!("{money}_currency"): "GBP"})).await;
    assert_eq!(
        (&p[&money], &p[format!("{money}_currency")]),
        (&json!(700), &json!("GBP"))
    );
    let p = put(json!({format!("{range}_until"): "2025-06-30"})).await;
    assert_eq!(
        (&p[&range], &p[format!("{range}_until")]),
        (&json!("2024-01-01"), &json!("2025-06-30"))
    );
    let p = put(json!({format!("{addr}_postal_code"): "NW1 6XE"})).await;
    assert_eq!(p[&addr], "221B Baker Street");
    assert_eq!(p[format!("{addr}_locality")], "London");
    assert_eq!(p[format!("{addr}_postal_code")], "NW1 6XE");
    let p = put(json!({&addr: "10 Downing Street"})).await;
    assert_eq!(p[&addr], "10 Downing Street");
    assert_eq!(
        p[format!("{addr}_locality")],
        Value::Null,
        "parts of the old address go"
    );

    // v2 objects merge the same way.
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"custom_fields": {&money: {"value": 900}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["custom_fields"][&money],
        json!({"value": 900, "currency": "GBP"})
    );
    // A start after the kept end is refused, naming the field; nothing changes.
    let r = app
        .put(&format!("/v1/persons/{id}"), &json!({&range: "2026-01-01"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("until must not be before value")
    );
    // Clearing still clears.
    let p = put(json!({&money: null, &range: null, &addr: ""})).await;
    for k in [&money, &range, &addr] {
        assert_eq!(p[k.as_str()], Value::Null, "{k}");
    }
    assert_eq!(p[format!("{money}_currency")], Value::Null);
}

/// v1's range keys alone on a new person name what is missing.
#[tokio::test]
async fn a_range_without_its_end_names_the_missing_key() {
    let app = TestApp::spawn().await;
    let range = key(&field(&app, "Contract", "daterange", &[]).await);
    let r = app
        .post("/v1/persons", &json!({"name": "R", &range: "2024-01-01"}))
        .await;
    assert_eq!(r.status, 400);
    let msg = r.body["error"].as_str().unwrap();
    assert!(msg.contains(&format!("{range}_until")), "{msg}");
    let r = app
        .post(
            "/v1/persons",
            &json!({"name": "R", format!("{range}_until"): "2024-01-01"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["error"].as_str().unwrap().contains("start (value)"),
        "{}",
        r.body
    );
}

/// v1 shows a field with no options (the label field once all labels are deleted) with
/// `options: null`, as Pipedrive documents.
#[tokio::test]
async fn a_v1_field_without_options_shows_options_null() {
    let app = TestApp::spawn().await;
    let fields = app.get("/v1/personFields").await;
    let label = fields
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "label")
        .unwrap()
        .clone();
    let id = label["id"].as_i64().unwrap();
    assert!(label["options"].as_array().is_some_and(|o| !o.is_empty()));
    let r = app
        .put(&format!("/v1/personFields/{id}"), &json!({"options": []}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["options"], Value::Null);
    assert_eq!(
        app.get(&format!("/v1/personFields/{id}")).await.data()["options"],
        Value::Null
    );
}

/// v2 field settings (`description`, `ui_visibility`, `important_fields`, `required_fields`)
/// are kept as set and shown back in both dialects; a PATCH changes only what it names; what
/// pipestack cannot hold (deal stages) or does not know is a 400, never silently dropped.
#[tokio::test]
async fn field_settings_are_kept_and_shown_back() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v2/personFields",
            &json!({
                "field_name": "Flags",
                "field_type": "varchar",
                "description": "Why we call",
                "ui_visibility": {"add_visible_flag": true, "details_visible_flag": false,
                                  "show_in_add_deal_dialog": {"show": true}},
                "important_fields": {"enabled": true, "stage_ids": []},
                "required_fields": {"enabled": true}
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["description"], "Why we call");
    let code = key(r.data());
    let all = "include_fields=ui_visibility,important_fields,required_fields";
    let got = app.get(&format!("/api/v2/personFields/{code}?{all}")).await;
    let d = got.data();
    assert_eq!(
        d["ui_visibility"],
        json!({"add_visible_flag": true, "details_visible_flag": false,
               "show_in_add_deal_dialog": {"show": true, "order": null}})
    );
    assert_eq!(
        d["important_fields"],
        json!({"enabled": true, "stage_ids": []})
    );
    assert_eq!(d["required_fields"], json!({"enabled": true}));

    let r = app
        .patch(
            &format!("/api/v2/personFields/{code}"),
            &json!({"required_fields": {"enabled": false}, "ui_visibility": {"details_visible_flag": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = app
        .get(&format!("/api/v2/personFields/{code}?{all}"))
        .await
        .data()
        .clone();
    assert_eq!(d["required_fields"], json!({"enabled": false}));
    assert_eq!(d["ui_visibility"]["details_visible_flag"], true);
    assert_eq!(
        d["ui_visibility"]["add_visible_flag"], true,
        "not named: kept"
    );
    assert_eq!(d["important_fields"]["enabled"], true, "not named: kept");
    assert_eq!(d["description"], "Why we call");

    let v1 = app.get("/v1/personFields").await;
    let f = v1
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == code.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            &f["important_flag"],
            &f["details_visible_flag"],
            &f["mandatory_flag"]
        ),
        (&json!(true), &json!(true), &json!(false))
    );

    for (body, needle) in [
        (
            json!({"important_fields": {"enabled": true, "stage_ids": [1]}}),
            "important_fields.stage_ids: pipestack has no deal stages",
        ),
        (
            json!({"ui_visibility": {"colour": "red"}}),
            "ui_visibility.colour: is not a setting of a field",
        ),
        (
            json!({"required_fields": {"enabled": "yes"}}),
            "required_fields.enabled",
        ),
        (
            json!({"required_fields": true}),
            "required_fields: must be an object",
        ),
        (json!({"description": 5}), "description"),
    ] {
        app.patch(&format!("/api/v2/personFields/{code}"), &body)
            .await
            .assert_error(400, needle);
    }
    let after = app
        .get(&format!("/api/v2/personFields/{code}?{all}"))
        .await
        .data()
        .clone();
    assert_eq!(after, d, "a refused PATCH changes nothing");
}

/// v1 lists a field's deleted options as `options_deleted` (only when there is one), so that
/// ids stored elsewhere can still be named.
#[tokio::test]
async fn v1_shows_deleted_options_as_options_deleted() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/personFields",
            &json!({"name": "Tier", "field_type": "enum", "options": [{"label": "Gold"}, {"label": "Silver"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data().get("options_deleted").is_none());
    let id = r.data()["id"].as_i64().unwrap();
    let gold = r.data()["options"][0]["id"].as_i64().unwrap();
    let silver = r.data()["options"][1]["id"].as_i64().unwrap();
    let r = app
        .put(
            &format!("/v1/personFields/{id}"),
            &json!({"options": [{"id": gold, "label": "Gold"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["options_deleted"],
        json!([{"id": silver, "label": "Silver"}])
    );
    let got = app.get(&format!("/v1/personFields/{id}")).await;
    assert_eq!(
        got.data()["options"],
        json!([{"id": gold, "label": "Gold"}])
    );
    assert_eq!(
        got.data()["options_deleted"],
        json!([{"id": silver, "label": "Silver"}])
    );
}

/// Every part `null` clears a value made of parts, in both dialects.
#[tokio::test]
async fn all_parts_null_clear_a_composite_value() {
    let app = TestApp::spawn().await;
    let money = key(&field(&app, "Budget", "monetary", &[]).await);
    let mut body = json!({"name": "M"});
    body[&money] = json!(5);
    let id = app.add_person(body).await["id"].as_i64().unwrap();
    let mut body = json!({});
    body[&money] = Value::Null;
    body[format!("{money}_currency")] = Value::Null;
    let r = app.put(&format!("/v1/persons/{id}"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()[&money], Value::Null);
    let r = app
        .patch(
            &format!("/api/v2/persons/{id}"),
            &json!({"custom_fields": {&money: {"value": null, "currency": null}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
