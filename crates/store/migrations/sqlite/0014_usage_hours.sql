-- The 429 answers of each usage row, apart: charts show rate-limited
-- requests as their own class beside the other 4xx. `denied` (401 and 429
-- together) stays as the anomaly detector reads it.
ALTER TABLE usage_minutes ADD COLUMN limited BIGINT NOT NULL DEFAULT 0;

-- The same counts per UTC hour, written with the minutes in one
-- transaction by every flush. Charts read these: summing 30 days of a
-- partner's minutes (43,200 per key, route and class) took 130 to 200 ms
-- on SQLite, over the 50 ms a chart may take (BENCHMARKS.md (h)); the
-- hours are 60 times fewer.
-- Keyed like usage_minutes; `hour` is the start of the hour, Unix ms.
CREATE TABLE usage_hours (
    env_id       TEXT   NOT NULL,
    key_id       TEXT   NOT NULL,
    partner_id   TEXT   NOT NULL,
    route        TEXT   NOT NULL,
    status_class TEXT   NOT NULL,  -- 2xx, 3xx, 4xx, 5xx
    hour         BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    limited      BIGINT NOT NULL,  -- of count: 429 answers
    PRIMARY KEY (env_id, key_id, route, status_class, hour)
);
CREATE INDEX usage_hours_partner ON usage_hours (env_id, partner_id, hour);
CREATE INDEX usage_hours_hour ON usage_hours (hour);

-- The hours of the minutes counted before this migration (their 429s,
-- not told apart then, stay within 4xx).
INSERT INTO usage_hours (env_id, key_id, partner_id, route, status_class, hour, count, limited)
SELECT env_id, key_id, MIN(partner_id), route, status_class, minute - minute % 3600000, SUM(count), 0
FROM usage_minutes
GROUP BY env_id, key_id, route, status_class, minute - minute % 3600000;
