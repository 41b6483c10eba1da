-- The territory list's upkeep (issue 16): what the territory allowed when
-- the job last took allowed addresses off the list (its allowlists'
-- versions and its networks), so that it looks at the whole list again
-- only when that changes. Keep in step with the other dialect's
-- 0024_defence_upkeep.sql.
ALTER TABLE defence_state ADD COLUMN allow_key TEXT NOT NULL DEFAULT '';
