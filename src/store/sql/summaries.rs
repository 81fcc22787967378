//! The summaries persons, organizations and deals show ([`crate::domain::summary`] says what
//! each field counts): deal counts, activity counts, the next and last activity, and the notes
//! count, all read in one statement per page, one round trip, each part an indexed lookup
//! from the items.

use super::{Arg, Db, FromRow, Query, Row, sql};
use crate::domain::Kind;
use crate::domain::deal::DealCounts;
use crate::domain::ports::StoreError;
use crate::domain::summary::{ActivitySummary, DueActivity, Summary, SummaryParts};

/// One part of the statement: its SQL and arguments. Every part answers the same columns:
/// the item, what the row says (`open`/`won`/`lost` direct deal counts, `ropen`/… related
/// ones, `n` next and `l` last activity with the activity counts, `o` notes), two numbers, and an
/// activity with its due date and time (and, for deals, its subject, type, duration and note).
struct Part(String, Vec<Arg>);

/// `?, ?, …` for `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn ids_args(ids: &[i64]) -> impl Iterator<Item = Arg> + '_ {
    ids.iter().map(|id| Arg::from(*id))
}

/// The columns a part that names no activity ends with.
const NO_ACTIVITY: &str = "CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), \
    CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT)";

/// Direct and related deal counts of persons or organizations.
fn deal_parts(company_id: i64, kind: Kind, ids: &[i64], ref_fields: &[String]) -> Vec<Part> {
    let direct = match kind {
        Kind::Organization => "d.org_id",
        _ => "d.person_id",
    };
    let mut args: Vec<Arg> = vec![company_id.into()];
    args.extend(ids_args(ids));
    let mut parts = vec![Part(
        format!(
            "SELECT {direct}, d.status, COUNT(*), CAST(0 AS BIGINT), {NO_ACTIVITY} FROM deals d \
             WHERE d.company_id = ? AND {direct} IN ({}) AND d.active_flag = TRUE \
             GROUP BY {direct}, d.status",
            marks(ids.len())
        ),
        args,
    )];
    // Related: named in a live custom value or (organizations) through a contact person who
    // belongs to it; each deal once per item, never one the item is directly on.
    let mut links = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    if !ref_fields.is_empty() {
        links.push(format!(
            "SELECT item_id AS item, deal_id FROM deal_refs WHERE company_id = ? AND kind = ? \
             AND item_id IN ({}) AND field_key IN ({})",
            marks(ids.len()),
            marks(ref_fields.len())
        ));
        args.push(company_id.into());
        args.push(kind.as_str().into());
        args.extend(ids_args(ids));
        args.extend(ref_fields.iter().map(|k| Arg::from(k.as_str())));
    }
    if kind == Kind::Organization {
        links.push(format!(
            // From the organization's persons (by its index) to their deals: the join names
            // no company on the deals, so that no planner starts from all the company's deals.
            "SELECT p.org_id AS item, d2.id AS deal_id FROM persons p \
             JOIN deals d2 ON d2.person_id = p.id \
             WHERE p.company_id = ? AND p.org_id IN ({}) AND p.active_flag = TRUE",
            marks(ids.len())
        ));
        args.push(company_id.into());
        args.extend(ids_args(ids));
    }
    if !links.is_empty() {
        parts.push(Part(
            format!(
                "SELECT r.item, 'r' || d.status, COUNT(*), CAST(0 AS BIGINT), {NO_ACTIVITY} \
                 FROM deals d JOIN (SELECT DISTINCT item, deal_id FROM ({}) links) r \
                 ON r.deal_id = d.id WHERE d.active_flag = TRUE \
                 AND ({direct} IS NULL OR {direct} <> r.item) GROUP BY r.item, d.status",
                links.join(" UNION ")
            ),
            args,
        ));
    }
    parts
}

