-- Pipelines and their stages: where deals sit. Every company has a default pipeline with
-- stages from its creation (existing companies get one with this migration, in pipestack).
-- A pipeline's lowest `order_nr` is the default; a stage's lowest is its pipeline's first.
CREATE TABLE pipelines (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    name             TEXT    NOT NULL,
    order_nr         INTEGER NOT NULL,
    deal_probability INTEGER NOT NULL DEFAULT 0,   -- v2's is_deal_probability_enabled
    active_flag      INTEGER NOT NULL DEFAULT 1,
    add_time         INTEGER NOT NULL,
    update_time      INTEGER NOT NULL,
    UNIQUE (company_id, id)
);
CREATE INDEX pipelines_company ON pipelines(company_id, active_flag, order_nr, id);

CREATE TABLE stages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    pipeline_id      INTEGER NOT NULL,
    name             TEXT    NOT NULL,
    order_nr         INTEGER NOT NULL,
    deal_probability INTEGER NOT NULL DEFAULT 100,
    rotten_flag      INTEGER NOT NULL DEFAULT 0,
    rotten_days      INTEGER,
    active_flag      INTEGER NOT NULL DEFAULT 1,
    add_time         INTEGER NOT NULL,
    update_time      INTEGER NOT NULL,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, pipeline_id) REFERENCES pipelines(company_id, id)
);
CREATE INDEX stages_pipeline ON stages(pipeline_id, active_flag, order_nr, id);
CREATE INDEX stages_company ON stages(company_id, active_flag, id);
