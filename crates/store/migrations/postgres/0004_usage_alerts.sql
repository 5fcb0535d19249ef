-- Partner API usage, per key, route template, status class and minute,
-- written by the server's background flush (upserts add to `count`).
CREATE TABLE usage_minutes (
    key_id       TEXT   NOT NULL,
    partner_id   TEXT   NOT NULL,
    env_id       TEXT   NOT NULL,
    route        TEXT   NOT NULL,
    status_class TEXT   NOT NULL,  -- 2xx, 3xx, 4xx, 5xx
    minute       BIGINT NOT NULL,  -- start of the minute, Unix milliseconds
    count        BIGINT NOT NULL,
    denied       BIGINT NOT NULL,  -- of count: 401 and 429 answers (anomaly detection)
    PRIMARY KEY (key_id, route, status_class, minute)
);
CREATE INDEX usage_minutes_partner ON usage_minutes (partner_id, minute);
CREATE INDEX usage_minutes_minute ON usage_minutes (minute);

-- Anomaly alerts raised for API keys, and their webhook delivery.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,  -- UUIDv7
    env_id      TEXT   NOT NULL,
    partner_id  TEXT   NOT NULL,
    key_id      TEXT   NOT NULL,
    kind        TEXT   NOT NULL,  -- volume_spike, error_rate
    detail      TEXT   NOT NULL,  -- JSON
    created_at  BIGINT NOT NULL,
    delivery    TEXT   NOT NULL,  -- not_configured, pending, delivered, failed
    attempts    BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX alerts_created ON alerts (created_at);
