-- pipestack schema, version 1. Never edit once released: add a new file instead.
-- Every row carries its company; times are UTC unix seconds.

CREATE TABLE companies (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    domain            TEXT    NOT NULL,
    campaigns_enabled INTEGER NOT NULL DEFAULT 1,
    add_time          INTEGER NOT NULL
);

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    active_flag INTEGER NOT NULL DEFAULT 1,
    api_token   TEXT    NOT NULL UNIQUE,
    add_time    INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    UNIQUE (company_id, id)
);
CREATE UNIQUE INDEX users_company_email ON users(company_id, email);

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    owner_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    address     TEXT,
    visible_to  INTEGER NOT NULL,
    active_flag INTEGER NOT NULL DEFAULT 1,
    add_time    INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id)
);

-- Options of the person fields that have them: the built-in `label` field and,
-- later, custom enum/set fields. Ids are global, as Pipedrive's are.
CREATE TABLE person_field_options (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    field_key   TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    color       TEXT,
    order_nr    INTEGER NOT NULL DEFAULT 0,
    active_flag INTEGER NOT NULL DEFAULT 1,
    add_time    INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE INDEX person_field_options_field ON person_field_options(company_id, field_key);

-- Person fields: the built-in ones (is_custom = 0, created with the company) and custom ones,
-- keyed by a 40-hex hash unique per company and never reused (deleted fields keep their row).
CREATE TABLE person_fields (
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
    UNIQUE (company_id, key)
);

CREATE TABLE persons (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    owner_id         INTEGER NOT NULL,
    org_id           INTEGER,
    name             TEXT    NOT NULL,
    first_name       TEXT,
    last_name        TEXT,
    emails           TEXT    NOT NULL DEFAULT '[]',  -- JSON [{value, primary, label}]
    phones           TEXT    NOT NULL DEFAULT '[]',
    primary_email    TEXT,
    first_char       TEXT,                           -- lower-cased first character of name
    search_text      TEXT    NOT NULL DEFAULT '',    -- lower-cased name, emails, phones
    label_ids        TEXT    NOT NULL DEFAULT '[]',  -- JSON [int]
    visible_to       INTEGER NOT NULL,
    marketing_status TEXT,
    marketing_changed INTEGER NOT NULL DEFAULT 0,    -- the one allowed change has been used
    custom_fields    TEXT    NOT NULL DEFAULT '{}',  -- JSON {key: value}
    active_flag      INTEGER NOT NULL DEFAULT 1,
    add_time         INTEGER NOT NULL,
    update_time      INTEGER NOT NULL,
    delete_time      INTEGER,
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id),
    FOREIGN KEY (company_id, org_id) REFERENCES organizations(company_id, id)
);
CREATE INDEX persons_company ON persons(company_id, active_flag, id);
CREATE INDEX persons_update_time ON persons(company_id, active_flag, update_time, id);
CREATE INDEX persons_add_time ON persons(company_id, active_flag, add_time, id);
CREATE INDEX persons_owner ON persons(company_id, owner_id, active_flag, id);
CREATE INDEX persons_org ON persons(org_id, active_flag, id);

CREATE TABLE person_followers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies(id),
    person_id  INTEGER NOT NULL REFERENCES persons(id),
    user_id    INTEGER NOT NULL,
    add_time   INTEGER NOT NULL,
    UNIQUE (person_id, user_id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
