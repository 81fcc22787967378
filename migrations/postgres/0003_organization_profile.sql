-- v2 organization fields: website, linkedin, industry, annual_revenue, employee_count, as JSON;
-- '{}' reads as all null.
ALTER TABLE organizations ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
