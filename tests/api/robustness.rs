//! No input is a 500: random JSON values (deterministic seeds) in every body field and query
//! parameter of the main routes, random bytes as bodies. Every answer is below 500 and in
//! Pipedrive's envelope.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::helpers::TestApp;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn value(&mut self, depth: u32) -> Value {
        let strings = [
            "",
            "x",
            "  ",
            "ä€𝄞",
            "1,2",
            "3",
            "true",
            "2024-01-01",
            "2024-02-30 10:00:00",
            "09:00",
            "a@b.co",
            "<script>",
            "\u{0}",
            "%",
            "0000000000000000000000000000000000000000",
        ];
        match self.below(if depth > 2 { 7 } else { 9 }) {
            0 => Value::Null,
            1 => json!(self.below(2) == 0),
            2 => json!(self.below(60) as i64 - 5),
            3 => json!(self.next() as f64 / 3.0),
            4 => json!(u64::MAX),
            5 => json!(i64::MIN),
            6 => json!(self.pick(&strings)),
            7 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            _ => {
                let keys = [
                    "value", "primary", "label", "id", "currency", "until", "locality", "x",
                ];
                let mut m = Map::new();
                for _ in 0..self.below(4) {
                    m.insert((*self.pick(&keys)).to_owned(), self.value(depth + 1));
                }
                Value::Object(m)
            }
        }
    }
}

fn assert_envelope(what: &str, status: u16, body: &Value) {
    assert!(status < 500, "{what}: {status} {body}");
    assert!(
        body.get("success").is_some(),
        "{what}: not an envelope: {body}"
    );
}

#[tokio::test]
async fn random_bodies_and_parameters_never_cause_a_500() {
    let app = TestApp::spawn().await;
    let mut codes = Vec::new();
    for t in [
        "varchar",
        "double",
        "monetary",
        "date",
        "daterange",
        "timerange",
        "enum",
        "set",
        "user",
        "org",
        "people",
        "address",
    ] {
        let mut body = json!({"field_name": format!("F {t}"), "field_type": t});
        if t == "enum" || t == "set" {
            body["options"] = json!([{"label": "a"}, {"label": "b"}]);
        }
        codes.push(
            app.post("/api/v2/personFields", &body).await.data()["field_code"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let org = app.add_org("Acme").await;
    app.add_person(json!({"name": "Existing", "org_id": org}))
        .await;
    let v1_keys = [
        "name",
        "email",
        "phone",
        "owner_id",
        "org_id",
        "label",
        "label_ids",
        "visible_to",
        "marketing_status",
        "add_time",
        "first_name",
        "last_name",
    ];
    let v2_keys = [
        "name",
        "emails",
        "phones",
        "owner_id",
        "org_id",
        "label_ids",
        "visible_to",
        "marketing_status",
        "add_time",
        "first_name",
        "last_name",
        "custom_fields",
    ];
    let params = [
        "term",
        "fields",
        "exact_match",
        "limit",
        "cursor",
        "organization_id",
        "start",
        "sort",
        "sort_by",
        "sort_direction",
        "ids",
        "include_fields",
        "custom_fields",
        "updated_since",
        "first_char",
        "user_id",
    ];
    let lists = [
        "/api/v2/persons/search",
        "/v1/persons/search",
        "/api/v2/persons",
        "/v1/persons",
        "/api/v2/organizations",
        "/v1/organizations",
        "/api/v2/organizations/search",
        "/api/v2/personFields",
        "/v1/personFields",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..600 {
        let r = match i % 6 {
            0 | 1 => {
                let (keys, path): (&[&str], &str) = if i % 6 == 0 {
                    (&v1_keys, "/v1/persons")
                } else {
                    (&v2_keys, "/api/v2/persons")
                };
                let mut body = Map::new();
                for _ in 0..rng.below(6) {
                    body.insert((*rng.pick(keys)).to_owned(), rng.value(0));
                }
                if i % 6 == 0 {
                    body.insert(rng.pick(&codes).clone(), rng.value(0));
                } else if rng.below(2) == 0 {
                    body.insert(
                        "custom_fields".into(),
                        json!({ rng.pick(&codes).clone(): rng.value(0) }),
                    );
                }
                app.post(path, &Value::Object(body)).await
            }
            2 => {
                let mut body = Map::new();
                for _ in 0..rng.below(4) {
                    body.insert((*rng.pick(&v2_keys)).to_owned(), rng.value(0));
                }
                app.patch(
                    &format!("/api/v2/persons/{}", rng.below(4) + 1),
                    &Value::Object(body),
                )
                .await
            }
            3 => {
                let mut q = Vec::new();
                for _ in 0..rng.below(5) {
                    let v = rng.value(2).to_string();
                    let enc: String =
                        form_urlencoded::byte_serialize(v.trim_matches('"').as_bytes()).collect();
                    q.push(format!("{}={enc}", rng.pick(&params)));
                }
                app.get(&format!("{}?{}", rng.pick(&lists), q.join("&")))
                    .await
            }
            4 => {
                let paths = [
                    "/v1/persons/1/merge".to_owned(),
                    "/api/v2/persons/1/followers".to_owned(),
                    "/v1/persons/1/followers".to_owned(),
                    format!("/api/v2/personFields/{}/options", rng.pick(&codes)),
                    format!("/v1/organizations/{org}"),
                    format!("/api/v2/organizations/{org}"),
                ];
                let method = rng
                    .pick(&[Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
                    .clone();
                let path = rng.pick(&paths).clone();
                let body = rng.value(0);
                app.call(method, &path, Some(&app.token), Some(&body)).await
            }
            _ => {
                let bytes: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
                let ct = *rng.pick(&["application/json", "application/x-www-form-urlencoded"]);
                let path = *rng.pick(&["/v1/persons", "/api/v2/persons"]);
                app.raw(Method::POST, path, ct, bytes).await
            }
        };
        assert_envelope(&format!("request {i}"), r.status.as_u16(), &r.body);
    }
    // The store is still consistent and serving.
    assert_eq!(app.get("/v1/persons?limit=500").await.status, 200);
}
