//! The bulk loader: `pipestack import persons.csv` (or `.jsonl`), and `--items deals`,
//! `activities` or `notes`. Every row goes through the same parsing and rules as
//! `POST /v1/persons` (deals and activities: as `POST /api/v2/…`; notes: as `POST /v1/notes`);
//! valid rows are inserted in large transactions
//! (one per batch, so an interrupted import leaves whole batches and nothing half-written),
//! while the next batch is already being parsed.
//!
//! A persons CSV may be a spreadsheet's or Pipedrive's own export: its columns are matched by
//! v1 key or by the labels Pipedrive exports (`Email - Work`, `Owner`, `Label`, a custom field's
//! name, …), case-insensitively, and the names in them (owners, labels, organizations, options)
//! are resolved through the company's data ([`PersonColumns`]). A column that fills no person
//! field is reported once, as a warning, and its values ignored.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, Read};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value, json};

use crate::api::limits::check_texts;
use crate::api::v1::persons::draft;
use crate::api::v2::activities::draft as activity_draft;
use crate::api::v2::deals::draft as deal_draft;
use crate::domain::activity::{NewActivity, prepare_activity};
use crate::domain::deal::{NewDeal, Placement, prepare_deal};
use crate::domain::fields::{FieldOption, FieldType};
use crate::domain::note::{NewNote, prepare_note};
use crate::domain::organization::{OrganizationDraft, add_organization};
use crate::domain::person::{NewPerson, RefKind, Reference, prepare_person};
use crate::domain::ports::{Store, StoreError};
use crate::domain::{DomainError, Fields, Kind, MarketingStatus, Session, Timestamp, User};

/// How a file holds persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header row (v1 field names, or a spreadsheet export's labels), one person per row.
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

/// What to import, and how.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub format: Format,
    pub items: Items,
    /// Rows per transaction.
    pub batch_size: usize,
    /// Persons: create the organizations an `Organization` column names that the company does
    /// not have (once per name); without it such a row is rejected.
    pub create_organizations: bool,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    pub accepted: u64,
    /// Each rejected row: its line number (1-based, the header is line 1 in CSV) and reason.
    pub rejected: Vec<(u64, String)>,
    /// What is said once for the whole file: a column whose values were ignored, say.
    pub warnings: Vec<String>,
    /// Organizations created for rows that named them (`--create-organizations`).
    pub created_organizations: u64,
}

/// How far an import has got, as told to its progress callback (often, and whenever it starts
/// or stops waiting for a write).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Rows read and checked so far.
    pub read: u64,
    /// Rows committed so far.
    pub imported: u64,
    /// Whether reading is paused until the batch being written is committed.
    pub waiting: bool,
}

/// A row read from a file: its line number, and the row as a body or why it is unreadable.
type Row = (u64, Result<Map<String, Value>, String>);

type Rows = Box<dyn Iterator<Item = Row> + Send>;

/// One v1 or v2 body per line of JSON, with its line number; blank lines are skipped.
fn json_rows(reader: Box<dyn BufRead + Send>) -> Rows {
    let mut lines = reader.lines().enumerate();
    let mut broken = false;
    Box::new(std::iter::from_fn(move || {
        loop {
            if broken {
                return None;
            }
            let (i, line) = lines.next()?;
            let n = i as u64 + 1;
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    // Text that is not UTF-8 spoils its line only; a read that fails ends the file.
                    broken = e.kind() != std::io::ErrorKind::InvalidData;
                    return Some((n, Err(format!("unreadable line: {e}"))));
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let row = match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => Err("expected a JSON object".to_owned()),
                Err(e) => Err(format!("malformed JSON: {e}")),
            };
            return Some((n, row));
        }
    }))
}

/// How a CSV row's cells become a body.
type ToBody = Box<dyn Fn(&csv::StringRecord) -> Result<Map<String, Value>, String> + Send>;

/// A CSV file opened: its header read, its rows still to come.
struct CsvFile {
    reader: csv::Reader<LineIndex>,
    lines: Arc<Mutex<Lines>>,
    headers: csv::StringRecord,
}

impl CsvFile {
    /// Opens a CSV file: the delimiter is `,`, or `;` or a tab when the header line has more
    /// of those (outside quotes), as spreadsheets write in some locales; a UTF-8 byte-order
    /// mark is skipped; a row may be quoted across lines, and end in `\n`, `\r\n` or `\r`.
    fn open(mut reader: Box<dyn BufRead + Send>) -> Result<Self, String> {
        let delimiter = reader.fill_buf().map_or(b',', sniff_delimiter);
        let lines = Arc::new(Mutex::new(Lines::new()));
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineIndex {
                inner: reader,
                lines: lines.clone(),
            });
        let headers = reader
            .headers()
            .map_err(|e| format!("unreadable header: {}", csv_error(&e)))?
            .clone();
        Ok(Self {
            reader,
            lines,
            headers,
        })
    }

    /// The rows, each read into a body by `to_body`. A row of empty cells (a spreadsheet's
    /// trailing rows) is skipped like a blank line; one with more or fewer cells than the
    /// header is rejected.
    fn rows(self, to_body: ToBody) -> Rows {
        let Self {
            mut reader,
            lines,
            headers,
        } = self;
        let width = headers.len();
        let mut record = csv::StringRecord::new();
        let mut broken = false;
        let line_of = move |pos: Option<&csv::Position>| {
            let mut lines = lock(&lines);
            match pos {
                Some(p) => lines.line_at(p.byte()),
                None => lines.line,
            }
        };
        Box::new(std::iter::from_fn(move || {
            loop {
                if broken {
                    return None;
                }
                match reader.read_record(&mut record) {
                    Ok(false) => return None,
                    Ok(true) if record.iter().all(|c| c.trim().is_empty()) => continue,
                    Ok(true) => {
                        let line = line_of(record.position());
                        if record.len() != width {
                            let reason = format!(
                                "malformed CSV: the row has {} where the header has {}",
                                cells(record.len()),
                                cells(width)
                            );
                            return Some((line, Err(reason)));
                        }
                        return Some((line, to_body(&record)));
                    }
                    Err(e) => {
                        broken = matches!(e.kind(), csv::ErrorKind::Io(_));
                        let reason = format!("malformed CSV: {}", csv_error(&e));
                        return Some((line_of(e.position()), Err(reason)));
                    }
                }
            }
        }))
    }
}

