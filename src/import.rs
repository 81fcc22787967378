//! The bulk loader: `pipestack import persons.csv` (or `.jsonl`). Every row goes through the
//! same parsing and rules as `POST /v1/persons`; valid rows are inserted in large transactions
//! (one per batch, so an interrupted import leaves whole batches and nothing half-written),
//! while the next batch is already being parsed.

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::api::limits::check_texts;
use crate::api::v1::persons::draft;
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
                                m.insert(h.trim().to_owned(), Value::String(v.to_owned()));
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
                RefKind::Person => {
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

/// Imports persons as `session`'s user. `progress` is told how many rows were read so far.
pub async fn import(
    store: &Arc<dyn Store>,
    session: &Session,
    reader: Box<dyn BufRead + Send>,
    format: Format,
    batch_size: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, DomainError> {
    let fields = Fields::load(store.as_ref(), Kind::Person, session.company.id).await?;
    let known = Known::load(store.as_ref(), session).await?;
    let mut summary = Summary::default();
    let mut batch: Vec<NewPerson> = Vec::with_capacity(batch_size);
    let mut in_flight: Option<tokio::task::JoinHandle<Result<Vec<i64>, StoreError>>> = None;
    let mut read = 0u64;
    let now = Timestamp::now();
    for (line, row) in rows(reader, format) {
        read += 1;
        if read.is_multiple_of(1000) {
            progress(read);
        }
        // A row is read like a v1 request body: the dialect's and the domain's messages.
        let prepared = row.and_then(|body| {
            check_texts(&body).map_err(|e| e.to_string())?;
            let d = draft(body).map_err(|e| e.to_string())?;
            prepare_person(session, &fields, d, now).map_err(|e| e.to_string())
        });
        let (person, refs) = match prepared {
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
        batch.push(person);
        if batch.len() >= batch_size {
            if let Some(previous) = in_flight.take() {
                summary.accepted += finish(previous).await?;
            }
            in_flight = Some(spawn_insert(store, std::mem::take(&mut batch)));
        }
    }
    if let Some(previous) = in_flight.take() {
        summary.accepted += finish(previous).await?;
    }
    if !batch.is_empty() {
        summary.accepted += store.insert_persons(batch).await?.len() as u64;
    }
    progress(read);
    Ok(summary)
}

fn spawn_insert(
    store: &Arc<dyn Store>,
    batch: Vec<NewPerson>,
) -> tokio::task::JoinHandle<Result<Vec<i64>, StoreError>> {
    let store = store.clone();
    tokio::spawn(async move { store.insert_persons(batch).await })
}

async fn finish(
    handle: tokio::task::JoinHandle<Result<Vec<i64>, StoreError>>,
) -> Result<u64, DomainError> {
    let ids = handle
        .await
        .map_err(|e| DomainError::Internal(format!("import batch task failed: {e}")))??;
    Ok(ids.len() as u64)
}
