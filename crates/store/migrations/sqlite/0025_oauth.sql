-- OAuth 2.0 for machine clients.

-- Each environment signs with an Ed25519 key (EdDSA, service tokens) and a
-- P-256 key (ES256, for OIDC libraries that cannot verify EdDSA). Keys that
-- existed before hold Ed25519 seeds; an environment without an ES256 key gets
-- one at the next start (sealing needs the master key, which SQL has not).
ALTER TABLE signing_keys ADD COLUMN alg TEXT NOT NULL DEFAULT 'EdDSA';

-- A service user's OAuth client secrets (`onr_cs_…`). Only the SHA-256 is
-- kept: the secret is high-entropy and checksummed, so a fast hash is enough
-- and checking one at the token endpoint is one index probe, never argon2.
-- A revoked or expired secret stays for the audit trail and is refused from
-- the next request on.
CREATE TABLE oauth_client_secrets (
    id              TEXT   PRIMARY KEY,
    env_id          TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    service_user_id TEXT   NOT NULL REFERENCES service_users (id) ON DELETE CASCADE,
    secret_hash     TEXT   NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX oauth_client_secrets_user ON oauth_client_secrets (service_user_id, created_at);

-- Access tokens revoked before their expiry (RFC 7009), by `jti`. A row is
-- needed only until the token would have expired anyway: every node reads
-- the environment's live rows at most once per settings ttl, and rows past
-- `expires_at` are deleted as new ones arrive.
CREATE TABLE revoked_tokens (
    env_id     TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    jti        TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    PRIMARY KEY (env_id, jti)
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (env_id, expires_at);
