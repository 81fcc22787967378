-- Deals: each in a stage of a pipeline, for a person and/or an organization, with deal fields
-- (built-in and custom, as persons' and organizations') and followers. Existing companies get
-- the built-in deal fields and labels with this migration (in pipestack).
CREATE TABLE deals (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id          INTEGER NOT NULL REFERENCES companies(id),
    creator_user_id     INTEGER NOT NULL,
    owner_id            INTEGER NOT NULL,
    person_id           INTEGER REFERENCES persons(id),
    org_id              INTEGER,
    pipeline_id         INTEGER NOT NULL,
    stage_id            INTEGER NOT NULL,
    title               TEXT    NOT NULL,
    title_key           TEXT    NOT NULL,           -- the title's sort key
    value               REAL    NOT NULL DEFAULT 0,
    currency            TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    probability         REAL,
    lost_reason         TEXT,
    visible_to          INTEGER NOT NULL,
    expected_close_date TEXT,                       -- YYYY-MM-DD
    label_ids           TEXT    NOT NULL DEFAULT '[]',
    custom_fields       TEXT    NOT NULL DEFAULT '{}',
    origin              TEXT    NOT NULL,
    is_archived         INTEGER NOT NULL DEFAULT 0,
    archive_time        INTEGER,
    search_text         TEXT    NOT NULL DEFAULT '',  -- lower-cased title and custom values
    stage_change_time   INTEGER,
    won_time            INTEGER,
    lost_time           INTEGER,
    close_time          INTEGER,
    first_won_time      INTEGER,
    active_flag         INTEGER NOT NULL DEFAULT 1,
    add_time            INTEGER NOT NULL,
    update_time         INTEGER NOT NULL,
    delete_time         INTEGER,
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

-- The persons and organizations a deal's custom values name (people and organization
-- fields), kept with the deal: what the `related_` deal counts of persons and organizations
-- count.
CREATE TABLE deal_refs (
    company_id INTEGER NOT NULL,
    deal_id    INTEGER NOT NULL REFERENCES deals(id),
    field_key  TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('person', 'organization')),
    item_id    INTEGER NOT NULL
);
CREATE INDEX deal_refs_item ON deal_refs(kind, item_id);
CREATE INDEX deal_refs_deal ON deal_refs(deal_id);

CREATE TABLE deal_fields (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id         INTEGER NOT NULL REFERENCES companies(id),
    key                TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    field_type         TEXT    NOT NULL,
    is_custom          INTEGER NOT NULL DEFAULT 1,
    order_nr           INTEGER NOT NULL DEFAULT 0,
    add_visible_flag   INTEGER NOT NULL DEFAULT 1,
    active_flag        INTEGER NOT NULL DEFAULT 1,
    created_by_user_id INTEGER,
    updated_by_user_id INTEGER,
    add_time           INTEGER NOT NULL,
    update_time        INTEGER NOT NULL,
    settings           TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (company_id, key)
);

-- Deals are followed too: the followers table's kinds grow by one (SQLite cannot change a
-- CHECK constraint, so the table is rebuilt, its ids and id sequence kept).
CREATE TABLE followers_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('person', 'organization', 'deal')),
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
