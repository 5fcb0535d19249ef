-- Idempotency keys (kept 24 hours). The key itself is not stored, only a
-- hash; the response is stored encrypted under a key derived from it.
CREATE TABLE idempotency_keys (
    env_id      TEXT   NOT NULL,
    key_hash    TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,  -- hash of route + body of the first request
    status      BIGINT NOT NULL,  -- 0 while the first request runs
    body        BYTEA   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (env_id, key_hash)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE INDEX sessions_expiry ON sessions (expires_at);
