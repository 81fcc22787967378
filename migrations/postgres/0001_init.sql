-- pipestack schema for PostgreSQL, version 1: the same tables as migrations/sqlite/0001, with
-- PostgreSQL's types; substring search uses pg_trgm. Never edit once released.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE companies (
    id                BIGSERIAL PRIMARY KEY,
    name              TEXT    NOT NULL,
    domain            TEXT    NOT NULL,
    campaigns_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    add_time          BIGINT  NOT NULL
);

CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    company_id  BIGINT  NOT NULL REFERENCES companies(id),
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    active_flag BOOLEAN NOT NULL DEFAULT TRUE,
    api_token   TEXT    NOT NULL UNIQUE,
    add_time    BIGINT  NOT NULL,
    update_time BIGINT  NOT NULL,
    UNIQUE (company_id, id),
    UNIQUE (company_id, email)
);

CREATE TABLE field_options (
    id          BIGSERIAL PRIMARY KEY,
    company_id  BIGINT  NOT NULL REFERENCES companies(id),
    field_key   TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    color       TEXT,
    order_nr    BIGINT  NOT NULL DEFAULT 0,
    active_flag BOOLEAN NOT NULL DEFAULT TRUE,
    add_time    BIGINT  NOT NULL,
    update_time BIGINT  NOT NULL
);
CREATE INDEX field_options_field ON field_options(company_id, field_key);

CREATE TABLE person_fields (
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
    UNIQUE (company_id, key)
);

CREATE TABLE organizations (
    id            BIGSERIAL PRIMARY KEY,
    company_id    BIGINT  NOT NULL REFERENCES companies(id),
    owner_id      BIGINT  NOT NULL,
    name          TEXT    NOT NULL,
    address       TEXT,
    address_parts TEXT    NOT NULL DEFAULT '{}',
    label_ids     TEXT    NOT NULL DEFAULT '[]',
    visible_to    BIGINT  NOT NULL,
    search_text   TEXT    NOT NULL DEFAULT '',
    people_count  BIGINT  NOT NULL DEFAULT 0,
    active_flag   BOOLEAN NOT NULL DEFAULT TRUE,
    add_time      BIGINT  NOT NULL,
    update_time   BIGINT  NOT NULL,
    delete_time   BIGINT,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id)
);
CREATE INDEX organizations_company ON organizations(company_id, active_flag, id);
CREATE INDEX organizations_search ON organizations USING gin (search_text gin_trgm_ops);

CREATE TABLE persons (
    id                BIGSERIAL PRIMARY KEY,
    company_id        BIGINT  NOT NULL REFERENCES companies(id),
    owner_id          BIGINT  NOT NULL,
    org_id            BIGINT,
    name              TEXT    NOT NULL,
    first_name        TEXT,
    last_name         TEXT,
    emails            TEXT    NOT NULL DEFAULT '[]',
    phones            TEXT    NOT NULL DEFAULT '[]',
    primary_email     TEXT,
    first_char        TEXT,
    search_text       TEXT    NOT NULL DEFAULT '',
    label_ids         TEXT    NOT NULL DEFAULT '[]',
    visible_to        BIGINT  NOT NULL,
    marketing_status  TEXT,
    marketing_changed BOOLEAN NOT NULL DEFAULT FALSE,
    custom_fields     TEXT    NOT NULL DEFAULT '{}',
    active_flag       BOOLEAN NOT NULL DEFAULT TRUE,
    add_time          BIGINT  NOT NULL,
    update_time       BIGINT  NOT NULL,
    delete_time       BIGINT,
    FOREIGN KEY (company_id, owner_id) REFERENCES users(company_id, id),
    FOREIGN KEY (company_id, org_id) REFERENCES organizations(company_id, id)
);
CREATE INDEX persons_company ON persons(company_id, active_flag, id);
CREATE INDEX persons_name ON persons(company_id, active_flag, lower(name), id);
CREATE INDEX persons_first_char ON persons(company_id, active_flag, first_char, id);
CREATE INDEX persons_update_time ON persons(company_id, active_flag, update_time, id);
CREATE INDEX persons_add_time ON persons(company_id, active_flag, add_time, id);
CREATE INDEX persons_owner ON persons(company_id, owner_id, active_flag, id);
CREATE INDEX persons_org ON persons(org_id, active_flag, id);
CREATE INDEX persons_search ON persons USING gin (search_text gin_trgm_ops);

CREATE TABLE person_emails (
    company_id BIGINT NOT NULL,
    value      TEXT   NOT NULL,
    person_id  BIGINT NOT NULL REFERENCES persons(id)
);
CREATE INDEX person_emails_value ON person_emails(company_id, value);
CREATE INDEX person_emails_person ON person_emails(person_id);

CREATE TABLE followers (
    id         BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id),
    kind       TEXT   NOT NULL CHECK (kind IN ('person', 'organization')),
    item_id    BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    add_time   BIGINT NOT NULL,
    UNIQUE (kind, item_id, user_id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);

CREATE TABLE follower_changes (
    id            BIGSERIAL PRIMARY KEY,
    company_id    BIGINT NOT NULL REFERENCES companies(id),
    kind          TEXT   NOT NULL,
    item_id       BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    actor_user_id BIGINT NOT NULL,
    action        TEXT   NOT NULL CHECK (action IN ('added', 'removed')),
    time          BIGINT NOT NULL
);
CREATE INDEX follower_changes_item ON follower_changes(kind, item_id, id);
