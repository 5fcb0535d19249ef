-- Partner provisioning: partners, their API keys, accounts they own, and
-- one-time sign-in links.

CREATE TABLE partners (
    id         TEXT PRIMARY KEY,
    env_id     TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    status     TEXT   NOT NULL CHECK (status IN ('pending', 'active', 'suspended')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX partners_env ON partners (env_id);

-- Only the SHA-256 of a key is stored; the unique index is the lookup path.
CREATE TABLE api_keys (
    key_id       TEXT PRIMARY KEY,
    partner_id   TEXT   NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    env_id       TEXT   NOT NULL,
    key_hash     TEXT   NOT NULL UNIQUE,
    scopes       TEXT   NOT NULL,  -- JSON array
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,           -- the lifetime it was issued with (--expires-in); kept by rotation
    retires_at   BIGINT,           -- end of the grace period after the partner rotated it
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_keys_partner ON api_keys (partner_id);

-- The partner that created an account; NULL for accounts made through the client API.
ALTER TABLE accounts ADD COLUMN partner_id TEXT;
CREATE INDEX accounts_partner ON accounts (env_id, partner_id, id);

-- Per-instance settings of sign-in links.
ALTER TABLE instances ADD COLUMN link_template TEXT;
ALTER TABLE instances ADD COLUMN login_link_ttl_secs BIGINT;

-- One-time sign-in links: single use is an UPDATE ... WHERE used_at IS NULL,
-- so two concurrent redemptions cannot both succeed.
CREATE TABLE login_tokens (
    token_hash TEXT PRIMARY KEY,
    env_id     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    redirect   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);
