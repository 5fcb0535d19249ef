-- A partner's own usage-alert thresholds (PUT /v1/partners/alerts/settings).
-- A NULL column follows the deployment's default (--alert-volume-factor …),
-- so a partner that set only volume_min still moves with the operator's
-- other thresholds. Keyed by environment first, like every per-environment
-- table; the detector reads the rows of the partners with recent usage in
-- one query per flush (through usage_minutes_partner).
--
-- The two ratios are stored as decimal text, the shortest form that reads
-- back as the same number: the portable schema has no floating-point
-- columns (sqlx's Any driver and `onramp copy` carry TEXT, BIGINT and BLOB).

CREATE TABLE alert_settings (
    env_id        TEXT   NOT NULL,
    partner_id    TEXT   NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    volume_factor TEXT,             -- 1.5 to 100
    volume_min    BIGINT,           -- 10 to 1,000,000 requests
    error_share   TEXT,             -- 0.05 to 1
    error_min     BIGINT,           -- 10 to 1,000,000 requests
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (env_id, partner_id)
);
