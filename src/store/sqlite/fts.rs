//! Person search on SQLite: an FTS5 trigram index over `persons.search_text`, brought up to
//! date by the writer behind the commits.
//!
//! Writing the index in every commit cost a third of a commit: FTS5 writes each transaction's
//! terms as a new segment and merges segments as they pile up, a fixed cost per flush whatever
//! its size. So a write only queues its person (`person_search_queue`, in its own transaction,
//! with the text the index holds for it), and the writer indexes the queue [`STEP`] persons at
//! a time: when that many are waiting, when it has had no write to do for [`IDLE`], when the
//! store closes, on start (a queue left by a crash or a stop that could not finish), and within
//! [`LOOK_AGAIN`] of another process leaving persons queued. A search reads the queued persons' own text
//! ([`person_text`]): it finds a person the moment their write is acknowledged, and never a
//! match the index has not yet taken out.

use std::time::Duration;

use rusqlite::{Connection, params};

use super::db::db_error;
use crate::domain::ports::StoreError;
use crate::store::sql::{Query, sql};

/// How many queued persons one step of the indexer takes (its own transaction).
pub const STEP: usize = 512;
/// How long the writer waits without a write before it indexes what is queued.
pub const IDLE: Duration = Duration::from_millis(2);
/// How often an idle writer with nothing queued looks for persons another process queued (a
/// `pipestack import` that stopped before it could index them all).
pub const LOOK_AGAIN: Duration = Duration::from_secs(1);
/// After steps that failed (a full disk, say), the writer waits twice as long each time
/// before the next, up to this.
pub const RETRY_AT_MOST: Duration = Duration::from_secs(1);
/// How many pages of segments are merged after each step (FTS5's `merge` command), in a
/// transaction of their own at the writer's next turn ([`Turns`]). FTS5's own merging
/// (`automerge`) is off: it merged whole levels at once inside some steps, 20–30 ms each and
/// the whole tail of creates (p99 16–24 ms at 32 connections; 7–9 ms with this,
/// `bench/RESULTS-write-path.md`). Small merges after every step keep the segments few
/// (searches after 20 s of creates ran as fast as before).
pub const MERGE_PAGES: i64 = 32;
/// Segments at one level beyond which FTS5 merges them at once anyway (its default is 16, which
/// the small merges may not keep below during a burst; a safety bound, not reached in the bench).
const CRISIS_MERGE: i64 = 64;
/// How long the writer goes on indexing when the store closes (a few hundred thousand persons;
/// what remains is indexed after the next start).
pub const CATCH_UP_AT_STOP: Duration = Duration::from_secs(3);

/// Appends the candidate condition of person search: three characters or more go through the
/// trigram index, for every person it is up to date for, and the queued persons' text is read
/// directly (the queue first: `CROSS JOIN` keeps SQLite from scanning the persons and probing
/// the queue); shorter terms, which a trigram cannot match, scan.
pub fn person_text(q: &mut Query, needle: &str) {
    if needle.chars().count() >= 3 {
        q.push_arg(
            "p.id IN (SELECT rowid FROM persons_fts WHERE persons_fts MATCH ? \
             AND rowid NOT IN (SELECT person_id FROM person_search_queue) \
             UNION ALL SELECT s.id FROM person_search_queue j CROSS JOIN persons s \
             ON s.id = j.person_id WHERE ",
            format!("\"{}\"", needle.replace('"', "\"\"")),
        );
        q.push_arg("instr(s.search_text, ?) > 0)", needle);
    } else {
        q.push_arg("instr(p.search_text, ?) > 0", needle);
    }
}

