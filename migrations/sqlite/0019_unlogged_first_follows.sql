-- The follows an item is created with are not written to the followers' changelog as they are
-- made: the followers row keeps who made it (`unlogged_actor`), the changelog reads its
-- "added" from the row while it stands, and an unfollow writes it to the log first (under a
-- key of its own that sorts before every logged change, as the item's first events do). NULL:
-- the follow's addition is in the log (every follow before this migration).
ALTER TABLE followers ADD COLUMN unlogged_actor INTEGER;
