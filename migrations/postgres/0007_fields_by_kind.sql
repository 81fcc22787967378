-- Fields of every kind of item, as migrations/sqlite/0007 with PostgreSQL's types:
-- organizations get built-in and custom fields like persons (in a table of their own, so that
-- ids and keys stay per kind as Pipedrive's do), and custom values. Options say which kind's
-- field they belong to: the organization labels, kept until now under the key
-- `organization.label`, become the options of the organizations' `label` field. Existing
-- companies get the built-in organization fields with this migration (in pipestack).
ALTER TABLE field_options ADD COLUMN entity TEXT NOT NULL DEFAULT 'person';
UPDATE field_options SET entity = 'organization', field_key = 'label'
    WHERE field_key = 'organization.label';
DROP INDEX field_options_field;
CREATE INDEX field_options_field ON field_options(company_id, entity, field_key);

CREATE TABLE organization_fields (
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
    settings           TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (company_id, key)
);

ALTER TABLE organizations ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