/// The ids of at most `limit` of a company's non-deleted persons whose text contains `needle`.
/// Three characters or more: the trigram index joined to the persons, so that it stops at the
/// limit (an `IN` list of [`person_text`] is filled with every match first: 55,000 for a
/// common three letters at a million persons); shorter terms scan.
pub fn person_text_first(needle: &str, company_id: i64, limit: usize) -> Query {
    if needle.chars().count() < 3 {
        return sql!(
            format!(
                "SELECT id FROM persons WHERE instr(search_text, ?) > 0 AND company_id = ? \
                 AND active_flag = TRUE LIMIT {limit}"
            ),
            needle,
            company_id
        );
    }
    sql!(
        format!(
            "SELECT p.id FROM persons_fts f CROSS JOIN persons p ON p.id = f.rowid \
             WHERE f.persons_fts MATCH ? AND p.company_id = ? AND p.active_flag = TRUE \
             AND f.rowid NOT IN (SELECT person_id FROM person_search_queue) \
             UNION ALL SELECT s.id FROM person_search_queue j CROSS JOIN persons s \
             ON s.id = j.person_id WHERE instr(s.search_text, ?) > 0 AND s.company_id = ? \
             AND s.active_flag = TRUE LIMIT {limit}"
        ),
        format!("\"{}\"", needle.replace('"', "\"\"")),
        company_id,
        needle,
        company_id
    )
}

/// The longest of the trigram index's lists that matching `needle` goes through, counted up
/// to `limit`: the persons (of any company, deleted or not) its most common trigram is in. The
/// index matches a term by walking the lists of all its trigrams, so this bounds what listing
/// its matches costs, whatever they number: phone digits that every phone shares go through
/// lists of a million (30–90 ms to list 10,000 matches, where walking the order took 8 ms);
/// `jensen` through lists under 100,000. Each list is counted up to `limit` (about 3 ms at
/// 100,000), for at most [`COUNTED_TRIGRAMS`]; a term shorter than a trigram, or longer than
/// that, counts as `limit` (a list walks reading rows).
pub fn person_text_count(needle: &str, limit: usize) -> Query {
    let chars: Vec<char> = needle.chars().collect();
    let trigrams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    if trigrams.is_empty() || trigrams.len() > COUNTED_TRIGRAMS {
        return sql!(format!("SELECT {limit}"));
    }
    let one = format!(
        "SELECT (SELECT count(*) FROM (SELECT rowid FROM persons_fts WHERE persons_fts MATCH ? \
         LIMIT {limit})) AS n"
    );
    let mut q = sql!(format!(
        "SELECT max(n) FROM ({})",
        vec![one; trigrams.len()].join(" UNION ALL ")
    ));
    for t in trigrams {
        q.args
            .push(format!("\"{}\"", t.replace('"', "\"\"")).into());
    }
    q
}

/// The most trigrams of a term [`person_text_count`] counts the lists of.
const COUNTED_TRIGRAMS: usize = 8;

/// Queues a person whose search text is about to change (or whose row is about to go), with
/// the text the index holds for them when they are not queued already: a queued person keeps
/// the text that was indexed, which is what the index must be told to take out.
pub fn enqueue(conn: &Connection, id: i64, indexed: Option<&str>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO person_search_queue (person_id, indexed_text) VALUES (?1, ?2) \
         ON CONFLICT (person_id) DO NOTHING",
    )
    .and_then(|mut s| s.execute(params![id, indexed]))
    .map_err(db_error)?;
    Ok(())
}

/// How many persons are queued.
pub fn queued(conn: &Connection) -> Result<usize, StoreError> {
    conn.query_row("SELECT count(*) FROM person_search_queue", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as usize)
    .map_err(db_error)
}

/// Merges up to [`MERGE_PAGES`] pages of segments in a transaction of its own (the writer's,
/// when it has nothing else to do, so that segments a burst of writes left are merged before
/// searches pay for them); whether FTS5 found more to merge.
pub fn merge_some(conn: &Connection) -> Result<bool, StoreError> {
    let before = conn.total_changes();
    conn.prepare_cached("INSERT INTO persons_fts (persons_fts, rank) VALUES ('merge', ?1)")
        .and_then(|mut s| s.execute([MERGE_PAGES]))
        .map_err(db_error)?;
    // FTS5's own test: fewer than two changes means nothing was left to merge.
    Ok(conn.total_changes() - before >= 2)
}

/// Sets FTS5's merging as [`MERGE_PAGES`] says (stored in the index's own configuration; run in
/// the migrations' transaction at every start, writing only what differs: opening a database
/// already set up, such as `pipestack migrate`'s source, writes nothing).
pub fn tune(conn: &Connection) -> Result<(), StoreError> {
    for (option, value) in [("automerge", 0), ("crisismerge", CRISIS_MERGE)] {
        conn.prepare_cached(
            "INSERT INTO persons_fts (persons_fts, rank) SELECT ?1, ?2 WHERE NOT EXISTS \
             (SELECT 1 FROM persons_fts_config WHERE k = ?1 AND v = ?2)",
        )
        .and_then(|mut s| s.execute(params![option, value]))
        .map_err(db_error)?;
    }
    Ok(())
}