/// Activity counts, next and last activity, and notes count.
fn activity_parts(company_id: i64, kind: Kind, ids: &[i64], viewer: Option<i64>) -> Vec<Part> {
    let list = marks(ids.len());
    // Where an item's activities come from, and which column names the item.
    let (from, item, note_col) = match kind {
        Kind::Person => (
            format!(
                "activity_participants l JOIN activities a ON a.id = l.activity_id \
                 WHERE l.person_id IN ({list}) AND l.company_id = ?"
            ),
            "l.person_id",
            "n.person_id",
        ),
        Kind::Organization => (
            format!("activities a WHERE a.org_id IN ({list}) AND a.company_id = ?"),
            "a.org_id",
            "n.org_id",
        ),
        Kind::Deal => (
            format!("activities a WHERE a.deal_id IN ({list}) AND a.company_id = ?"),
            "a.deal_id",
            "n.deal_id",
        ),
    };
    // Only what the viewer may see of them (the rule of `push_visible`, as their reads apply).
    let visible = |alias: &str, own: &str| {
        let mut q = sql!(String::new());
        super::activities::push_visible(&mut q, alias, own, viewer);
        q
    };
    let (activities_visible, notes_visible) = (visible("a", "owner_id"), visible("n", "user_id"));
    let source = format!("{from} AND a.active_flag = TRUE{}", activities_visible.sql);
    let args = |extra: &Query| {
        let mut a: Vec<Arg> = ids_args(ids).collect();
        a.push(company_id.into());
        a.extend(extra.args.iter().cloned());
        a
    };
    // A deal shows its next activity's subject, type, duration and note (v1); persons and
    // organizations only its date and time.
    let details = match kind {
        Kind::Deal => "a.subject, a.type, a.duration, a.note",
        _ => {
            "CAST(NULL AS TEXT) AS subject, CAST(NULL AS TEXT) AS type, \
             CAST(NULL AS TEXT) AS duration, CAST(NULL AS TEXT) AS note"
        }
    };
    // One pass over an item's activities: its counts, and the first of its undone ones (due
    // first: dated before undated, then by date and time, then id) and of its done ones (due
    // last: dated before undated, then latest date and time, latest marked done, highest id).
    let order = "CASE WHEN a.due_key = 0 THEN 1 ELSE 0 END, \
        CASE WHEN a.done THEN -a.due_key ELSE a.due_key END, \
        CASE WHEN a.done THEN -COALESCE(a.marked_as_done_time, 0) ELSE 0 END, \
        CASE WHEN a.done THEN -a.id ELSE a.id END";
    vec![
        Part(
            format!(
                "SELECT x.item, CASE WHEN x.done THEN 'l' ELSE 'n' END, x.total, x.done_count, \
                 x.id, x.due_date, x.due_time, x.subject, x.type, x.duration, x.note FROM (\
                 SELECT {item} AS item, a.id, a.done, a.due_date, a.due_time, {details}, \
                 COUNT(*) OVER (PARTITION BY {item}) AS total, \
                 SUM(CASE WHEN a.done THEN 1 ELSE 0 END) OVER (PARTITION BY {item}) AS done_count, \
                 ROW_NUMBER() OVER (PARTITION BY {item}, a.done ORDER BY {order}) AS rn \
                 FROM {source}) x WHERE x.rn = 1"
            ),
            args(&activities_visible),
        ),
        Part(
            format!(
                "SELECT {note_col}, 'o', COUNT(*), CAST(0 AS BIGINT), {NO_ACTIVITY} FROM notes n \
                 WHERE {note_col} IN ({list}) AND n.active_flag = TRUE AND n.company_id = ?{} \
                 GROUP BY {note_col}",
                notes_visible.sql
            ),
            args(&notes_visible),
        ),
    ]
}

/// One row of the statement (see [`Part`]).
struct SummaryRow {
    item: i64,
    part: String,
    a: i64,
    b: i64,
    activity: Option<DueActivity>,
}

impl FromRow for SummaryRow {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        let activity = match r.opt_int(4)? {
            Some(id) => Some(DueActivity {
                id,
                due_date: r.opt_string(5)?,
                due_time: r.opt_string(6)?,
                subject: r.opt_string(7)?,
                type_key: r.opt_string(8)?,
                duration: r.opt_string(9)?,
                note: r.opt_string(10)?,
            }),
            None => None,
        };
        Ok(SummaryRow {
            item: r.int(0)?,
            part: r.string(1)?,
            a: r.int(2)?,
            b: r.opt_int(3)?.unwrap_or(0),
            activity,
        })
    }
}

/// The summaries of persons, organizations or deals, the parts `parts` asks for, in one
/// statement.
pub async fn summaries(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    ids: &[i64],
    parts: &SummaryParts,
) -> Result<Vec<(i64, Summary)>, StoreError> {
    let mut all = Vec::new();
    if let Some(ref_fields) = parts.deals.as_ref().filter(|_| kind != Kind::Deal) {
        all.extend(deal_parts(company_id, kind, ids, ref_fields));
    }
    if parts.activities {
        all.extend(activity_parts(company_id, kind, ids, parts.viewer));
    }
    if ids.is_empty() || all.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sql!(String::new());
    for (n, Part(text, args)) in all.into_iter().enumerate() {
        if n > 0 {
            q.push(" UNION ALL ");
        }
        q.push(&text);
        q.args.extend(args);
    }
    let rows: Vec<SummaryRow> = db.rows(q).await?;
    let mut out: Vec<(i64, Summary)> = Vec::new();
    for SummaryRow {
        item,
        part,
        a,
        b,
        activity,
    } in rows
    {
        let at = match out.iter().position(|(i, _)| *i == item) {
            Some(i) => i,
            None => {
                out.push((item, Summary::default()));
                out.len() - 1
            }
        };
        let s = &mut out[at].1;
        let deals: &mut DealCounts = &mut s.deals;
        let acts: &mut ActivitySummary = &mut s.activities;
        match part.as_str() {
            "open" => deals.open += a,
            "won" => deals.won += a,
            "lost" => deals.lost += a,
            "ropen" => deals.related_open += a,
            "rwon" => deals.related_won += a,
            "rlost" => deals.related_lost += a,
            "n" | "l" => {
                acts.total = a;
                acts.done = b;
                if part == "n" {
                    acts.next = activity;
                } else {
                    acts.last = activity;
                }
            }
            "o" => acts.notes = a,
            other => {
                return Err(StoreError::Internal(format!(
                    "a summary row of an unknown part {other:?}"
                )));
            }
        }
    }
    Ok(out)
}
