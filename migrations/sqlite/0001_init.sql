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
    address     TEXT,                           -- the address value
    address_parts TEXT NOT NULL DEFAULT '{}',   -- JSON {country, locality, …}
    label_ids   TEXT    NOT NULL DEFAULT '[]',
    visible_to  INTEGER NOT NULL,
    search_text TEXT    NOT NULL DEFAULT '',    -- lower-cased name and address
    people_count INTEGER NOT NULL DEFAULT 0,    -- active persons; kept by the store
    active_flag INTEGER NOT NULL DEFAULT 1,
    add_time    INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    delete_time INTEGER,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id)
);

-- Options of fields that have them: the person `label` field (`label`), custom enum/set person
-- fields (their key) and the organization label field (`organization.label`). Ids are global,
-- as Pipedrive's are, and never reused.
CREATE TABLE field_options (
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
CREATE INDEX field_options_field ON field_options(company_id, field_key);

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
    search_text      TEXT    NOT NULL DEFAULT '',    -- lower-cased name, emails, phone digits, custom values
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
CREATE INDEX persons_name ON persons(company_id, active_flag, name COLLATE NOCASE, id);
CREATE INDEX persons_first_char ON persons(company_id, active_flag, first_char, id);
CREATE INDEX persons_update_time ON persons(company_id, active_flag, update_time, id);
CREATE INDEX persons_add_time ON persons(company_id, active_flag, add_time, id);
CREATE INDEX persons_owner ON persons(company_id, owner_id, active_flag, id);
CREATE INDEX persons_org ON persons(org_id, active_flag, id);
CREATE INDEX organizations_company ON organizations(company_id, active_flag, id);

-- Who follows a person or an organization (`kind`). The row id is v1's follower id.
CREATE TABLE followers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('person', 'organization')),
    item_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    add_time   INTEGER NOT NULL,
    UNIQUE (kind, item_id, user_id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);

-- Every follow and unfollow, for v2's followers changelog.
CREATE TABLE follower_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id    INTEGER NOT NULL REFERENCES companies(id),
    kind          TEXT    NOT NULL,
    item_id       INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    actor_user_id INTEGER NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('added', 'removed')),
    time          INTEGER NOT NULL
);
CREATE INDEX follower_changes_item ON follower_changes(kind, item_id, id);

-- Every email of every person, lower-cased: exact-email search is an index lookup (the trigram
-- index would intersect the long lists of trigrams every address shares, like "com").
CREATE TABLE person_emails (
    company_id INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    person_id  INTEGER NOT NULL REFERENCES persons(id)
);
CREATE INDEX person_emails_value ON person_emails(company_id, value);
CREATE INDEX person_emails_person ON person_emails(person_id);

-- Substring search without scanning: a trigram index over persons.search_text. The store
-- writes it in the same transaction as the person (explicit statements, not triggers: a
-- trigger makes every insert a statement transaction, and FTS5 flushes on each one, which is
-- five times slower).
CREATE VIRTUAL TABLE persons_fts USING fts5(
    search_text, content = 'persons', content_rowid = 'id', tokenize = 'trigram'
);