/// What the writer does between two batches, one at a time and each in its own transaction,
/// so that no pause between batches is longer than one of them: a step when a step's worth is
/// queued, and after each step, at the next turn, [`MERGE_PAGES`] pages of merging. (A step
/// and its merge in one transaction made the longest pause, ~2.8 ms for 512 persons, and so
/// the tail of creates: p99 5.5–7.1 ms at 32 connections, against 4.0–5.3 ms taken apart,
/// `bench/RESULTS-write-path.md`.)
#[derive(Default)]
pub struct Turns {
    merge_owed: bool,
}

/// What a turn did.
#[derive(Debug, PartialEq)]
pub enum Turn {
    /// Indexed this many persons.
    Stepped(usize),
    /// Merged what the last step left.
    Merged,
    /// Nothing: no step's worth queued and no merge owed.
    Idle,
}

impl Turns {
    /// Takes the next turn, `behind` being how many persons may be queued. A merge that fails
    /// is not owed again: what is left is merged when the writer is idle.
    pub fn take(&mut self, conn: &Connection, behind: usize) -> Result<Turn, StoreError> {
        if std::mem::take(&mut self.merge_owed) {
            merge_some(conn)?;
            return Ok(Turn::Merged);
        }
        if behind < STEP {
            return Ok(Turn::Idle);
        }
        let n = step(conn)?;
        self.merge_owed = true;
        Ok(Turn::Stepped(n))
    }
}

/// How many persons may still be queued after a step took `taken` of `behind`: none when it
/// took less than a step's worth, at least one otherwise (the next step finds out).
pub fn left(behind: usize, taken: usize) -> usize {
    if taken < STEP {
        0
    } else {
        behind.saturating_sub(taken).max(1)
    }
}

/// Indexes up to [`STEP`] queued persons in one transaction (the writer's, between batches);
/// how many it took.
pub fn step(conn: &Connection) -> Result<usize, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
    let done = index_queued(conn).and_then(|n| {
        conn.execute_batch("COMMIT").map_err(db_error)?;
        Ok(n)
    });
    if done.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    done
}

