-- The admin API's durable parts: a company's snapshots (its data, table by table, as JSON) and
-- its clock (an offset from real time, or a moment it is frozen at).
CREATE TABLE company_snapshots (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies(id),
    name       TEXT    NOT NULL,
    add_time   INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    UNIQUE (company_id, name)
);
ALTER TABLE companies ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN clock_frozen_ms INTEGER;