fn cells(n: usize) -> String {
    if n == 1 {
        "1 cell".to_owned()
    } else {
        format!("{n} cells")
    }
}

/// A CSV error without the csv crate's own line numbers (the rejection has the right one).
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "cell {} is not UTF-8 text (save the file as \"CSV UTF-8\")",
            err.field() + 1
        ),
        csv::ErrorKind::Io(e) => format!("unreadable: {e}"),
        _ => e.to_string(),
    }
}

/// The delimiter of a CSV file from its first line: `,` unless `;` or tabs are more frequent
/// outside quotes.
fn sniff_delimiter(start: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in start {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|c| c.0 == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    // The first of the most frequent: `,` on a tie.
    counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reader under the csv crate's, noting where lines start for [`Lines`].
struct LineIndex {
    inner: Box<dyn BufRead + Send>,
    lines: Arc<Mutex<Lines>>,
}

impl Read for LineIndex {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        lock(&self.lines).scan(&buf[..n]);
        Ok(n)
    }
}

/// The line numbers of a CSV file's rows. The csv crate's record positions are where the
/// previous record ended, so after a `\r\n` (which it reads up to the `\r`) or a blank line
/// they are a line early; the line of a row is that of the first non-blank line starting at
/// or after that position, which this finds from the bytes themselves (`\n`, `\r\n` and `\r`
/// each end a line). A row quoted across lines is numbered by its first line.
struct Lines {
    /// `(offset, line)` of each non-blank line's first byte, read but not yet passed.
    starts: VecDeque<(u64, u64)>,
    /// The offset of the next byte to scan.
    offset: u64,
    /// The line that byte is on.
    line: u64,
    /// Whether that byte starts its line.
    at_start: bool,
    /// Whether the last byte was a `\r` (a `\n` next is part of the same line end).
    after_cr: bool,
}

impl Lines {
    fn new() -> Self {
        Self {
            starts: VecDeque::new(),
            offset: 0,
            line: 1,
            at_start: true,
            after_cr: false,
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let after_cr = std::mem::take(&mut self.after_cr);
            match b {
                b'\n' if after_cr => {}
                b'\n' => {
                    self.line += 1;
                    self.at_start = true;
                }
                b'\r' => {
                    self.line += 1;
                    self.at_start = true;
                    self.after_cr = true;
                }
                _ if self.at_start => {
                    self.starts.push_back((self.offset, self.line));
                    self.at_start = false;
                }
                _ => {}
            }
            self.offset += 1;
        }
    }

    /// The line of a record the csv crate says starts at `byte`: rows come in order, so the
    /// lines before it are forgotten.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self
            .starts
            .front()
            .is_some_and(|(offset, _)| *offset < byte)
        {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |(_, line)| *line)
    }
}

/// A CSV column's header as the field key it names, for deals, activities and notes: a
/// spreadsheet's `Title` or `Due Date` is `title` or `due_date`.
fn column_key(header: &str) -> String {
    header.trim().to_lowercase().replace(' ', "_")
}

/// Cells as a body keyed by [`column_key`]; empty cells are absent values.
fn plain_columns(headers: &csv::StringRecord) -> ToBody {
    let keys: Vec<String> = headers.iter().map(column_key).collect();
    Box::new(move |record| {
        let mut body = Map::new();
        for (key, cell) in keys.iter().zip(record.iter()) {
            if !cell.is_empty() {
                body.insert(key.clone(), Value::String(cell.to_owned()));
            }
        }
        Ok(body)
    })
}

/// What the import checks references against, and resolves names with: loaded once.
struct Known {
    /// Every user of the company, deactivated ones too (to say so when one is named).
    users: Arc<[User]>,
    active_users: HashSet<i64>,
    orgs: HashSet<i64>,
    /// The organizations by name ([`name_key`]; the oldest of a name), grown as
    /// `--create-organizations` adds some.
    org_names: Arc<Mutex<HashMap<String, i64>>>,
}

