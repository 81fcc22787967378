//! The bulk loader: `pipestack import persons.csv` (or `.jsonl`), and `--items deals`,
//! `activities` or `notes`. Every row goes through the same parsing and rules as
//! `POST /v1/persons` (deals and activities: as `POST /api/v2/…`; notes: as `POST /v1/notes`);
//! valid rows are inserted in large transactions
//! (one per batch, so an interrupted import leaves whole batches and nothing half-written),
//! while the next batch is already being parsed.

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::api::limits::check_texts;
use crate::api::v1::persons::draft;
use crate::api::v2::activities::draft as activity_draft;
use crate::api::v2::deals::draft as deal_draft;
use crate::domain::activity::{NewActivity, prepare_activity};
use crate::domain::deal::{NewDeal, Placement, prepare_deal};
use crate::domain::note::{NewNote, prepare_note};
use crate::domain::person::{NewPerson, RefKind, Reference, prepare_person};
use crate::domain::ports::{Store, StoreError};
use crate::domain::{DomainError, Fields, Kind, Session, Timestamp};

/// How a file holds persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header row of v1 field names (custom fields by key), one person per row.
    Csv,
    /// One v1 `POST /persons` body (a JSON object) per line.
    JsonLines,
}

impl Format {
    /// From the file name: `.csv`, or `.jsonl` / `.ndjson` / `.json`.
    pub fn from_path(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Self::Csv)
        } else if [".jsonl", ".ndjson", ".json"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            Some(Self::JsonLines)
        } else {
            None
        }
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    pub accepted: u64,
    /// Each rejected row: its line number (1-based, the header is line 1 in CSV) and reason.
    pub rejected: Vec<(u64, String)>,
}

/// A row read from a file: its line number, and the row as a v1 body or why it is unreadable.
type Row = (u64, Result<Map<String, Value>, String>);

/// Rows as JSON objects with their line numbers, from either format.
fn rows(reader: Box<dyn BufRead + Send>, format: Format) -> Box<dyn Iterator<Item = Row> + Send> {
    match format {
        Format::JsonLines => Box::new(
            reader
                .lines()
                .enumerate()
                .map(|(i, line)| {
                    let n = i as u64 + 1;
                    let row = line
                        .map_err(|e| format!("unreadable line: {e}"))
                        .and_then(|l| {
                            if l.trim().is_empty() {
                                return Ok(None);
                            }
                            match serde_json::from_str::<Value>(&l) {
                                Ok(Value::Object(m)) => Ok(Some(m)),
                                Ok(_) => Err("expected a JSON object".to_owned()),
                                Err(e) => Err(format!("malformed JSON: {e}")),
                            }
                        });
                    (n, row)
                })
                .filter_map(|(n, r)| match r {
                    Ok(None) => None,
                    Ok(Some(m)) => Some((n, Ok(m))),
                    Err(e) => Some((n, Err(e))),
                }),
        ),
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(reader);
            let headers = csv.headers().cloned();
            match headers {
                Err(e) => Box::new(std::iter::once((1, Err(format!("unreadable header: {e}"))))),
                Ok(headers) => Box::new(csv.into_records().map(move |rec| match rec {
                    Ok(rec) => {
                        let line = rec.position().map_or(0, |p| p.line());
                        let mut m = Map::new();
                        for (h, v) in headers.iter().zip(rec.iter()) {
                            if !v.is_empty() {
                                m.insert(column_key(h), Value::String(v.to_owned()));
                            }
                        }
                        (line, Ok(m))
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        (line, Err(format!("malformed CSV: {e}")))
                    }
                })),
            }
        }
    }
}

/// A CSV column's header as the field key it names: a spreadsheet's `Name` or `First Name` is
/// `name` or `first_name` (custom fields' keys are lower-case already).
fn column_key(header: &str) -> String {
    header.trim().to_lowercase().replace(' ', "_")
}

/// What the import checks references against: loaded once.
struct Known {
    users: HashSet<i64>,
    orgs: HashSet<i64>,
}

