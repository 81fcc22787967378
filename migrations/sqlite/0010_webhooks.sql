-- Webhooks, their outbox and their deliveries. A change writes its event to webhook_events in
-- its own transaction; the dispatcher turns events into one delivery per matching webhook
-- (deleting the event) and sends deliveries in the background, logging each attempt.
CREATE TABLE webhooks (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id         INTEGER NOT NULL REFERENCES companies(id),
    owner_id           INTEGER NOT NULL,
    user_id            INTEGER NOT NULL,
    name               TEXT    NOT NULL,
    event_action       TEXT    NOT NULL,
    event_object       TEXT    NOT NULL,
    subscription_url   TEXT    NOT NULL,
    version            TEXT    NOT NULL,
    http_auth_user     TEXT,
    http_auth_password TEXT,
    add_time           INTEGER NOT NULL,
    remove_time        INTEGER,
    remove_reason      TEXT,
    last_delivery_time INTEGER,
    last_http_status   INTEGER,
    last_success_time  INTEGER,
    ban_counter        INTEGER NOT NULL DEFAULT 0,
    banned_until       INTEGER
);
CREATE INDEX webhooks_by_company ON webhooks (company_id, event_object) WHERE remove_time IS NULL;

CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL,
    object      TEXT    NOT NULL,   -- person, organization, deal, ...
    object_id   INTEGER NOT NULL,
    action      TEXT    NOT NULL,   -- added, updated, deleted, merged (v1's words)
    user_id     INTEGER NOT NULL,   -- who made the change
    time_ms     INTEGER NOT NULL,
    previous    TEXT,               -- the object before, as JSON
    current     TEXT,               -- the object after, as JSON
    merged_id   INTEGER             -- the other person of a merge
);

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   INTEGER NOT NULL,
    object_key   TEXT    NOT NULL,  -- "person:5": deliveries of one object go in order
    event        TEXT    NOT NULL,  -- "added.person"
    object_id    INTEGER NOT NULL,
    payload      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_ms       INTEGER NOT NULL,
    leased_until INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_ms);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, object_key, id);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    object_id   INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    time_ms     INTEGER NOT NULL,
    http_status INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, id);
