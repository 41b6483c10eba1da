-- The territory's revision, bumped by every import of communes: what a
-- server replica compares to know its projected map is out of date.
-- Keep in step with migrations/postgres/0004_territory_revision.sql.
ALTER TABLE territory ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
