-- SCIM bearer tokens, one environment each. Only the SHA-256 of the secret
-- is kept (the token is high-entropy and checksummed, so a fast hash is
-- enough and a lookup by hash is an index probe); a revoked token stays
-- for the audit trail and is refused from the next request on.
CREATE TABLE scim_tokens (
    id         TEXT   PRIMARY KEY,
    env_id     TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    token_hash TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX scim_tokens_env ON scim_tokens (env_id, created_at);
