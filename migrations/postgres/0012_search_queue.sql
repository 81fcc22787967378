-- SQLite only: its person search index trails the commits (person_search_queue). PostgreSQL's
-- trigram index follows the column by itself.
SELECT 1;
