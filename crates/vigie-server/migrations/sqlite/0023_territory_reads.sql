-- Reads of the whole territory (the weather, the risk map, the public
-- page), made cheap for all of France.

-- The day's index carries what the readers of daily counts need: a range
-- of days is read from the index alone, without a lookup into the table
-- per row (the risk map's 30 days for all of France, a million rows, are
-- read twice as fast). It replaces the index on the day alone.
DROP INDEX daily_counts_day;
CREATE INDEX daily_counts_day ON daily_counts (day, commune, category, inbound, outbound);

-- A round's questionnaires (a frozen copy, about 100 KB of JSON) have a
-- key, the BLAKE3 of that JSON: rounds started with the same
-- questionnaires share it, and a reader of many rounds reads and parses
-- each copy once. Rounds from before have none and are read one by one.
ALTER TABLE audits ADD COLUMN book_key TEXT;
