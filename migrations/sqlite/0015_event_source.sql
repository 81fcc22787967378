-- Where each webhook event's change was made (`meta.change_source`: the API or the web app).
ALTER TABLE webhook_events ADD COLUMN change_source TEXT NOT NULL DEFAULT 'api';
