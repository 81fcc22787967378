-- Which persons have which label, kept by triggers from `persons.label_ids` (every write of a
-- person, whatever its path: API, import, merge, restore): the label filter reads this index
-- instead of every person's row. Derived: snapshots and migrates leave it out; they write the
-- persons, and the triggers fill it.
CREATE TABLE person_labels (
    company_id BIGINT NOT NULL,
    label_id   BIGINT NOT NULL,
    person_id  BIGINT NOT NULL,
    PRIMARY KEY (company_id, label_id, person_id)
);

CREATE FUNCTION person_labels_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- By the whole key (the old labels), as SQLite's: by person alone would read every label
    -- row of the company.
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.label_ids <> '[]' THEN
        DELETE FROM person_labels WHERE company_id = OLD.company_id AND person_id = OLD.id
            AND label_id IN (SELECT l::bigint FROM json_array_elements_text(OLD.label_ids::json) l);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.label_ids <> '[]' THEN
        INSERT INTO person_labels (company_id, label_id, person_id)
        SELECT NEW.company_id, l::bigint, NEW.id FROM json_array_elements_text(NEW.label_ids::json) l
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER person_labels_insert AFTER INSERT ON persons
    FOR EACH ROW EXECUTE FUNCTION person_labels_keep();
CREATE TRIGGER person_labels_update AFTER UPDATE OF label_ids ON persons
    FOR EACH ROW EXECUTE FUNCTION person_labels_keep();
CREATE TRIGGER person_labels_delete AFTER DELETE ON persons
    FOR EACH ROW EXECUTE FUNCTION person_labels_keep();

INSERT INTO person_labels (company_id, label_id, person_id)
SELECT p.company_id, l::bigint, p.id FROM persons p, json_array_elements_text(p.label_ids::json) l
WHERE p.label_ids <> '[]'
ON CONFLICT DO NOTHING;
