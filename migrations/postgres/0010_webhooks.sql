-- Webhooks (as migrations/sqlite/0010, with PostgreSQL's types), their outbox and their
-- deliveries. A change writes its event to webhook_events in its own transaction, naming the
-- webhooks that want it; the dispatcher makes it into one delivery per webhook when it has
-- hands free to send them, renders each body when it sends it, logs every attempt, and deletes
-- an event once its last delivery is done.
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
    failing_since      BIGINT,          -- the first failure since the last success
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
    merged_id   BIGINT,            -- the other person of a merge
    hooks       TEXT,               -- the webhooks it goes to ("1,5"), until made into deliveries
    pending     BIGINT NOT NULL DEFAULT 0  -- its deliveries not done yet
);

CREATE INDEX webhook_events_waiting ON webhook_events (id) WHERE hooks IS NOT NULL;

CREATE TABLE webhook_deliveries (
    id           BIGSERIAL PRIMARY KEY,
    webhook_id   BIGINT NOT NULL,
    event_id     BIGINT NOT NULL,
    object       TEXT    NOT NULL,  -- deliveries of one object to one webhook go in order
    object_id    BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    due_ms       BIGINT NOT NULL,
    leased_until BIGINT
);
-- By object first: an event's deliveries sit together, at the end of the index for a new
-- object (a write touches one page of it, whatever the number of webhooks).
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (object_id, webhook_id, id);

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
