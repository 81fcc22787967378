-- Webhooks (as migrations/sqlite/0010 with PostgreSQL's types), their outbox and their deliveries. A change writes its event to webhook_events in
-- its own transaction; the dispatcher turns events into one delivery per matching webhook
-- (deleting the event) and sends deliveries in the background, logging each attempt.
CREATE TABLE webhooks (
    id                 BIGSERIAL PRIMARY KEY,
    company_id         BIGINT NOT NULL REFERENCES companies(id),
    owner_id           BIGINT NOT NULL,
    user_id            BIGINT NOT NULL,
    name               TEXT    NOT NULL,
    event_action       TEXT    NOT NULL,
    event_object       TEXT    NOT NULL,
    subscription_url   TEXT    NOT NULL,
    version            TEXT    NOT NULL,
    http_auth_user     TEXT,
    http_auth_password TEXT,
    add_time           BIGINT NOT NULL,
    remove_time        BIGINT,
    remove_reason      TEXT,
    last_delivery_time BIGINT,
    last_http_status   BIGINT,
    last_success_time  BIGINT,
    ban_counter        BIGINT NOT NULL DEFAULT 0,
    banned_until       BIGINT
);
CREATE INDEX webhooks_by_company ON webhooks (company_id, event_object) WHERE remove_time IS NULL;

CREATE TABLE webhook_events (
    id          BIGSERIAL PRIMARY KEY,
    company_id  BIGINT NOT NULL,
    object      TEXT    NOT NULL,   -- person, organization, deal, ...
    object_id   BIGINT NOT NULL,
    action      TEXT    NOT NULL,   -- added, updated, deleted, merged (v1's words)
    user_id     BIGINT NOT NULL,   -- who made the change
    time_ms     BIGINT NOT NULL,
    previous    TEXT,               -- the object before, as JSON
    current     TEXT,               -- the object after, as JSON
    merged_id   BIGINT             -- the other person of a merge
);

CREATE TABLE webhook_deliveries (
    id           BIGSERIAL PRIMARY KEY,
    webhook_id   BIGINT NOT NULL,
    object_key   TEXT    NOT NULL,  -- "person:5": deliveries of one object go in order
    event        TEXT    NOT NULL,  -- "added.person"
    object_id    BIGINT NOT NULL,
    payload      TEXT    NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    due_ms       BIGINT NOT NULL,
    leased_until BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_ms);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, object_key, id);

CREATE TABLE webhook_attempts (
    id          BIGSERIAL PRIMARY KEY,
    webhook_id  BIGINT NOT NULL,
    event       TEXT    NOT NULL,
    object_id   BIGINT NOT NULL,
    attempt     BIGINT NOT NULL,
    time_ms     BIGINT NOT NULL,
    http_status BIGINT,
    latency_ms  BIGINT NOT NULL,
    error       TEXT
);
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, id);
