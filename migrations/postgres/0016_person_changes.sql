-- What each change of a person did to each of its fields, written in the change's
-- transaction: `GET /v1/persons/{id}/changelog` and the history on the web app's person page.
CREATE TABLE person_changes (
    id            BIGSERIAL PRIMARY KEY,
    company_id    BIGINT NOT NULL REFERENCES companies(id),
    person_id     BIGINT NOT NULL,
    field_key     TEXT   NOT NULL,
    old_value     TEXT,
    new_value     TEXT,
    actor_user_id BIGINT NOT NULL,
    time          BIGINT NOT NULL,
    source        TEXT   NOT NULL CHECK (source IN ('api', 'app'))
);
CREATE INDEX person_changes_person ON person_changes(person_id, id);
