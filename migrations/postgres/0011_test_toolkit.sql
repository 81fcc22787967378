-- The admin API's durable parts (as migrations/sqlite/0011, with PostgreSQL's types): a
-- company's snapshots (its data, table by table, as JSON) and its clock.
CREATE TABLE company_snapshots (
    id         BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id),
    name       TEXT   NOT NULL,
    add_time   BIGINT NOT NULL,
    data       TEXT   NOT NULL,
    UNIQUE (company_id, name)
);
ALTER TABLE companies ADD COLUMN clock_offset_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN clock_frozen_ms BIGINT;