impl Known {
    async fn load(store: &dyn Store, session: &Session) -> Result<Self, DomainError> {
        let users = store.users(session.company.id).await?;
        let active_users = users.iter().filter(|u| u.active).map(|u| u.id).collect();
        let mut orgs = HashSet::new();
        let mut org_names: HashMap<String, i64> = HashMap::new();
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
            for o in page {
                orgs.insert(o.id);
                org_names
                    .entry(name_key(&o.name))
                    .and_modify(|id| *id = (*id).min(o.id))
                    .or_insert(o.id);
            }
            if !more {
                break;
            }
        }
        Ok(Self {
            users,
            active_users,
            orgs,
            org_names: Arc::new(Mutex::new(org_names)),
        })
    }

    async fn check(
        &self,
        store: &dyn Store,
        session: &Session,
        refs: &[Reference],
    ) -> Result<(), DomainError> {
        for r in refs {
            let ok = match r.kind {
                RefKind::User => self.active_users.contains(&r.id),
                RefKind::Org => {
                    self.orgs.contains(&r.id)
                        || lock(&self.org_names).values().any(|id| *id == r.id)
                }
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

/// A name as names are matched: case and runs of spaces aside.
fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A header as headers are matched: case, spaces and underscores alike, and the spaces
/// around a dash aside (`Email - Work` is `email-work`, `first_name` is `first name`).
fn header_key(header: &str) -> String {
    name_key(&header.trim_start_matches('\u{feff}').replace('_', " "))
        .replace(" -", "-")
        .replace("- ", "-")
}

/// Items of a cell listing several (emails, phones, labels): separated by `,` or `;`.
fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The key under which a persons CSV row carries its organization's name to [`Organizations`].
const ORG_NAME: &str = " organization name";

/// What a column of a persons CSV fills, and how its text is read.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    /// Text under a v1 key, as is (`name`, `owner_id`, a custom key's part, …).
    Key(String),
    /// Emails, with the label the header gives (`Email - Work`).
    Email(Option<&'static str>),
    /// Phones, with the label the header gives (`Phone - Mobile`).
    Phone(Option<&'static str>),
    /// A user's name or email (or id): `owner_id`.
    Owner,
    /// An organization's name: `org_id`, found (or created) by name.
    Organization,
    /// Label names (or ids): `label_ids`.
    Labels,
    /// `Owner & followers`, `Entire company`, … or the number.
    VisibleTo,
    /// `No consent`, `Subscribed`, `Unsubscribed` or `Archived`.
    MarketingStatus,
    /// A custom field (its index in the fields): an option field's option by label, a user
    /// field's user and an organization field's organization by name.
    Custom(usize),
}

impl Column {
    /// The v1 key the column fills, when two columns may not fill the same one.
    fn slot(&self, fields: &Fields) -> Option<String> {
        let key = match self {
            Self::Key(k) => k.as_str(),
            Self::Email(_) | Self::Phone(_) => return None,
            Self::Owner => "owner_id",
            Self::Organization => "org_id",
            Self::Labels => "label_ids",
            Self::VisibleTo => "visible_to",
            Self::MarketingStatus => "marketing_status",
            Self::Custom(i) => fields.defs[*i].key.as_str(),
        };
        Some(key.to_owned())
    }
}

/// A contact's label from a header's tail: `""`, `-work`, `-home`, `-mobile` or `-other`.
fn contact_label(tail: &str) -> Option<Option<&'static str>> {
    Some(match tail {
        "" => None,
        "-work" => Some("work"),
        "-home" => Some("home"),
        "-mobile" => Some("mobile"),
        "-other" => Some("other"),
        _ => return None,
    })
}

/// The built-in person field a header ([`header_key`]) names: its v1 key or Pipedrive's label.
fn builtin_column(h: &str) -> Option<Column> {
    if let Some(tail) = h.strip_prefix("email") {
        return contact_label(tail).map(Column::Email);
    }
    if let Some(tail) = h.strip_prefix("phone") {
        return contact_label(tail).map(Column::Phone);
    }
    Some(match h {
        "name" | "full name" => Column::Key("name".into()),
        "first name" => Column::Key("first_name".into()),
        "last name" => Column::Key("last_name".into()),
        "owner" | "owner name" | "owner email" => Column::Owner,
        "owner id" => Column::Key("owner_id".into()),
        "organization" | "organization-name" | "organization name" | "org name" => {
            Column::Organization
        }
        // Only v1's key: an export's `Organization - ID` is another account's id.
        "org id" => Column::Key("org_id".into()),
        "label" | "labels" => Column::Labels,
        "label ids" => Column::Key("label_ids".into()),
        "visible to" | "visibility" => Column::VisibleTo,
        "marketing status" => Column::MarketingStatus,
        "add time" | "person created" => Column::Key("add_time".into()),
        _ => return None,
    })
}

/// Headers of what a person shows but is not written (v1's read-only keys and the counts and
/// dates Pipedrive's export adds).
const READ_ONLY: [&str; 27] = [
    "id",
    "company id",
    "active flag",
    "primary email",
    "first char",
    "update time",
    "delete time",
    "picture id",
    "cc email",
    "next activity date",
    "next activity time",
    "next activity id",
    "last activity id",
    "last activity date",
    "last incoming mail time",
    "last outgoing mail time",
    "related objects",
    "number of followers",
    "open deals",
    "closed deals",
    "won deals",
    "lost deals",
    "activities to do",
    "done activities",
    "profile picture",
    "last email received",
    "last email sent",
];

/// The column a header names, or why it names none (said once, as a warning).
fn person_column(header: &str, fields: &Fields) -> Result<Column, String> {
    let h = header_key(header);
    if h.is_empty() {
        return Err("has no header".into());
    }
    // Pipedrive prefixes a person export's columns with the item (`Person - Name`).
    let candidates = [Some(h.as_str()), h.strip_prefix("person-")];
    for h in candidates.into_iter().flatten() {
        if let Some(column) = builtin_column(h) {
            return Ok(column);
        }
        let custom = || fields.defs.iter().enumerate().filter(|(_, d)| d.is_custom);
        if let Some((i, _)) = custom().find(|(_, d)| d.key == h) {
            return Ok(Column::Custom(i));
        }
        let named: Vec<usize> = custom()
            .filter(|(_, d)| header_key(&d.name) == h)
            .map(|(i, _)| i)
            .collect();
        match named.as_slice() {
            [i] => return Ok(Column::Custom(*i)),
            [] => {}
            many => {
                return Err(format!(
                    "names {} person fields (use the key of the one meant as the header)",
                    many.len()
                ));
            }
        }
        // A part of a custom value: `<key>_currency`, `<Name> - Currency`, `Currency of <Name>`.
        for (_, d) in custom() {
            let name = header_key(&d.name);
            for part in d.subfields() {
                let spaced = part.replace('_', " ");
                if h == format!("{} {spaced}", d.key)
                    || h == format!("{name}-{spaced}")
                    || h == format!("{spaced} of {name}")
                {
                    return Ok(Column::Key(format!("{}_{part}", d.key)));
                }
            }
        }
        if READ_ONLY.contains(&h) || h.ends_with(" count") {
            return Err("is read-only".into());
        }
    }
    Err("is not a person field".into())
}

/// How a persons CSV's cells become a v1 body: the columns its header names, and the company's
/// users, labels, fields and organizations that names in cells are resolved through.
struct PersonColumns {
    /// Each column's header as written, and what it fills (`None`: ignored).
    columns: Vec<(String, Option<Column>)>,
    fields: Fields,
    labels: Vec<FieldOption>,
    users: Arc<[User]>,
    org_names: Arc<Mutex<HashMap<String, i64>>>,
}

impl PersonColumns {
    /// The columns of a header row, and a warning for each that is ignored.
    fn new(
        headers: &csv::StringRecord,
        fields: &Fields,
        known: &Known,
        session: &Session,
    ) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut columns: Vec<(String, Option<Column>)> = Vec::new();
        for (n, header) in headers.iter().enumerate() {
            let header = header.trim().to_owned();
            let column = match person_column(&header, fields) {
                Ok(column) => column,
                Err(reason) => {
                    warnings.push(if header.is_empty() {
                        format!("column {} {reason}; its values were ignored", n + 1)
                    } else {
                        format!("column {header:?} {reason}; its values were ignored")
                    });
                    columns.push((header, None));
                    continue;
                }
            };
            if column == Column::MarketingStatus && !session.company.campaigns_enabled {
                warnings.push(format!(
                    "column {header:?} is for the Campaigns product, which is off for this \
                     company; its values were ignored"
                ));
                columns.push((header, None));
                continue;
            }
            let slot = column.slot(fields);
            let earlier = columns
                .iter()
                .find(|(_, c)| slot.is_some() && c.as_ref().and_then(|c| c.slot(fields)) == slot);
            if let Some((first, _)) = earlier {
                warnings.push(format!(
                    "column {header:?} fills the same field as column {first:?}; its values \
                     were ignored"
                ));
                columns.push((header, None));
                continue;
            }
            columns.push((header, Some(column)));
        }
        let this = Self {
            columns,
            fields: fields.clone(),
            labels: fields.labels().to_vec(),
            users: known.users.clone(),
            org_names: known.org_names.clone(),
        };
        (this, warnings)
    }

    /// The header of the column naming the organization, if there is one.
    fn organization_header(&self) -> Option<&str> {
        self.columns
            .iter()
            .find(|(_, c)| *c == Some(Column::Organization))
            .map(|(h, _)| h.as_str())
    }

    /// A row as a v1 `POST /persons` body (the organization's name under [`ORG_NAME`]), or why
    /// a name in it names nothing.
    fn body(&self, record: &csv::StringRecord) -> Result<Map<String, Value>, String> {
        let mut body = Map::new();
        let mut emails = Vec::new();
        let mut phones = Vec::new();
        let contact = |value: &str, label: Option<&str>| match label {
            Some(label) => json!({"value": value, "label": label}),
            None => json!({"value": value}),
        };
        for ((header, column), cell) in self.columns.iter().zip(record.iter()) {
            let text = cell.trim();
            let Some(column) = column.as_ref().filter(|_| !text.is_empty()) else {
                continue;
            };
            let (key, value) = match column {
                Column::Key(key) => (key.clone(), Value::String(cell.to_owned())),
                Column::Email(label) => {
                    emails.extend(list(text).map(|e| contact(e, *label)));
                    continue;
                }
                Column::Phone(label) => {
                    phones.extend(list(text).map(|p| contact(p, *label)));
                    continue;
                }
                Column::Owner => ("owner_id".into(), json!(self.user(header, text)?)),
                Column::Organization => (ORG_NAME.into(), Value::String(text.to_owned())),
                Column::Labels => {
                    let ids = self.options(&self.labels, header, text, "a person label")?;
                    ("label_ids".into(), json!(ids))
                }
                Column::VisibleTo => ("visible_to".into(), visibility(header, text)?),
                Column::MarketingStatus => {
                    let status = name_key(text).replace(' ', "_");
                    if MarketingStatus::from_name(&status).is_none() {
                        return Err(format!(
                            "{header}: {text:?} is not a marketing status (No consent, \
                             Subscribed, Unsubscribed or Archived)"
                        ));
                    }
                    ("marketing_status".into(), Value::String(status))
                }
                Column::Custom(i) => {
                    let def = &self.fields.defs[*i];
                    let value = match def.field_type {
                        FieldType::Enum => {
                            json!(option(
                                &def.options,
                                header,
                                text,
                                "an option of this field"
                            )?)
                        }
                        FieldType::Set => json!(self.options(
                            &def.options,
                            header,
                            text,
                            "an option of this field"
                        )?),
                        FieldType::User => json!(self.user(header, text)?),
                        FieldType::Org => json!(self.organization(header, text)?),
                        _ => Value::String(cell.to_owned()),
                    };
                    (def.key.clone(), value)
                }
            };
            body.insert(key, value);
        }
        if !emails.is_empty() {
            body.insert("email".into(), Value::Array(emails));
        }
        if !phones.is_empty() {
            body.insert("phone".into(), Value::Array(phones));
        }
        Ok(body)
    }

    /// Several options (labels, a set field's options) by label or id: the whole cell if it is
    /// one option's label, else its items separated by `,` or `;`.
    fn options(
        &self,
        options: &[FieldOption],
        header: &str,
        text: &str,
        what: &str,
    ) -> Result<Vec<i64>, String> {
        if let Ok(id) = option(options, header, text, what) {
            return Ok(vec![id]);
        }
        let mut ids = Vec::new();
        for item in list(text) {
            let id = option(options, header, item, what)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// An active user by email or name (or id), case aside.
    fn user(&self, header: &str, text: &str) -> Result<i64, String> {
        let key = name_key(text);
        let by_email: Vec<&User> = self
            .users
            .iter()
            .filter(|u| name_key(&u.email) == key)
            .collect();
        let named = if by_email.is_empty() {
            self.users
                .iter()
                .filter(|u| name_key(&u.name) == key)
                .collect()
        } else {
            by_email
        };
        let active: Vec<&User> = named.iter().copied().filter(|u| u.active).collect();
        match (active.as_slice(), named.is_empty()) {
            ([one], _) => Ok(one.id),
            ([], true) => match text.parse::<i64>() {
                Ok(id) if self.users.iter().any(|u| u.id == id && u.active) => Ok(id),
                _ => Err(format!(
                    "{header}: {text:?} is not a user of this company (give a user's name or \
                     email)"
                )),
            },
            ([], false) => Err(format!("{header}: user {text:?} is deactivated")),
            (many, _) => Err(format!(
                "{header}: {text:?} names {} users (give the email of the one meant)",
                many.len()
            )),
        }
    }

    /// An existing organization by name (or id), for an organization custom field.
    fn organization(&self, header: &str, text: &str) -> Result<i64, String> {
        if let Some(id) = lock(&self.org_names).get(&name_key(text)) {
            return Ok(*id);
        }
        text.parse::<i64>()
            .map_err(|_| format!("{header}: {text:?} is not an organization of this company"))
    }
}

/// An option by label (case aside) or id.
fn option(options: &[FieldOption], header: &str, text: &str, what: &str) -> Result<i64, String> {
    let key = name_key(text);
    if let Some(o) = options.iter().find(|o| name_key(&o.label) == key) {
        return Ok(o.id);
    }
    match text.parse::<i64>() {
        Ok(id) if options.iter().any(|o| o.id == id) => Ok(id),
        _ => Err(format!("{header}: {text:?} is not {what}")),
    }
}

/// `visible_to` from Pipedrive's words for it (the plans' names for `1`, `3`, `5` and `7`;
/// "Entire company" is `3`, pipestack's default), or a number, which the API checks.
fn visibility(header: &str, text: &str) -> Result<Value, String> {
    let n = match name_key(text).replace('’', "'").as_str() {
        "owner & followers" | "owner and followers" | "owner only" | "private" => "1",
        "entire company" | "shared" | "owner's visibility group" => "3",
        "owner's visibility group and sub-groups" => "5",
        other if other.parse::<i64>().is_ok() => return Ok(Value::String(text.to_owned())),
        _ => {
            return Err(format!(
                "{header}: {text:?} is not a visibility (Owner & followers, Entire company, or \
                 1, 3, 5 or 7)"
            ));
        }
    };
    Ok(Value::String(n.into()))
}

/// The organizations persons rows name: found by name among the company's, or created once
/// per name with `--create-organizations`.
struct Organizations {
    names: Arc<Mutex<HashMap<String, i64>>>,
    /// The header of the column naming them, for messages.
    column: String,
    create: bool,
    created: std::sync::atomic::AtomicU64,
}

impl Organizations {
    /// The organization `name` names: the row's reason when there is none (and it is not to be
    /// created, or cannot be); `Err` when the store fails. A created one is owned by the row's
    /// owner.
    async fn resolve(
        &self,
        store: &dyn Store,
        session: &Session,
        name: &str,
        owner: i64,
    ) -> Result<Result<i64, String>, DomainError> {
        let key = name_key(name);
        if let Some(id) = lock(&self.names).get(&key) {
            return Ok(Ok(*id));
        }
        let column = &self.column;
        if !self.create {
            return Ok(Err(format!(
                "{column}: {name:?} is not an organization of this company (pass \
                 --create-organizations to create it)"
            )));
        }
        let draft = OrganizationDraft {
            name: Some(name.to_owned()),
            owner_id: Some(owner),
            ..OrganizationDraft::default()
        };
        match add_organization(store, session, draft).await {
            Ok(org) => {
                lock(&self.names).insert(key, org.id);
                self.created
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(Ok(org.id))
            }
            Err(e @ (DomainError::Store(_) | DomainError::Internal(_))) => Err(e),
            Err(e) => Ok(Err(format!(
                "{column}: cannot create the organization {name:?}: {e}"
            ))),
        }
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

/// Where rows come from.
enum Source {
    Csv(CsvFile),
    Json(Box<dyn BufRead + Send>),
}

impl Source {
    /// The rows, a CSV's read by the body `columns` makes from its header.
    fn rows(self, columns: impl FnOnce(&csv::StringRecord) -> ToBody) -> Rows {
        match self {
            Self::Csv(file) => {
                let to_body = columns(&file.headers);
                file.rows(to_body)
            }
            Self::Json(reader) => json_rows(reader),
        }
    }
}

/// A prepared item with nothing left to do before it is written.
fn ready<T>(item: T) -> std::future::Ready<Result<Result<T, String>, DomainError>> {
    std::future::ready(Ok(Ok(item)))
}

/// Imports persons, deals, activities or notes as `session`'s user. `progress` is told how far
/// it has got.
pub async fn import(
    store: &Arc<dyn Store>,
    session: &Session,
    reader: Box<dyn BufRead + Send>,
    options: Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary, DomainError> {
    let known = Known::load(store.as_ref(), session).await?;
    let now = Timestamp::now();
    let source = match options.format {
        Format::Csv => match CsvFile::open(reader) {
            Ok(file) => Source::Csv(file),
            Err(reason) => {
                return Ok(Summary {
                    rejected: vec![(1, reason)],
                    ..Summary::default()
                });
            }
        },
        Format::JsonLines => Source::Json(reader),
    };
    let batch_size = options.batch_size;
    match options.items {
        Items::Persons => {
            let fields = Fields::load(store.as_ref(), Kind::Person, session.company.id).await?;
            let mut warnings = Vec::new();
            let mut org_column = String::from("Organization");
            let rows = source.rows(|headers| {
                let (columns, said) = PersonColumns::new(headers, &fields, &known, session);
                warnings = said;
                if let Some(h) = columns.organization_header() {
                    org_column = h.to_owned();
                }
                Box::new(move |record| columns.body(record))
            });
            let orgs = Organizations {
                names: known.org_names.clone(),
                column: org_column,
                create: options.create_organizations,
                created: Default::default(),
            };
            let csv = options.format == Format::Csv;
            // A row is read like a v1 request body: the dialect's and the domain's messages.
            let prepare = |mut body: Map<String, Value>| {
                let org = match body.remove(ORG_NAME) {
                    Some(Value::String(name)) if csv => Some(name),
                    // Only a CSV's organization column puts it there.
                    Some(other) => {
                        body.insert(ORG_NAME.into(), other);
                        None
                    }
                    None => None,
                };
                let d = draft(body).map_err(|e| e.to_string())?;
                let (person, refs) =
                    prepare_person(session, &fields, d, now).map_err(|e| e.to_string())?;
                Ok(((person, org), refs))
            };
            // The organization a valid row names is found, or created, last.
            let complete = |(mut person, org): (NewPerson, Option<String>)| {
                let orgs = &orgs;
                async move {
                    if let Some(name) = org {
                        match orgs
                            .resolve(store.as_ref(), session, &name, person.owner_id)
                            .await?
                        {
                            Ok(id) => person.org_id = Some(id),
                            Err(reason) => return Ok(Err(reason)),
                        }
                    }
                    Ok(Ok(person))
                }
            };
            let insert = |store: Arc<dyn Store>, batch: Vec<NewPerson>| async move {
                store.insert_persons(batch).await.map(|ids| ids.len())
            };
            let mut summary = load(
                store, session, &known, rows, batch_size, progress, prepare, complete, insert,
            )
            .await?;
            summary.warnings = warnings;
            summary.created_organizations = orgs.created.load(std::sync::atomic::Ordering::Relaxed);
            Ok(summary)
        }
        Items::Deals => {
            let fields = Fields::load(store.as_ref(), Kind::Deal, session.company.id).await?;
            let stages = Placements::load(store.as_ref(), session).await?;
            let rows = source.rows(plain_columns);
            // A row is read like a v2 request body; where it goes is checked before the batch
            // is written, so that one bad row never fails a whole batch.
            let prepare = |body: Map<String, Value>| {
                let body = match options.format {
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
                store, session, &known, rows, batch_size, progress, prepare, ready, insert,
            )
            .await
        }
        Items::Activities => {
            let types = store.activity_types(session.company.id).await?;
            let rows = source.rows(plain_columns);
            let prepare = |body: Map<String, Value>| {
                let body = match options.format {
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
                store, session, &known, rows, batch_size, progress, prepare, ready, insert,
            )
            .await
        }
        Items::Notes => {
            let rows = source.rows(plain_columns);
            // v1 bodies take ids and flags as text already, CSV or not.
            let prepare = |body: Map<String, Value>| {
                let d = crate::api::v1::notes::draft(body).map_err(|e| e.to_string())?;
                prepare_note(session, &d, now).map_err(|e| e.to_string())
            };
            let insert = |store: Arc<dyn Store>, batch: Vec<NewNote>| async move {
                store.insert_notes(batch).await.map(|ids| ids.len())
            };
            load(
                store, session, &known, rows, batch_size, progress, prepare, ready, insert,
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
/// `prepare` applies the API's rules to a row, `complete` does what is left once its
/// references hold (finding or creating what it names), `insert` writes a batch in one
/// transaction.
#[allow(clippy::too_many_arguments)]
async fn load<U, T, P, C, CF, I, F>(
    store: &Arc<dyn Store>,
    session: &Session,
    known: &Known,
    rows: Rows,
    batch_size: usize,
    progress: &(dyn Fn(Progress) + Sync),
    prepare: P,
    complete: C,
    insert: I,
) -> Result<Summary, DomainError>
where
    T: Send + 'static,
    P: Fn(Map<String, Value>) -> Result<(U, Vec<Reference>), String>,
    C: Fn(U) -> CF,
    CF: std::future::Future<Output = Result<Result<T, String>, DomainError>>,
    I: Fn(Arc<dyn Store>, Vec<T>) -> F,
    F: std::future::Future<Output = Result<usize, StoreError>> + Send + 'static,
{
    let mut summary = Summary::default();
    let mut batch: Vec<T> = Vec::with_capacity(batch_size.min(100_000));
    let mut in_flight: Option<Insert> = None;
    let mut done = Progress::default();
    for (line, row) in rows {
        done.read += 1;
        if done.read.is_multiple_of(256) {
            progress(done);
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
        let item = match complete(item).await? {
            Ok(item) => item,
            Err(reason) => {
                summary.rejected.push((line, reason));
                continue;
            }
        };
        batch.push(item);
        if batch.len() >= batch_size {
            if let Some(previous) = in_flight.take() {
                done.imported += finish(previous, &mut done, progress).await?;
            }
            in_flight = Some(tokio::spawn(insert(
                store.clone(),
                std::mem::take(&mut batch),
            )));
        }
    }
    if let Some(previous) = in_flight.take() {
        done.imported += finish(previous, &mut done, progress).await?;
    }
    if !batch.is_empty() {
        let last = tokio::spawn(insert(store.clone(), batch));
        done.imported += finish(last, &mut done, progress).await?;
    }
    progress(done);
    summary.accepted = done.imported;
    Ok(summary)
}

/// Waits for a batch's write, telling `progress` while it does.
async fn finish(
    handle: Insert,
    done: &mut Progress,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<u64, DomainError> {
    if !handle.is_finished() {
        done.waiting = true;
        progress(*done);
    }
    let n = handle
        .await
        .map_err(|e| DomainError::Internal(format!("import batch task failed: {e}")))??;
    done.waiting = false;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of each row of a CSV text, as an import numbers them.
    fn lines_of(text: &str) -> Vec<(u64, String)> {
        let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.to_owned()));
        let file = CsvFile::open(reader).unwrap();
        let rows = file.rows(Box::new(|record| {
            let mut m = Map::new();
            m.insert("first".into(), Value::String(record[0].to_owned()));
            Ok(m)
        }));
        rows.map(|(line, row)| match row {
            Ok(m) => (line, m["first"].as_str().unwrap().to_owned()),
            Err(e) => (line, e),
        })
        .collect()
    }

    #[test]
    fn rows_are_numbered_by_their_first_line_whatever_ends_the_lines() {
        let expected = |rows: &[(u64, &str)]| {
            rows.iter()
                .map(|(l, s)| (*l, (*s).to_owned()))
                .collect::<Vec<_>>()
        };
        // LF, CRLF and CR alike; blank lines and a row quoted across lines counted.
        for end in ["\n", "\r\n", "\r"] {
            let text = [
                "name,v", "A,1", "", "B,2", "\"C", "D\",3", "", "", "E,4", "",
            ]
            .join(end);
            assert_eq!(
                lines_of(&text),
                expected(&[(2, "A"), (4, "B"), (5, "C\nD"), (9, "E")])
                    .into_iter()
                    .map(|(l, s)| (l, s.replace('\n', end)))
                    .collect::<Vec<_>>(),
                "{end:?}"
            );
        }
        // A byte-order mark, a row of empty cells (skipped) and a row of the wrong width.
        let rows = lines_of("\u{feff}Name,v\r\nA,1\r\n,\r\nB,2,3\r\nC,4");
        assert_eq!(rows[0], (2, "A".to_owned()));
        assert_eq!(rows[1].0, 4);
        assert!(
            rows[1].1.contains("3 cells where the header has 2"),
            "{rows:?}"
        );
        assert_eq!(rows[2], (5, "C".to_owned()));
    }

    #[test]
    fn the_delimiter_is_the_header_lines_most_frequent() {
        assert_eq!(sniff_delimiter(b"name,email\nA;B;C;D"), b',');
        assert_eq!(sniff_delimiter(b"Name;Email;\"a,b,c,d\"\n"), b';');
        assert_eq!(sniff_delimiter(b"Name\tEmail\tPhone"), b'\t');
        assert_eq!(sniff_delimiter(b"name"), b',');
        let rows = lines_of("Name;Visible to\r\nAda;3\r\n");
        assert_eq!(rows, vec![(2, "Ada".to_owned())]);
    }

    #[test]
    fn headers_match_v1_keys_and_pipedrive_labels_case_aside() {
        let fields = Fields::none(Kind::Person);
        let col = |h: &str| person_column(h, &fields);
        assert_eq!(col("Name"), Ok(Column::Key("name".into())));
        assert_eq!(col("FIRST_NAME"), Ok(Column::Key("first_name".into())));
        assert_eq!(col(" First  name "), Ok(Column::Key("first_name".into())));
        assert_eq!(col("Email - Work"), Ok(Column::Email(Some("work"))));
        assert_eq!(col("email-home"), Ok(Column::Email(Some("home"))));
        assert_eq!(col("Email"), Ok(Column::Email(None)));
        assert_eq!(col("Phone - Mobile"), Ok(Column::Phone(Some("mobile"))));
        assert_eq!(
            col("Person - Phone - Other"),
            Ok(Column::Phone(Some("other")))
        );
        assert_eq!(col("Organization - Name"), Ok(Column::Organization));
        assert_eq!(col("org_id"), Ok(Column::Key("org_id".into())));
        assert_eq!(col("Owner"), Ok(Column::Owner));
        assert_eq!(col("owner_id"), Ok(Column::Key("owner_id".into())));
        assert_eq!(col("Labels"), Ok(Column::Labels));
        assert_eq!(col("label_ids"), Ok(Column::Key("label_ids".into())));
        assert_eq!(col("Visible To"), Ok(Column::VisibleTo));
        assert_eq!(col("Marketing status"), Ok(Column::MarketingStatus));
        assert_eq!(col("Person created"), Ok(Column::Key("add_time".into())));
        assert_eq!(col("ID"), Err("is read-only".into()));
        assert_eq!(col("Open deals"), Err("is read-only".into()));
        assert_eq!(col("Email - Spam"), Err("is not a person field".into()));
        assert_eq!(col("Favourite colour"), Err("is not a person field".into()));
        assert_eq!(col(""), Err("has no header".into()));
    }

    fn custom(key: &str, name: &str, field_type: FieldType) -> crate::domain::fields::FieldDef {
        crate::domain::fields::FieldDef {
            id: 1,
            key: key.into(),
            name: name.into(),
            field_type,
            is_custom: true,
            order_nr: 0,
            add_visible_flag: true,
            created_by_user_id: None,
            updated_by_user_id: None,
            add_time: Timestamp::now(),
            update_time: Timestamp::now(),
            options: Vec::new(),
            deleted_options: Vec::new(),
            settings: Default::default(),
        }
    }

    #[test]
    fn custom_fields_are_found_by_name_or_key_and_their_parts_too() {
        let tier = "a".repeat(40);
        let budget = "b".repeat(40);
        let fields = Fields {
            kind: Kind::Person,
            defs: Arc::new([
                custom(&tier, "Tier", FieldType::Enum),
                custom(&budget, "Budget", FieldType::Monetary),
                custom(&"c".repeat(40), "Twice", FieldType::Varchar),
                custom(&"d".repeat(40), "twice", FieldType::Varchar),
            ]),
        };
        let col = |h: &str| person_column(h, &fields);
        assert_eq!(col("Tier"), Ok(Column::Custom(0)));
        assert_eq!(col("TIER"), Ok(Column::Custom(0)));
        assert_eq!(col(&tier), Ok(Column::Custom(0)));
        assert_eq!(col("Person - Budget"), Ok(Column::Custom(1)));
        let currency = Ok(Column::Key(format!("{budget}_currency")));
        assert_eq!(col("Budget - Currency"), currency);
        assert_eq!(col("Currency of Budget"), currency);
        assert_eq!(col(&format!("{budget}_currency")), currency);
        assert_eq!(col("Tier - Currency"), Err("is not a person field".into()));
        assert!(
            col("Twice")
                .unwrap_err()
                .starts_with("names 2 person fields")
        );
    }

    #[test]
    fn owners_are_active_users_by_email_or_name_and_ambiguity_is_refused() {
        let user = |id: i64, name: &str, email: &str, active: bool| User {
            id,
            company_id: 1,
            name: name.into(),
            email: email.into(),
            is_admin: false,
            active,
            add_time: Timestamp::now(),
            update_time: Timestamp::now(),
            last_login: None,
        };
        let columns = PersonColumns {
            columns: Vec::new(),
            fields: Fields::none(Kind::Person),
            labels: Vec::new(),
            users: Arc::new([
                user(1, "Admin", "admin@example.com", true),
                user(2, "Sam Seller", "sam@example.com", true),
                user(3, "Alex", "alex.one@example.com", true),
                user(4, "Alex", "alex.two@example.com", true),
                user(5, "Gone", "gone@example.com", false),
            ]),
            org_names: Default::default(),
        };
        let owner = |text: &str| columns.user("Owner", text);
        assert_eq!(owner("SAM@example.com"), Ok(2));
        assert_eq!(owner("sam  seller"), Ok(2));
        assert_eq!(owner("alex.two@example.com"), Ok(4));
        assert_eq!(owner("1"), Ok(1));
        assert!(owner("Alex").unwrap_err().contains("names 2 users"));
        assert_eq!(
            owner("Gone"),
            Err("Owner: user \"Gone\" is deactivated".into())
        );
        assert!(
            owner("5")
                .unwrap_err()
                .contains("is not a user of this company")
        );
        assert!(
            owner("Nobody")
                .unwrap_err()
                .starts_with("Owner: \"Nobody\" is not a user")
        );
    }

    #[test]
    fn visibility_takes_pipedrives_words_and_numbers() {
        assert_eq!(visibility("V", "Owner & followers"), Ok(json!("1")));
        assert_eq!(visibility("V", "entire company"), Ok(json!("3")));
        assert_eq!(
            visibility("V", "Owner’s visibility group and sub-groups"),
            Ok(json!("5"))
        );
        assert_eq!(visibility("V", "7"), Ok(json!("7")));
        assert!(
            visibility("Visible to", "Friends")
                .unwrap_err()
                .starts_with("Visible to: \"Friends\"")
        );
    }
}
