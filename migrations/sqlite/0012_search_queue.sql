-- The persons whose text the trigram index (persons_fts) does not hold yet. A write queues the
-- person in its own transaction, with the text the index holds for it (NULL: none); the writer
-- brings the index up to date behind the commits, a step of many persons at a time, and a
-- search reads the queued persons' text itself, so it never misses or finds a stale match.
CREATE TABLE person_search_queue (
    person_id    INTEGER PRIMARY KEY,
    indexed_text TEXT
);
