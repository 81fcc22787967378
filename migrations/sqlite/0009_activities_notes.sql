-- Activity types, activities (with their participants) and notes. Existing companies get the
-- default activity types with this migration (in pipestack).
CREATE TABLE activity_types (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id     INTEGER NOT NULL REFERENCES companies(id),
    order_nr       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    key_string     TEXT    NOT NULL,
    icon_key       TEXT    NOT NULL,
    color          TEXT,
    is_custom_flag INTEGER NOT NULL,
    active_flag    INTEGER NOT NULL DEFAULT 1,
    add_time       INTEGER NOT NULL,
    update_time    INTEGER NOT NULL,
    UNIQUE (company_id, key_string)
);

CREATE TABLE activities (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id         INTEGER NOT NULL REFERENCES companies(id),
    creator_user_id    INTEGER NOT NULL,
    owner_id           INTEGER NOT NULL,
    type               TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    deal_id            INTEGER,
    person_id          INTEGER,                     -- the primary participant
    org_id             INTEGER,
    due_date           TEXT,                        -- YYYY-MM-DD
    due_key            INTEGER NOT NULL DEFAULT 0,      -- YYYYMMDD*10000 + HHMM+1 (all-day: +0), 0 undated: the order
    due_time           TEXT,                        -- HH:MM, UTC
    duration           TEXT,                        -- HH:MM
    busy               INTEGER,                     -- 1 busy, 0 free, NULL by the time
    done               INTEGER NOT NULL DEFAULT 0,
    marked_as_done_time INTEGER,
    location           TEXT,                        -- JSON object
    public_description TEXT,
    priority           INTEGER,
    note               TEXT,
    participants       TEXT    NOT NULL DEFAULT '[]',
    attendees          TEXT    NOT NULL DEFAULT '[]',
    active_flag        INTEGER NOT NULL DEFAULT 1,
    add_time           INTEGER NOT NULL,
    update_time        INTEGER NOT NULL,
    delete_time        INTEGER,
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
    company_id  INTEGER NOT NULL,
    activity_id INTEGER NOT NULL REFERENCES activities(id),
    person_id   INTEGER NOT NULL,
    is_primary  INTEGER NOT NULL,
    PRIMARY KEY (activity_id, person_id)
);
CREATE INDEX activity_participants_person ON activity_participants(person_id, activity_id);

CREATE TABLE notes (
    id                          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id                  INTEGER NOT NULL REFERENCES companies(id),
    user_id                     INTEGER NOT NULL,
    last_update_user_id         INTEGER NOT NULL,
    content                     TEXT    NOT NULL,
    deal_id                     INTEGER,
    person_id                   INTEGER,
    org_id                      INTEGER,
    pinned_to_deal_flag         INTEGER NOT NULL DEFAULT 0,
    pinned_to_person_flag       INTEGER NOT NULL DEFAULT 0,
    pinned_to_organization_flag INTEGER NOT NULL DEFAULT 0,
    active_flag                 INTEGER NOT NULL DEFAULT 1,
    add_time                    INTEGER NOT NULL,
    update_time                 INTEGER NOT NULL,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
CREATE INDEX notes_company ON notes(company_id, active_flag, id);
CREATE INDEX notes_person ON notes(person_id, active_flag, company_id);
CREATE INDEX notes_org ON notes(org_id, active_flag, company_id);
CREATE INDEX notes_deal ON notes(deal_id, active_flag, company_id);
