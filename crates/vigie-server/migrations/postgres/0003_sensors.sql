-- Sensors: running counters kept by the ingest transaction (so the sensor
-- pages never count over the whole history), the incidents of each batch,
-- and an index for a sensor's recent incidents. Keep in step with
-- migrations/sqlite/0003_sensors.sql.

ALTER TABLE sensors ADD COLUMN reports_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sensors ADD COLUMN incidents_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN incidents BIGINT NOT NULL DEFAULT 0;
CREATE INDEX incidents_sensor_first_seen ON incidents (sensor_id, first_seen);
CREATE INDEX sensors_commune ON sensors (commune);
