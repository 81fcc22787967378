-- Pipelines and their stages, as migrations/sqlite/0006 with PostgreSQL's types: where deals
-- sit. Every company has a default pipeline with stages from its creation (existing companies
-- get one with this migration, in pipestack).
-- A pipeline's lowest `order_nr` is the default; a stage's lowest is its pipeline's first.
CREATE TABLE pipelines (
    id               BIGSERIAL PRIMARY KEY,
    company_id       BIGINT  NOT NULL REFERENCES companies(id),
    name             TEXT    NOT NULL,
    order_nr         BIGINT  NOT NULL,
    deal_probability BOOLEAN NOT NULL DEFAULT FALSE,  -- v2's is_deal_probability_enabled
    active_flag      BOOLEAN NOT NULL DEFAULT TRUE,
    add_time         BIGINT  NOT NULL,
    update_time      BIGINT  NOT NULL,
    UNIQUE (company_id, id)
);
CREATE INDEX pipelines_company ON pipelines(company_id, active_flag, order_nr, id);

CREATE TABLE stages (
    id               BIGSERIAL PRIMARY KEY,
    company_id       BIGINT  NOT NULL REFERENCES companies(id),
    pipeline_id      BIGINT  NOT NULL,
    name             TEXT    NOT NULL,
    order_nr         BIGINT  NOT NULL,
    deal_probability BIGINT  NOT NULL DEFAULT 100,
    rotten_flag      BOOLEAN NOT NULL DEFAULT FALSE,
    rotten_days      BIGINT,
    active_flag      BOOLEAN NOT NULL DEFAULT TRUE,
    add_time         BIGINT  NOT NULL,
    update_time      BIGINT  NOT NULL,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, pipeline_id) REFERENCES pipelines(company_id, id)
);
CREATE INDEX stages_pipeline ON stages(pipeline_id, active_flag, order_nr, id);
CREATE INDEX stages_company ON stages(company_id, active_flag, id);