impl Known {
    async fn load(store: &dyn Store, session: &Session) -> Result<Self, DomainError> {
        let users = store
            .users(session.company.id)
            .await?
            .iter()
            .filter(|u| u.active)
            .map(|u| u.id)
            .collect();
        let mut orgs = HashSet::new();
        let mut start = 0;
        loop {
            let (page, more) = crate::domain::organization::list_organizations(
                store,
                session,
                crate::domain::organization::OrganizationQuery {
                    filter: Default::default(),
                    order: Vec::new(),
                    page: crate::domain::query::Page::Offset { start },
                    limit: crate::domain::query::MAX_LIMIT,
                },
            )
            .await?;
            start += page.len() as i64;
            orgs.extend(page.into_iter().map(|o| o.id));
            if !more {
                break;
            }
        }
        Ok(Self { users, orgs })
    }

    async fn check(
        &self,
        store: &dyn Store,
        session: &Session,
        refs: &[Reference],
    ) -> Result<(), DomainError> {
        for r in refs {
            let ok = match r.kind {
                RefKind::User => self.users.contains(&r.id),
                RefKind::Org => self.orgs.contains(&r.id),
                RefKind::Person | RefKind::Deal => {
                    crate::domain::person::check_references(store, session, std::slice::from_ref(r))
                        .await
                        .is_ok()
                }
            };
            if !ok {
                return Err(r.fail());
            }
        }
        Ok(())
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// v1 `POST /persons` bodies.
    Persons,
    /// v2 `POST /deals` bodies (in CSV, numbers, lists and custom keys as text).
    Deals,
    /// v2 `POST /activities` bodies (in CSV, numbers and flags as text, `participants` as
    /// comma-separated person ids, the first primary).
    Activities,
    /// v1 `POST /notes` bodies.
    Notes,
}

impl Items {
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "persons" => Some(Self::Persons),
            "deals" => Some(Self::Deals),
            "activities" => Some(Self::Activities),
            "notes" => Some(Self::Notes),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Persons => "persons",
            Self::Deals => "deals",
            Self::Activities => "activities",
            Self::Notes => "notes",
        }
    }

    /// `n` of them, in words: "1 person", "2 persons".
    pub fn count(self, n: u64) -> String {
        let one = match self {
            Self::Persons => "person",
            Self::Deals => "deal",
            Self::Activities => "activity",
            Self::Notes => "note",
        };
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {}", self.name())
        }
    }
}

