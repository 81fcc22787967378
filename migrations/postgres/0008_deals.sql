-- Deals, as migrations/sqlite/0008 with PostgreSQL's types: each in a stage of a pipeline,
-- for a person and/or an organization, with deal fields (built-in and custom, as persons' and
-- organizations') and followers. Existing companies get the built-in deal fields and labels
-- with this migration (in pipestack). Substring search over deals uses pg_trgm.
CREATE TABLE deals (
    id                  BIGSERIAL PRIMARY KEY,
    company_id          BIGINT  NOT NULL REFERENCES companies(id),
    creator_user_id     BIGINT  NOT NULL,
    owner_id            BIGINT  NOT NULL,
    person_id           BIGINT  REFERENCES persons(id),
    org_id              BIGINT,
    pipeline_id         BIGINT  NOT NULL,
    stage_id            BIGINT  NOT NULL,
    title               TEXT    NOT NULL,
    title_key           TEXT    NOT NULL,
    value               DOUBLE PRECISION NOT NULL DEFAULT 0,
    currency            TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    probability         DOUBLE PRECISION,
    lost_reason         TEXT,
    visible_to          BIGINT  NOT NULL,
    expected_close_date TEXT,
    label_ids           TEXT    NOT NULL DEFAULT '[]',
    custom_fields       TEXT    NOT NULL DEFAULT '{}',
    origin              TEXT    NOT NULL,
    is_archived         BOOLEAN NOT NULL DEFAULT FALSE,
    archive_time        BIGINT,
    search_text         TEXT    NOT NULL DEFAULT '',
    stage_change_time   BIGINT,
    won_time            BIGINT,
    lost_time           BIGINT,
    close_time          BIGINT,
    first_won_time      BIGINT,
    active_flag         BOOLEAN NOT NULL DEFAULT TRUE,
    add_time            BIGINT  NOT NULL,
    update_time         BIGINT  NOT NULL,
    delete_time         BIGINT,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id),
    FOREIGN KEY (company_id, org_id) REFERENCES organizations(company_id, id),
    FOREIGN KEY (company_id, stage_id) REFERENCES stages(company_id, id),
    FOREIGN KEY (company_id, pipeline_id) REFERENCES pipelines(company_id, id)
);
CREATE INDEX deals_company ON deals(company_id, active_flag, id);
CREATE INDEX deals_update_time ON deals(company_id, active_flag, update_time, id);
CREATE INDEX deals_person ON deals(person_id, active_flag, status, company_id);
CREATE INDEX deals_org ON deals(org_id, active_flag, status, company_id);
CREATE INDEX deals_stage ON deals(stage_id, active_flag);
CREATE INDEX deals_pipeline ON deals(pipeline_id, active_flag);
CREATE INDEX deals_search ON deals USING gin (search_text gin_trgm_ops);

CREATE TABLE deal_refs (
    company_id BIGINT NOT NULL,
    deal_id    BIGINT NOT NULL REFERENCES deals(id),
    field_key  TEXT   NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('person', 'organization')),
    item_id    BIGINT NOT NULL
);
CREATE INDEX deal_refs_item ON deal_refs(kind, item_id);
CREATE INDEX deal_refs_deal ON deal_refs(deal_id);

CREATE TABLE deal_fields (
    id                 BIGSERIAL PRIMARY KEY,
    company_id         BIGINT  NOT NULL REFERENCES companies(id),
    key                TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    field_type         TEXT    NOT NULL,
    is_custom          BOOLEAN NOT NULL DEFAULT TRUE,
    order_nr           BIGINT  NOT NULL DEFAULT 0,
    add_visible_flag   BOOLEAN NOT NULL DEFAULT TRUE,
    active_flag        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by_user_id BIGINT,
    updated_by_user_id BIGINT,
    add_time           BIGINT  NOT NULL,
    update_time        BIGINT  NOT NULL,
    settings           TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (company_id, key)
);

ALTER TABLE followers DROP CONSTRAINT followers_kind_check;
ALTER TABLE followers ADD CONSTRAINT followers_kind_check
    CHECK (kind IN ('person', 'organization', 'deal'));
