-- Each person's followers' user ids ("7,12"), written by every follow and unfollow in the same
-- transaction as the followers table: a page of persons reads them with each row instead of
-- probing the followers' index once per row (a third of a page's time). The followers table
-- stays what visibility, the follower lists and the changelog read.
ALTER TABLE persons ADD COLUMN follower_ids TEXT;
UPDATE persons SET follower_ids = (
    SELECT string_agg(CAST(f.user_id AS TEXT), ',') FROM followers f
    WHERE f.kind = 'person' AND f.item_id = persons.id
);