/// Imports persons, deals, activities or notes as `session`'s user. `progress` is told how many rows were read
/// so far.
pub async fn import(
    store: &Arc<dyn Store>,
    session: &Session,
    reader: Box<dyn BufRead + Send>,
    format: Format,
    items: Items,
    batch_size: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, DomainError> {
    let known = Known::load(store.as_ref(), session).await?;
    let now = Timestamp::now();
    let rows = rows(reader, format);
    match items {
        Items::Persons => {
            let fields = Fields::load(store.as_ref(), Kind::Person, session.company.id).await?;
            // A row is read like a v1 request body: the dialect's and the domain's messages.
            let prepare = |body: Map<String, Value>| {
                let d = draft(body).map_err(|e| e.to_string())?;
                prepare_person(session, &fields, d, now).map_err(|e| e.to_string())
            };
            let insert = |store: Arc<dyn Store>, batch: Vec<NewPerson>| async move {
                store.insert_persons(batch).await.map(|ids| ids.len())
            };
            load(
                store, session, &known, rows, batch_size, progress, prepare, insert,
            )
            .await
        }
        Items::Deals => {
            let fields = Fields::load(store.as_ref(), Kind::Deal, session.company.id).await?;
            let stages = Placements::load(store.as_ref(), session).await?;
            // A row is read like a v2 request body; where it goes is checked before the batch
            // is written, so that one bad row never fails a whole batch.
            let prepare = |body: Map<String, Value>| {
                let body = match format {
                    Format::Csv => deal_from_text(&fields, body),
                    Format::JsonLines => body,
                };
                let d = deal_draft(body).map_err(|e| e.to_string())?;
                let (deal, refs) =
                    prepare_deal(session, &fields, d, now, "Import").map_err(|e| e.to_string())?;
                stages.check(deal.placement).map_err(|e| e.to_string())?;
                Ok((deal, refs))
            };
            let insert = |store: Arc<dyn Store>, batch: Vec<NewDeal>| async move {
                store.insert_deals(batch).await.map(|ids| ids.len())
            };
            load(
                store, session, &known, rows, batch_size, progress, prepare, insert,
            )
            .await
        }
        Items::Activities => {
            let types = store.activity_types(session.company.id).await?;
            let prepare = |body: Map<String, Value>| {
                let body = match format {
                    Format::Csv => activity_from_text(body),
                    Format::JsonLines => body,
                };
                let d = activity_draft(body).map_err(|e| e.to_string())?;
                prepare_activity(session, &types, &d, now).map_err(|e| e.to_string())
            };
            let insert = |store: Arc<dyn Store>, batch: Vec<NewActivity>| async move {
                store.insert_activities(batch).await.map(|ids| ids.len())
            };
            load(
                store, session, &known, rows, batch_size, progress, prepare, insert,
            )
            .await
        }
        Items::Notes => {
            // v1 bodies take ids and flags as text already, CSV or not.
            let prepare = |body: Map<String, Value>| {
                let d = crate::api::v1::notes::draft(body).map_err(|e| e.to_string())?;
                prepare_note(session, &d, now).map_err(|e| e.to_string())
            };
            let insert = |store: Arc<dyn Store>, batch: Vec<NewNote>| async move {
                store.insert_notes(batch).await.map(|ids| ids.len())
            };
            load(
                store, session, &known, rows, batch_size, progress, prepare, insert,
            )
            .await
        }
    }
}

/// A CSV row of an activity as a v2 body: ids, `priority`, `done` and `busy` from their text,
/// and `participants` from comma-separated person ids (the first primary).
fn activity_from_text(row: Map<String, Value>) -> Map<String, Value> {
    const NUMBERS: [&str; 5] = ["owner_id", "person_id", "org_id", "deal_id", "priority"];
    row.into_iter()
        .map(|(key, v)| {
            let text = v.as_str().unwrap_or_default().trim().to_owned();
            let typed = if NUMBERS.contains(&key.as_str()) {
                text.parse::<serde_json::Number>()
                    .map_or(Value::String(text), Value::Number)
            } else if key == "done" || key == "busy" {
                match text.as_str() {
                    "true" | "1" => Value::Bool(true),
                    "false" | "0" => Value::Bool(false),
                    _ => Value::String(text),
                }
            } else if key == "participants" {
                let ids: Option<Vec<Value>> = text
                    .split(',')
                    .enumerate()
                    .map(|(n, id)| {
                        let id = id.trim().parse::<i64>().ok()?;
                        Some(serde_json::json!({"person_id": id, "primary": n == 0}))
                    })
                    .collect();
                ids.map_or(Value::String(text), Value::Array)
            } else {
                Value::String(text)
            };
            (key, typed)
        })
        .collect()
}

/// The active stages (with their pipelines) a deal may be put in: loaded once.
struct Placements {
    /// `(pipeline order, pipeline id, stage order, stage id)`, sorted.
    stages: Vec<(i64, i64, i64, i64)>,
}

impl Placements {
    async fn load(store: &dyn Store, session: &Session) -> Result<Self, DomainError> {
        use crate::domain::pipeline::{self, StageFilter};
        use crate::domain::query::ListQuery;
        let (pipelines, _) =
            pipeline::list_pipelines(store, session, ListQuery::first_page(())).await?;
        let first = ListQuery::first_page(StageFilter::default());
        let (stages, _) = pipeline::list_stages(store, session, first).await?;
        let mut out: Vec<(i64, i64, i64, i64)> = stages
            .iter()
            .filter(|s| s.active)
            .filter_map(|s| {
                let p = pipelines
                    .iter()
                    .find(|p| p.id == s.pipeline_id && p.active)?;
                Some((p.order_nr, p.id, s.order_nr, s.id))
            })
            .collect();
        out.sort_unstable();
        Ok(Self { stages: out })
    }

    /// The rule the write applies ([`Placement`]), with the API's messages.
    fn check(&self, placement: Placement) -> Result<(), DomainError> {
        use crate::domain::pipeline::{no_stage_in, no_such_stage};
        let ok = match placement {
            Placement::Stage(id) => self.stages.iter().any(|s| s.3 == id),
            Placement::Pipeline(id) => self.stages.iter().any(|s| s.1 == id),
            Placement::Default => !self.stages.is_empty(),
        };
        match (ok, placement) {
            (true, _) => Ok(()),
            (false, Placement::Stage(id)) => Err(no_such_stage(id)),
            (false, Placement::Pipeline(id)) => Err(no_stage_in(Some(id))),
            (false, Placement::Default) => Err(no_stage_in(None)),
        }
    }
}

/// A CSV row of a deal as a v2 body: numbers, booleans and id lists from their text, and
/// custom field keys (at the root, as in a v1 body) gathered into `custom_fields`.
fn deal_from_text(fields: &Fields, row: Map<String, Value>) -> Map<String, Value> {
    const NUMBERS: [&str; 8] = [
        "value",
        "probability",
        "owner_id",
        "person_id",
        "org_id",
        "pipeline_id",
        "stage_id",
        "visible_to",
    ];
    let mut body = Map::new();
    let mut custom = Map::new();
    for (key, v) in row {
        let text = v.as_str().unwrap_or_default().trim().to_owned();
        let typed = if NUMBERS.contains(&key.as_str()) {
            text.parse::<serde_json::Number>()
                .map_or(Value::String(text), Value::Number)
        } else if key == "label_ids" {
            let ids: Option<Vec<Value>> = text
                .split(',')
                .map(|id| id.trim().parse::<i64>().ok().map(Value::from))
                .collect();
            ids.map_or(Value::String(text), Value::Array)
        } else if key == "is_archived" {
            match text.as_str() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => Value::String(text),
            }
        } else {
            Value::String(text)
        };
        if fields.custom().any(|d| d.key == key) {
            custom.insert(key, typed);
        } else {
            body.insert(key, typed);
        }
    }
    if !custom.is_empty() {
        body.insert("custom_fields".into(), Value::Object(custom));
    }
    body
}

