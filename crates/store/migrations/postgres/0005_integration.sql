-- User integration: vendor apps registered by accounts, the grants people
-- give them, and single-use authorization codes bound to a PKCE challenge.

CREATE TABLE vendor_apps (
    id             TEXT PRIMARY KEY,
    env_id         TEXT   NOT NULL,
    account_id     TEXT   NOT NULL,  -- the developer who registered it
    name           TEXT   NOT NULL,
    origins        TEXT   NOT NULL,  -- JSON array of exact origins
    key_id         TEXT,
    key_hash       TEXT UNIQUE,      -- SHA-256 of the current key; a reset replaces it
    key_created_at BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
CREATE INDEX vendor_apps_owner ON vendor_apps (env_id, account_id);

CREATE TABLE grants (
    env_id     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    app_id     TEXT   NOT NULL REFERENCES vendor_apps (id) ON DELETE CASCADE,
    scopes     TEXT   NOT NULL,  -- JSON array of what the app sees
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, app_id),
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
CREATE INDEX grants_app ON grants (app_id);

-- Not tied to accounts by a foreign key: a code for a deleted account must
-- still be recognised so the exchange can answer user_not_found.
CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY,
    env_id         TEXT   NOT NULL,
    app_id         TEXT   NOT NULL,
    account_id     TEXT   NOT NULL,
    code_challenge TEXT   NOT NULL,  -- base64url SHA-256 of the verifier (S256)
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
