-- The followers' kinds are checked by comparisons instead of an IN list: for a list of three
-- constants or more SQLite builds a temporary B-tree on every run of a statement checking it,
-- every follow (a new person's owner's among them) opening, filling and closing one. SQLite
-- cannot change a CHECK constraint, so the table is rebuilt as in migration 8, its ids and id
-- sequence kept.
CREATE TABLE followers_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies(id),
    kind       TEXT    NOT NULL CHECK (kind = 'person' OR kind = 'organization' OR kind = 'deal'),
    item_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    add_time   INTEGER NOT NULL,
    UNIQUE (kind, item_id, user_id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
INSERT INTO followers_new (id, company_id, kind, item_id, user_id, add_time)
    SELECT id, company_id, kind, item_id, user_id, add_time FROM followers;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'followers')
    WHERE name = 'followers_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'followers_new', seq FROM sqlite_sequence WHERE name = 'followers'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'followers_new');
DROP TABLE followers;
ALTER TABLE followers_new RENAME TO followers;
