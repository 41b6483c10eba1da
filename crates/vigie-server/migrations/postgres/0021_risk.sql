-- The territory's risk map (issue 15): one snapshot per commune per Paris
-- month, taken by the `risk.snapshot` job, so the map can say what
-- changed since last month. The factors' scores are 0–100, NULL when
-- unknown; `level` is the API's word (low, moderate, high, critical,
-- unknown). Keep in step with migrations/sqlite/0021_risk.sql.

CREATE TABLE risk_snapshots (
    commune TEXT NOT NULL REFERENCES communes(code),
    -- 'YYYY-MM'.
    month TEXT NOT NULL,
    risk BIGINT,
    level TEXT NOT NULL,
    pressure BIGINT,
    exposure BIGINT,
    maturity BIGINT,
    human BIGINT,
    -- Critical findings of the last scan, outbound incidents of the
    -- pressure window: "new critical findings", "new compromises".
    critical BIGINT NOT NULL,
    outbound BIGINT NOT NULL,
    taken_at BIGINT NOT NULL,
    PRIMARY KEY (commune, month)
);
CREATE INDEX risk_snapshots_month ON risk_snapshots (month);