type Insert = tokio::task::JoinHandle<Result<usize, StoreError>>;

/// Reads, checks and inserts rows in batches, one batch written while the next is read:
/// `prepare` applies the API's rules to a row, `insert` writes a batch in one transaction.
#[allow(clippy::too_many_arguments)]
async fn load<T, P, I, F>(
    store: &Arc<dyn Store>,
    session: &Session,
    known: &Known,
    rows: Box<dyn Iterator<Item = Row> + Send>,
    batch_size: usize,
    progress: &(dyn Fn(u64) + Sync),
    prepare: P,
    insert: I,
) -> Result<Summary, DomainError>
where
    T: Send + 'static,
    P: Fn(Map<String, Value>) -> Result<(T, Vec<Reference>), String>,
    I: Fn(Arc<dyn Store>, Vec<T>) -> F,
    F: std::future::Future<Output = Result<usize, StoreError>> + Send + 'static,
{
    let mut summary = Summary::default();
    let mut batch: Vec<T> = Vec::with_capacity(batch_size);
    let mut in_flight: Option<Insert> = None;
    let mut read = 0u64;
    for (line, row) in rows {
        read += 1;
        if read.is_multiple_of(1000) {
            progress(read);
        }
        let prepared = row.and_then(|body| {
            check_texts(&body).map_err(|e| e.to_string())?;
            prepare(body)
        });
        let (item, refs) = match prepared {
            Ok(p) => p,
            Err(reason) => {
                summary.rejected.push((line, reason));
                continue;
            }
        };
        if let Err(e) = known.check(store.as_ref(), session, &refs).await {
            summary.rejected.push((line, e.to_string()));
            continue;
        }
        batch.push(item);
        if batch.len() >= batch_size {
            if let Some(previous) = in_flight.take() {
                summary.accepted += finish(previous).await?;
            }
            in_flight = Some(tokio::spawn(insert(
                store.clone(),
                std::mem::take(&mut batch),
            )));
        }
    }
    if let Some(previous) = in_flight.take() {
        summary.accepted += finish(previous).await?;
    }
    if !batch.is_empty() {
        summary.accepted += insert(store.clone(), batch).await? as u64;
    }
    progress(read);
    Ok(summary)
}

async fn finish(handle: Insert) -> Result<u64, DomainError> {
    let n = handle
        .await
        .map_err(|e| DomainError::Internal(format!("import batch task failed: {e}")))??;
    Ok(n as u64)
}
