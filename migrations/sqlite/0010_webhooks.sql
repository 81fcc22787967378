-- Webhooks, their outbox and their deliveries. A change writes its event to webhook_events in
-- its own transaction, naming the webhooks that want it; the dispatcher makes it into one
-- delivery per webhook when it has hands free to send them (so a write costs one row however
-- many webhooks there are and however slow they answer), renders each body when it sends it,
-- logs every attempt, and deletes an event once its last delivery is done.
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
    failing_since      INTEGER,          -- the first failure since the last success
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
    merged_id   INTEGER,            -- the other person of a merge
    hooks       TEXT,               -- the webhooks it goes to ("1,5"), until made into deliveries
    pending     INTEGER NOT NULL DEFAULT 0  -- its deliveries not done yet
);

CREATE INDEX webhook_events_waiting ON webhook_events (id) WHERE hooks IS NOT NULL;

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   INTEGER NOT NULL,
    event_id     INTEGER NOT NULL,
    object       TEXT    NOT NULL,  -- deliveries of one object to one webhook go in order
    object_id    INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_ms       INTEGER NOT NULL,
    leased_until INTEGER
);
-- By object first: an event's deliveries sit together, at the end of the index for a new
-- object (a write touches one page of it, whatever the number of webhooks).
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (object_id, webhook_id, id);

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
