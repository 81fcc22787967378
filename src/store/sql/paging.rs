//! Sort orders and pages of lists, for every entity: v1 offsets and v2 keyset cursors.

use super::Query;
use crate::domain::query::{Direction, Page, SortField};

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    }
}

/// A column a list can be sorted by.
#[derive(Debug, Clone, Copy)]
pub struct SortColumn {
    pub sql: &'static str,
    /// Whether it holds NULLs, which sort as the smallest value on every engine (SQLite's
    /// default and Pipedrive's; PostgreSQL's default is the largest).
    pub nullable: bool,
}

/// A column without NULLs.
pub const fn plain(sql: &'static str) -> Option<SortColumn> {
    Some(SortColumn {
        sql,
        nullable: false,
    })
}

/// A column with NULLs.
pub const fn nullable(sql: &'static str) -> Option<SortColumn> {
    Some(SortColumn {
        sql,
        nullable: true,
    })
}

/// Appends a list's keyset condition, `ORDER BY` (always ending with the id, so the order is
/// total), `LIMIT` and `OFFSET`. `column` maps a sort field to its column (`None`: not
/// sortable, ordered by the id); `id` is the id column.
pub fn order_and_page(
    q: &mut Query,
    order: &[(SortField, Direction)],
    page: &Page,
    limit: i64,
    id: &str,
    column: impl Fn(SortField) -> Option<SortColumn>,
) {
    let order: Vec<(SortField, Direction)> = if order.is_empty() {
        vec![(SortField::Id, Direction::Asc)]
    } else {
        order.to_vec()
    };
    let last_dir = order.last().map_or(Direction::Asc, |(_, d)| *d);
    let mut offset = 0;
    match page {
        Page::Offset { start } => offset = *start,
        Page::After(Some((key, after_id))) => {
            let (field, dir) = order[0];
            let op = if dir == Direction::Asc { ">" } else { "<" };
            let col = column(field).map_or(id, |c| c.sql);
            q.push(&format!(" AND ({col}, {id}) {op} (?, ?)"));
            q.args.extend([(*key).into(), (*after_id).into()]);
        }
        Page::After(None) => {}
    }
    // Keys in the order given; the id is unique, so it ends the order wherever it stands, and
    // ends it in the last key's direction when not named.
    let mut keys = Vec::new();
    for (field, dir) in &order {
        if *field == SortField::Id {
            break;
        }
        if let Some(c) = column(*field) {
            let nulls = match (c.nullable, dir) {
                (false, _) => "",
                (true, Direction::Asc) => " NULLS FIRST",
                (true, Direction::Desc) => " NULLS LAST",
            };
            keys.push(format!("{} {}{nulls}", c.sql, direction(*dir)));
        }
    }
    let id_dir = order
        .iter()
        .find(|(f, _)| *f == SortField::Id)
        .map_or(last_dir, |(_, d)| *d);
    keys.push(format!("{id} {}", direction(id_dir)));
    q.push(&format!(" ORDER BY {} LIMIT ? OFFSET ?", keys.join(", ")));
    q.args.extend([limit.into(), offset.into()]);
}
