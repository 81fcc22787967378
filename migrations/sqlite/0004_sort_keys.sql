-- Names sort accent- and case-insensitively and identically on both backends: the sort key of
-- each name (domain::collation::sort_key, computed by pipestack: the migration that adds these
-- columns fills them for existing rows) is compared byte by byte. `primary_email` holds the
-- primary email's sort key from now on (it is only ever sorted by).
ALTER TABLE persons ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN first_name_key TEXT;
ALTER TABLE persons ADD COLUMN last_name_key TEXT;
ALTER TABLE organizations ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
DROP INDEX persons_name;
CREATE INDEX persons_name_key ON persons(company_id, active_flag, name_key, id);
