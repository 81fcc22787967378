-- A field's description and UI settings (v2 description, ui_visibility, important_fields,
-- required_fields), as JSON; '{}' reads as the defaults.
ALTER TABLE person_fields ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