fn index_queued(conn: &Connection) -> Result<usize, StoreError> {
    type Queued = (i64, Option<String>, Option<String>);
    let queued: Vec<Queued> = conn
        .prepare_cached(
            "SELECT j.person_id, j.indexed_text, p.search_text FROM person_search_queue j \
             LEFT JOIN persons p ON p.id = j.person_id ORDER BY j.person_id LIMIT ?1",
        )
        .and_then(|mut s| {
            s.query_map([STEP as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(db_error)?;
    let Some(&(last, _, _)) = queued.last() else {
        return Ok(0);
    };
    for (id, old, new) in &queued {
        if let Some(old) = old {
            conn.prepare_cached(
                "INSERT INTO persons_fts (persons_fts, rowid, search_text) VALUES ('delete', ?1, ?2)",
            )
            .and_then(|mut s| s.execute(params![id, old]))
            .map_err(db_error)?;
        }
        if let Some(new) = new {
            conn.prepare_cached("INSERT INTO persons_fts (rowid, search_text) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![id, new]))
                .map_err(db_error)?;
        }
    }
    conn.prepare_cached("DELETE FROM person_search_queue WHERE person_id <= ?1")
        .and_then(|mut s| s.execute([last]))
        .map_err(db_error)?;
    Ok(queued.len())
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, params_from_iter};

    use super::*;
    use crate::store::sqlite::SqliteDb;

    /// A migrated database whose persons need no company (foreign keys off).
    fn db() -> SqliteDb {
        let conn = Connection::open_in_memory().unwrap();
        let db = SqliteDb::new(conn);
        super::super::migrate(&db).unwrap();
        db.conn()
            .unwrap()
            .execute_batch("PRAGMA foreign_keys = OFF")
            .unwrap();
        db
    }

    /// The persons `needle` finds, by id; the early-stopping query finds the same.
    fn found(conn: &Connection, needle: &str) -> Vec<i64> {
        let ids = |q: Query| -> Vec<i64> {
            let mut stmt = conn.prepare(&q.sql).unwrap();
            stmt.query_map(params_from_iter(q.args.iter()), |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let mut q = Query::default();
        q.push("SELECT p.id FROM persons p WHERE ");
        person_text(&mut q, needle);
        q.push(" ORDER BY p.id");
        let all = ids(q);
        let mut first = ids(person_text_first(needle, 1, 100_000));
        first.sort();
        assert_eq!(first, all, "{needle}: the first matches");
        all
    }

    fn plan(conn: &Connection, q: Query) -> Vec<String> {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", q.sql))
            .unwrap();
        stmt.query_map(params_from_iter(q.args.iter()), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn set_text(conn: &Connection, id: i64, text: &str) {
        conn.execute(
            "INSERT INTO persons (id, company_id, owner_id, name, visible_to, add_time, \
             update_time, search_text) VALUES (?1, 1, 1, 'x', 3, 0, 0, ?2) \
             ON CONFLICT (id) DO UPDATE SET search_text = excluded.search_text",
            params![id, text],
        )
        .unwrap();
    }

    /// The index matches its content table exactly (FTS5's own check, content included).
    fn assert_index_whole(conn: &Connection) {
        assert_eq!(queued(conn).unwrap(), 0);
        conn.execute(
            "INSERT INTO persons_fts (persons_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .expect("the index holds exactly the persons' texts");
    }

    /// Segments in the index, counted through its `%_idx` table (rows by segment and leaf).
    fn segments(conn: &Connection) -> i64 {
        conn.query_row(
            "SELECT count(DISTINCT segid) FROM persons_fts_idx",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn turns_merge_a_little_after_each_step_so_segments_stay_few_and_the_index_whole() {
        let db = db();
        let conn = db.conn().unwrap();
        let setting = |k: &str| -> i64 {
            conn.query_row("SELECT v FROM persons_fts_config WHERE k = ?1", [k], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(
            setting("automerge"),
            0,
            "FTS5 merges whole levels itself otherwise"
        );
        assert_eq!(setting("crisismerge"), CRISIS_MERGE);
        let before = conn.total_changes();
        tune(&conn).unwrap();
        assert_eq!(conn.total_changes(), before, "set already: nothing written");
        // 200 steps of 20 persons, taken as the writer takes them between batches (told a
        // step's worth is queued): without the merges, segments pile up to `crisismerge`.
        let mut turns = Turns::default();
        let mut most = 0;
        for s in 0..200 {
            for i in 0..20 {
                let id = s * 20 + i + 1;
                enqueue(&conn, id, None).unwrap();
                set_text(&conn, id, &format!("person {id} of step {s}"));
            }
            assert_eq!(turns.take(&conn, STEP).unwrap(), Turn::Stepped(20));
            // The next turn merges, even with a step's worth queued; then nothing is owed.
            assert_eq!(turns.take(&conn, STEP).unwrap(), Turn::Merged);
            assert_eq!(turns.take(&conn, STEP - 1).unwrap(), Turn::Idle);
            most = most.max(segments(&conn));
        }
        assert!(most < 24, "at most {most} segments at once");
        assert_index_whole(&conn);
        assert_eq!(found(&conn, "person 1234 "), [1234]);
    }

    #[test]
    fn idle_merging_takes_the_segments_down_until_fts5_has_nothing_left() {
        let db = db();
        let conn = db.conn().unwrap();
        // 40 segments: each person indexed in a transaction of its own, nothing merged.
        for id in 1..=40 {
            let text = format!("idle person {id}");
            set_text(&conn, id, &text);
            conn.execute(
                "INSERT INTO persons_fts (rowid, search_text) VALUES (?1, ?2)",
                params![id, text],
            )
            .unwrap();
        }
        assert_eq!(segments(&conn), 40);
        let mut rounds = 0;
        while merge_some(&conn).unwrap() {
            rounds += 1;
            assert!(rounds < 10_000, "merging never ends");
        }
        assert!(segments(&conn) < 8, "{} segments left", segments(&conn));
        assert!(!merge_some(&conn).unwrap(), "nothing left to merge");
        assert_index_whole(&conn);
        assert_eq!(found(&conn, "person 17"), [17]);
    }

    #[test]
    fn a_search_reads_queued_persons_itself_and_the_index_catches_up_exactly() {
        let db = db();
        let conn = db.conn().unwrap();
        // Two new persons, queued and not indexed: found at once.
        for (id, text) in [(1, "alice anders"), (2, "bob berg")] {
            enqueue(&conn, id, None).unwrap();
            set_text(&conn, id, text);
        }
        assert_eq!(found(&conn, "anders"), [1]);
        assert_eq!(found(&conn, "berg"), [2]);
        assert_eq!(step(&conn).unwrap(), 2);
        assert_index_whole(&conn);
        assert_eq!(found(&conn, "anders"), [1]);

        // Renamed twice before the index catches up: the old text is never found, the newest
        // is, and the index is told to take out the text it really holds.
        enqueue(&conn, 1, Some("alice anders")).unwrap();
        set_text(&conn, 1, "carol carlsen");
        enqueue(&conn, 1, Some("carol carlsen")).unwrap();
        set_text(&conn, 1, "dora dahl");
        assert_eq!(found(&conn, "anders"), Vec::<i64>::new());
        assert_eq!(found(&conn, "carlsen"), Vec::<i64>::new());
        assert_eq!(found(&conn, "dahl"), [1]);
        assert_eq!(step(&conn).unwrap(), 1);
        assert_index_whole(&conn);
        assert_eq!(found(&conn, "dahl"), [1]);
        assert_eq!(found(&conn, "anders"), Vec::<i64>::new());

        // A row deleted (a reset) and another inserted under its id (a restore).
        enqueue(&conn, 2, Some("bob berg")).unwrap();
        conn.execute("DELETE FROM persons WHERE id = 2", [])
            .unwrap();
        assert_eq!(found(&conn, "berg"), Vec::<i64>::new());
        enqueue(&conn, 2, None).unwrap();
        set_text(&conn, 2, "erik eng");
        assert_eq!(found(&conn, "eng"), [2]);
        assert_eq!(step(&conn).unwrap(), 1);
        assert_index_whole(&conn);
        assert_eq!(found(&conn, "berg"), Vec::<i64>::new());
        assert_eq!(found(&conn, "eng"), [2]);
        assert_eq!(step(&conn).unwrap(), 0);
    }

    /// The queued persons are read from the queue, never by scanning every person for the
    /// queue (which made a search at 100,000 persons 150 times slower).
    #[test]
    fn a_search_reads_the_queue_by_its_rows_not_every_person() {
        let db = db();
        let conn = db.conn().unwrap();
        let mut q = Query::default();
        q.push("EXPLAIN QUERY PLAN SELECT p.id FROM persons p WHERE ");
        person_text(&mut q, "needle");
        q.push(" AND p.company_id = 1 AND p.active_flag = TRUE ORDER BY p.id");
        let mut stmt = conn.prepare(&q.sql).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params_from_iter(q.args.iter()), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|s| s == "SCAN j"), "{plan:?}");
        assert!(
            plan.iter().all(|s| !["SCAN p", "SCAN s"]
                .iter()
                .any(|scan| s == scan || s.starts_with(&format!("{scan} ")))),
            "{plan:?}"
        );
    }

    /// The first matches are read from the index joined to the persons (so the limit stops
    /// the index's walk), and the queue by its rows.
    #[test]
    fn the_first_matches_walk_the_index_into_the_persons() {
        let db = db();
        let conn = db.conn().unwrap();
        let plan = plan(&conn, person_text_first("needle", 1, 2001));
        assert!(
            plan.iter().any(|s| s.starts_with("SCAN f VIRTUAL TABLE")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|s| s.starts_with("SEARCH p USING INTEGER PRIMARY KEY")),
            "{plan:?}"
        );
        assert!(plan.iter().any(|s| s == "SCAN j"), "{plan:?}");
        assert!(
            !plan
                .iter()
                .any(|s| s.starts_with("SCAN p") || s.starts_with("SCAN s")),
            "{plan:?}"
        );
    }

    /// A list narrowed by a text takes one of three ways (few matches sorted from their ids,
    /// the order walked looking ids up among the index's matches, or reading each row's
    /// text): each gives the same pages, for persons indexed and queued alike.
    #[tokio::test]
    async fn the_three_ways_of_narrowing_a_list_by_text_give_the_same_pages() {
        use crate::domain::person::NewPerson;
        use crate::domain::query::{Direction, Page, PersonFilter, PersonQuery, SortField};
        use crate::domain::{Timestamp, Visibility};
        use crate::store::sql::persons::{self, PreparedPerson, Thresholds};

        let db = db();
        let mut names = Vec::new();
        for i in 0..60 {
            let name = if i % 5 == 0 {
                format!("Rare {i:02}")
            } else {
                format!("Common {i:02}")
            };
            let p = NewPerson {
                company_id: 1,
                owner_id: 1,
                org_id: None,
                name: name.clone(),
                first_name: None,
                last_name: None,
                emails: Vec::new(),
                phones: Vec::new(),
                label_ids: Vec::new(),
                visible_to: Visibility::DEFAULT,
                marketing_status: None,
                custom_fields: serde_json::Map::new(),
                add_time: Timestamp(i),
                update_time: Timestamp(i),
                followers: Vec::new(),
                created_by: 1,
                source: Default::default(),
            };
            persons::insert_rows(&db, &PreparedPerson::new(p).unwrap())
                .await
                .unwrap();
            names.push(name);
            if i == 39 {
                // The first forty indexed, the rest queued.
                step(&db.conn().unwrap()).unwrap();
            }
        }
        // The cost bound: the longest trigram list of the term (the indexed persons only),
        // capped; a term under a trigram counts as the cap.
        let count = |needle: &str, cap: usize| -> i64 {
            let q = person_text_count(needle, cap);
            let conn = db.conn().unwrap();
            conn.query_row(&q.sql, params_from_iter(q.args.iter()), |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count("rar", 1_000), 8);
        assert_eq!(
            count("mon 3", 1_000),
            32,
            "'mon' is in every indexed Common"
        );
        assert_eq!(count("com", 5), 5);
        assert_eq!(count("xy", 10), 10);
        let ways = [
            (
                "sorted from ids",
                Thresholds {
                    few: 1_000,
                    common: 1_000,
                },
            ),
            (
                "ids looked up",
                Thresholds {
                    few: 2,
                    common: 1_000,
                },
            ),
            ("rows read", Thresholds { few: 2, common: 3 }),
        ];
        for needle in ["rar", "com", "n 3", "mon 3", "nob"] {
            let mut expected: Vec<&String> = names
                .iter()
                .filter(|n| n.to_lowercase().contains(needle))
                .collect();
            expected.sort();
            for start in [0, 5, 40] {
                let page: Vec<&String> = expected.iter().skip(start).take(5).copied().collect();
                let q = PersonQuery {
                    filter: PersonFilter {
                        text: Some(needle.to_owned()),
                        ..PersonFilter::default()
                    },
                    order: vec![(SortField::Name, Direction::Asc)],
                    page: Page::Offset {
                        start: start as i64,
                    },
                    limit: 5,
                };
                for (way, t) in ways {
                    let got = persons::list_with(&db, 1, &q, t).await.unwrap();
                    let got: Vec<&String> = got.iter().map(|p| &p.name).collect();
                    assert_eq!(got, page, "{needle} from {start}, {way}");
                }
            }
        }
    }

    #[test]
    fn a_step_takes_a_bounded_number_and_the_rest_stays_found() {
        let db = db();
        let conn = db.conn().unwrap();
        let n = STEP as i64 + 10;
        for id in 1..=n {
            enqueue(&conn, id, None).unwrap();
            set_text(&conn, id, &format!("person number {id:05}"));
        }
        assert_eq!(step(&conn).unwrap(), STEP);
        assert_eq!(queued(&conn).unwrap(), 10);
        assert_eq!(found(&conn, &format!("{n:05}")), [n]);
        assert_eq!(found(&conn, "00007"), [7]);
        assert_eq!(found(&conn, "number").len(), n as usize);
        assert_eq!(step(&conn).unwrap(), 10);
        assert_index_whole(&conn);
    }
}
