//! Followers of persons, organizations and deals, and their changelog.

use super::{Db, FromRow, Row, first, sql};
use crate::domain::Timestamp;
use crate::domain::followers::{Follower, FollowerChange, FollowerRef, Kind};
use crate::domain::ports::StoreError;

/// The user ids following the item of the outer query (`p`, `o` or `d`), in no particular order:
/// only membership and count are read, and an ordered aggregate costs SQLite a sort per row.
///
/// Persons keep theirs on their row (`persons.follower_ids`, see [`refresh`]): this reads the
/// column there.
pub const fn ids_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "p.follower_ids",
        Kind::Organization => {
            "(SELECT string_agg(CAST(f.user_id AS TEXT), ',') FROM followers f \
             WHERE f.kind = 'organization' AND f.item_id = o.id)"
        }
        Kind::Deal => {
            "(SELECT string_agg(CAST(f.user_id AS TEXT), ',') FROM followers f \
             WHERE f.kind = 'deal' AND f.item_id = d.id)"
        }
    }
}

/// The table of an item kind.
pub const fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "persons",
        Kind::Organization => "organizations",
        Kind::Deal => "deals",
    }
}

const COLUMNS: &str = "id, item_id, user_id, add_time";

impl FromRow for Follower {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(Follower {
            id: r.int(0)?,
            item_id: r.int(1)?,
            user_id: r.int(2)?,
            add_time: r.time(3)?,
        })
    }
}

impl FromRow for FollowerChange {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(FollowerChange {
            id: r.int(0)?,
            action: r.string(1)?,
            actor_user_id: r.int(2)?,
            follower_user_id: r.int(3)?,
            time: r.time(4)?,
        })
    }
}

pub async fn list(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    item_id: i64,
) -> Result<Vec<Follower>, StoreError> {
    db.rows(sql!(
        format!(
            "SELECT {COLUMNS} FROM followers WHERE company_id = ? AND kind = ? AND item_id = ? \
             ORDER BY id"
        ),
        company_id,
        kind.as_str(),
        item_id
    ))
    .await
}

/// An item's followers changelog, oldest first: the logged changes, and the additions of the
/// follows it was created with that still stand (read from their rows, [`follow_new`]).
pub async fn changes(
    db: &impl Db,
    company_id: i64,
    kind: Kind,
    item_id: i64,
) -> Result<Vec<FollowerChange>, StoreError> {
    db.rows(sql!(
        format!(
            "SELECT id, action, actor_user_id, user_id, time FROM (\
             SELECT id {FIRST_KEY} AS id, 'added' AS action, unlogged_actor AS actor_user_id, \
             user_id, add_time AS time FROM followers WHERE company_id = ? AND kind = ? \
             AND item_id = ? AND unlogged_actor IS NOT NULL \
             UNION ALL SELECT id, action, actor_user_id, user_id, time FROM follower_changes \
             WHERE company_id = ? AND kind = ? AND item_id = ?) c ORDER BY id"
        ),
        company_id,
        kind.as_str(),
        item_id,
        company_id,
        kind.as_str(),
        item_id
    ))
    .await
}

/// The changelog's key of a follow an item was created with, from its relationship's id:
/// below every logged change's (the item's first events), in the order they were made, the
/// same while the follow stands (read from its row) and after it ended (written to the log).
const FIRST_KEY: &str = "- 4611686018427387904";

/// What a follow or an unfollow is about.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub company_id: i64,
    pub kind: Kind,
    pub id: i64,
}

/// Adds a follower (unless the user already follows) and logs it; the relationship's id when
/// one was added.
pub async fn follow<D: Db>(
    db: &D,
    item: Item,
    user_id: i64,
    actor: i64,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    hold(db, item).await?;
    let added = if D::DIALECT.writing_with {
        first(
            db,
            sql!(
                "WITH f AS (INSERT INTO followers (company_id, kind, item_id, user_id, add_time) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING \
                 RETURNING id, company_id, kind, item_id, user_id, add_time), \
                 l AS (INSERT INTO follower_changes (company_id, kind, item_id, user_id, \
                 actor_user_id, action, time) SELECT f.company_id, f.kind, f.item_id, \
                 f.user_id, ?, 'added', f.add_time FROM f) SELECT id FROM f",
                item.company_id,
                item.kind.as_str(),
                item.id,
                user_id,
                now,
                actor
            ),
        )
        .await?
    } else {
        let added = insert(db, item, user_id, now, None).await?;
        if added.is_some() {
            log(db, item, user_id, actor, "added", now).await?;
        }
        added
    };
    if added.is_some() {
        refresh(db, item).await?;
    }
    Ok(added)
}

/// Inserts a follower unless the user already follows; the relationship's id when it did.
async fn insert(
    db: &impl Db,
    item: Item,
    user_id: i64,
    now: Timestamp,
    unlogged_actor: Option<i64>,
) -> Result<Option<i64>, StoreError> {
    db.insert(sql!(
        "INSERT INTO followers (company_id, kind, item_id, user_id, add_time, unlogged_actor) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        item.company_id,
        item.kind.as_str(),
        item.id,
        user_id,
        now,
        unlogged_actor
    ))
    .await
}

