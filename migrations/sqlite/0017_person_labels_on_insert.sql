-- A new person's labels are indexed by the statement after its insert (`persons::insert_rows`,
-- and a restore for the persons it puts back), no longer by a trigger: any trigger on the
-- inserts into `persons` makes each insert a statement transaction, whose journal copies every
-- page the insert touches (8% of the writer's time in durable creates; 1.045x side by side).
-- The triggers of a change and a removal stay: they fire only for statements that change the
-- labels or remove persons.
DROP TRIGGER person_labels_insert;
