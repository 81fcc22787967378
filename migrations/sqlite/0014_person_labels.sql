-- Which persons have which label, kept by triggers from `persons.label_ids` (every write of a
-- person, whatever its path: API, import, merge, restore): the label filter reads this index
-- instead of every person's row. Derived: snapshots and migrates leave it out; they write the
-- persons, and the triggers fill it.
CREATE TABLE person_labels (
    company_id INTEGER NOT NULL,
    label_id   INTEGER NOT NULL,
    person_id  INTEGER NOT NULL,
    PRIMARY KEY (company_id, label_id, person_id)
) WITHOUT ROWID;

CREATE TRIGGER person_labels_insert AFTER INSERT ON persons WHEN NEW.label_ids <> '[]'
BEGIN
    INSERT OR IGNORE INTO person_labels (company_id, label_id, person_id)
    SELECT NEW.company_id, value, NEW.id FROM json_each(NEW.label_ids);
END;

CREATE TRIGGER person_labels_update AFTER UPDATE OF label_ids ON persons
BEGIN
    DELETE FROM person_labels WHERE company_id = OLD.company_id AND person_id = OLD.id
        AND label_id IN (SELECT value FROM json_each(OLD.label_ids));
    INSERT OR IGNORE INTO person_labels (company_id, label_id, person_id)
    SELECT NEW.company_id, value, NEW.id FROM json_each(NEW.label_ids);
END;

CREATE TRIGGER person_labels_delete AFTER DELETE ON persons WHEN OLD.label_ids <> '[]'
BEGIN
    DELETE FROM person_labels WHERE company_id = OLD.company_id AND person_id = OLD.id
        AND label_id IN (SELECT value FROM json_each(OLD.label_ids));
END;

INSERT OR IGNORE INTO person_labels (company_id, label_id, person_id)
SELECT p.company_id, j.value, p.id FROM persons p, json_each(p.label_ids) j
WHERE p.label_ids <> '[]';
