-- API tokens are kept as their SHA-256 (hex), never themselves: the migration that renames the
-- column replaces each token by its digest (in pipestack). Users note when their token last
-- opened a session; companies say where they are and what they do (`/users/me`).
ALTER TABLE users RENAME COLUMN api_token TO api_token_sha256;
ALTER TABLE users ADD COLUMN last_login BIGINT;
ALTER TABLE companies ADD COLUMN country TEXT NOT NULL DEFAULT 'US';
ALTER TABLE companies ADD COLUMN industry TEXT NOT NULL DEFAULT 'Other';