/// Locks a person's row before its followers change: on PostgreSQL a follow of the same person
/// committing meanwhile is then seen by [`refresh`]'s aggregate (its snapshot is taken after the
/// lock is granted), and every write that changes a person's followers takes the person first.
async fn hold<D: Db>(db: &D, item: Item) -> Result<(), StoreError> {
    if matches!(item.kind, Kind::Person) && D::DIALECT.row_locks {
        let mut q = sql!("SELECT p.id FROM persons p WHERE p.id = ?", item.id);
        super::lock::<D>(&mut q, "p");
        if db.rows::<i64>(q).await?.is_empty() {
            // Persons are never deleted but by a reset or a restore of the company, which
            // committed after this write's snapshot: run again on what it left.
            return Err(StoreError::Contended(format!(
                "person {} was replaced meanwhile",
                item.id
            )));
        }
    }
    Ok(())
}

/// Writes the item's copy of its followers' ids again from the followers table: persons keep
/// one on their row, which a page of persons reads instead of the table. Every change of the
/// table goes through here, after [`hold`] (or inserts the item with the copy already right).
async fn refresh(db: &impl Db, item: Item) -> Result<(), StoreError> {
    if let Kind::Person = item.kind {
        db.execute(sql!(
            format!("UPDATE persons SET follower_ids = {PERSON_IDS} WHERE id = ?"),
            item.id
        ))
        .await?;
    }
    Ok(())
}

/// Every person's copy of its followers' ids written again (a company's, after a restore).
pub async fn refresh_company(db: &impl Db, company_id: i64) -> Result<(), StoreError> {
    db.execute(sql!(
        format!("UPDATE persons SET follower_ids = {PERSON_IDS} WHERE company_id = ?"),
        company_id
    ))
    .await?;
    Ok(())
}

/// The user ids following the person of the outer `persons` row, as `follower_ids` holds them.
const PERSON_IDS: &str = "(SELECT string_agg(CAST(f.user_id AS TEXT), ',') FROM followers f \
    WHERE f.kind = 'person' AND f.item_id = persons.id)";

/// A follow an item is created with, by `actor` (the item is just inserted, its copy of its
/// followers' ids, a person's `follower_ids`, already written). Its addition is not logged:
/// the row keeps who made it, [`changes`] reads it from there, and [`unfollow`] logs it before
/// the follow ends (a statement and two B-trees less per create: 6–7% of durable creates).
pub async fn follow_new(
    db: &impl Db,
    item: Item,
    user_id: i64,
    actor: i64,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    insert(db, item, user_id, now, Some(actor)).await
}

/// Removes a follower and logs it; `None` when there is no such follower.
pub async fn unfollow<D: Db>(
    db: &D,
    item: Item,
    which: FollowerRef,
    actor: i64,
    now: Timestamp,
) -> Result<Option<Follower>, StoreError> {
    hold(db, item).await?;
    let (column, value) = match which {
        FollowerRef::Relationship(id) => ("id", id),
        FollowerRef::User(id) => ("user_id", id),
    };
    // Locked: of two unfollows of one follow, the second waits and finds it gone (it would
    // log the end twice, and the addition of a creation's follow under a key already taken).
    let mut q = sql!(
        format!(
            "SELECT {COLUMNS} FROM followers f WHERE company_id = ? AND kind = ? \
             AND item_id = ? AND {column} = ?"
        ),
        item.company_id,
        item.kind.as_str(),
        item.id,
        value
    );
    super::lock::<D>(&mut q, "f");
    let found: Option<Follower> = first(db, q).await?;
    let Some(f) = found else { return Ok(None) };
    // A follow the item was created with has its addition logged now, under its own key.
    db.execute(sql!(
        format!(
            "INSERT INTO follower_changes (id, company_id, kind, item_id, user_id, \
             actor_user_id, action, time) SELECT id {FIRST_KEY}, company_id, kind, item_id, \
             user_id, unlogged_actor, 'added', add_time FROM followers \
             WHERE id = ? AND unlogged_actor IS NOT NULL"
        ),
        f.id
    ))
    .await?;
    db.execute(sql!("DELETE FROM followers WHERE id = ?", f.id))
        .await?;
    log(db, item, f.user_id, actor, "removed", now).await?;
    refresh(db, item).await?;
    Ok(Some(f))
}

async fn log(
    db: &impl Db,
    item: Item,
    user_id: i64,
    actor: i64,
    action: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql!(
        "INSERT INTO follower_changes (company_id, kind, item_id, user_id, actor_user_id, \
         action, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
        item.company_id,
        item.kind.as_str(),
        item.id,
        user_id,
        actor,
        action,
        now
    ))
    .await?;
    Ok(())
}

/// A change of followers is a change of the item: its `update_time` moves.
pub async fn touch(db: &impl Db, item: Item, now: Timestamp) -> Result<(), StoreError> {
    db.execute(sql!(
        format!(
            "UPDATE {} SET update_time = ? WHERE id = ?",
            table(item.kind)
        ),
        now,
        item.id
    ))
    .await?;
    Ok(())
}

/// The users following a person.
pub async fn user_ids(db: &impl Db, item: Item) -> Result<Vec<i64>, StoreError> {
    db.rows(sql!(
        "SELECT user_id FROM followers WHERE kind = ? AND item_id = ? ORDER BY id",
        item.kind.as_str(),
        item.id
    ))
    .await
}
