-- Activity types, activities (with their participants) and notes, as migrations/sqlite/0009
-- with PostgreSQL's types. Existing companies get the
-- default activity types with this migration (in pipestack).
CREATE TABLE activity_types (
    id             BIGSERIAL PRIMARY KEY,
    company_id     BIGINT NOT NULL REFERENCES companies(id),
    order_nr       BIGINT NOT NULL,
    name           TEXT    NOT NULL,
    key_string     TEXT    NOT NULL,
    icon_key       TEXT    NOT NULL,
    color          TEXT,
    is_custom_flag BOOLEAN NOT NULL,
    active_flag    BOOLEAN NOT NULL DEFAULT TRUE,
    add_time       BIGINT NOT NULL,
    update_time    BIGINT NOT NULL,
    UNIQUE (company_id, key_string)
);

CREATE TABLE activities (
    id                 BIGSERIAL PRIMARY KEY,
    company_id         BIGINT NOT NULL REFERENCES companies(id),
    creator_user_id    BIGINT NOT NULL,
    owner_id           BIGINT NOT NULL,
    type               TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    deal_id            BIGINT,
    person_id          BIGINT,                     -- the primary participant
    org_id             BIGINT,
    due_date           TEXT,                        -- YYYY-MM-DD
    due_key            BIGINT NOT NULL DEFAULT 0,      -- YYYYMMDD*10000 + HHMM+1 (all-day: +0), 0 undated: the order
    due_time           TEXT,                        -- HH:MM, UTC
    duration           TEXT,                        -- HH:MM
    busy               BIGINT,                      -- 1 busy, 0 free, NULL by the time
    done               BOOLEAN NOT NULL DEFAULT FALSE,
    marked_as_done_time BIGINT,
    location           TEXT,                        -- JSON object
    public_description TEXT,
    priority           BIGINT,
    note               TEXT,
    participants       TEXT    NOT NULL DEFAULT '[]',
    attendees          TEXT    NOT NULL DEFAULT '[]',
    active_flag        BOOLEAN NOT NULL DEFAULT TRUE,
    add_time           BIGINT NOT NULL,
    update_time        BIGINT NOT NULL,
    delete_time        BIGINT,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id)
);
CREATE INDEX activities_company ON activities(company_id, active_flag, id);
CREATE INDEX activities_update_time ON activities(company_id, active_flag, update_time, id);
CREATE INDEX activities_due ON activities(company_id, active_flag, due_key, id);
-- By item, with the company last: an item's activities and notes (and their counts) are
-- found from the item, never by walking the company's.
CREATE INDEX activities_person ON activities(person_id, active_flag, company_id);
CREATE INDEX activities_org ON activities(org_id, active_flag, company_id);
CREATE INDEX activities_deal ON activities(deal_id, active_flag, company_id);

-- Every person an activity is with (the primary one is also `activities.person_id`): what a
-- person's activity counts and next and last activity are read from.
CREATE TABLE activity_participants (
    company_id  BIGINT NOT NULL,
    activity_id BIGINT NOT NULL REFERENCES activities(id),
    person_id   BIGINT NOT NULL,
    is_primary  BOOLEAN NOT NULL,
    PRIMARY KEY (activity_id, person_id)
);
CREATE INDEX activity_participants_person ON activity_participants(person_id, activity_id);

CREATE TABLE notes (
    id                          BIGSERIAL PRIMARY KEY,
    company_id                  BIGINT NOT NULL REFERENCES companies(id),
    user_id                     BIGINT NOT NULL,
    last_update_user_id         BIGINT NOT NULL,
    content                     TEXT    NOT NULL,
    deal_id                     BIGINT,
    person_id                   BIGINT,
    org_id                      BIGINT,
    pinned_to_deal_flag         BOOLEAN NOT NULL DEFAULT FALSE,
    pinned_to_person_flag       BOOLEAN NOT NULL DEFAULT FALSE,
    pinned_to_organization_flag BOOLEAN NOT NULL DEFAULT FALSE,
    active_flag                 BOOLEAN NOT NULL DEFAULT TRUE,
    add_time                    BIGINT NOT NULL,
    update_time                 BIGINT NOT NULL,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
CREATE INDEX notes_company ON notes(company_id, active_flag, id);
CREATE INDEX notes_person ON notes(person_id, active_flag, company_id);
CREATE INDEX notes_org ON notes(org_id, active_flag, company_id);
CREATE INDEX notes_deal ON notes(deal_id, active_flag, company_id);
