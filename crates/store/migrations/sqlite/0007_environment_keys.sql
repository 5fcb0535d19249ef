-- Every per-environment row is keyed by its environment. Clients choose some
-- ids (a signup's user_id) and learn others (an app's client_id), so the same
-- id can exist in staging and production; a key without env_id let one
-- environment's row stand for, or collide with, the other's. Each key below
-- gains env_id in front, which is also the column every query filters on.
--
-- SQLite cannot change a primary key in place: each table is rebuilt
-- (create, copy, drop, rename) and its indexes made again. Foreign keys are
-- enforced while migrations run, and dropping a table first deletes its rows,
-- cascading to their children; so grants, the only child of a rebuilt table,
-- moves to its new table before vendor_apps is dropped. Renaming a table
-- rewrites the REFERENCES clauses that name it.

CREATE TABLE vendor_apps_new (
    id             TEXT   NOT NULL,
    env_id         TEXT   NOT NULL,
    account_id     TEXT   NOT NULL,  -- the developer who registered it
    name           TEXT   NOT NULL,
    origins        TEXT   NOT NULL,  -- JSON array of exact origins
    key_id         TEXT,
    key_hash       TEXT,             -- SHA-256 of the current key; a reset replaces it
    key_created_at BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (env_id, id),
    UNIQUE (env_id, key_hash),       -- the lookup path of a presented key
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
INSERT INTO vendor_apps_new (id, env_id, account_id, name, origins, key_id, key_hash, key_created_at, created_at, updated_at)
SELECT id, env_id, account_id, name, origins, key_id, key_hash, key_created_at, created_at, updated_at FROM vendor_apps;

-- A grant's app is in the grant's environment (the second foreign key). No
-- server ever wrote one across environments; one that exists anyway is
-- consent to an app the person's environment does not have, and is dropped.
CREATE TABLE grants_new (
    env_id     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    app_id     TEXT   NOT NULL,
    scopes     TEXT   NOT NULL,  -- JSON array of what the app sees
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (env_id, account_id, app_id),
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE,
    FOREIGN KEY (env_id, app_id) REFERENCES vendor_apps_new (env_id, id) ON DELETE CASCADE
);
INSERT INTO grants_new (env_id, account_id, app_id, scopes, granted_at)
SELECT g.env_id, g.account_id, g.app_id, g.scopes, g.granted_at FROM grants g
WHERE EXISTS (SELECT 1 FROM vendor_apps_new a WHERE a.env_id = g.env_id AND a.id = g.app_id);

DROP TABLE grants;
DROP TABLE vendor_apps;
ALTER TABLE vendor_apps_new RENAME TO vendor_apps;
ALTER TABLE grants_new RENAME TO grants;
CREATE INDEX vendor_apps_owner ON vendor_apps (env_id, account_id);
-- Deleting an app finds its grants (the cascade) through this index.
CREATE INDEX grants_app ON grants (env_id, app_id);

CREATE TABLE auth_codes_new (
    code_hash      TEXT   NOT NULL,
    env_id         TEXT   NOT NULL,
    app_id         TEXT   NOT NULL,
    account_id     TEXT   NOT NULL,
    code_challenge TEXT   NOT NULL,  -- base64url SHA-256 of the verifier (S256)
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    PRIMARY KEY (env_id, code_hash)
);
INSERT INTO auth_codes_new (code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at, used_at)
SELECT code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at, used_at FROM auth_codes;
DROP TABLE auth_codes;
ALTER TABLE auth_codes_new RENAME TO auth_codes;
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);

CREATE TABLE sessions_new (
    token_hash TEXT   NOT NULL,
    env_id     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (env_id, token_hash),
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
INSERT INTO sessions_new (token_hash, env_id, account_id, created_at, expires_at)
SELECT token_hash, env_id, account_id, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_account ON sessions (env_id, account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE login_tokens_new (
    token_hash TEXT   NOT NULL,
    env_id     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    redirect   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (env_id, token_hash),
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
INSERT INTO login_tokens_new (token_hash, env_id, account_id, redirect, created_at, expires_at, used_at)
SELECT token_hash, env_id, account_id, redirect, created_at, expires_at, used_at FROM login_tokens;
DROP TABLE login_tokens;
ALTER TABLE login_tokens_new RENAME TO login_tokens;
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);

CREATE TABLE usage_minutes_new (
    key_id       TEXT   NOT NULL,
    partner_id   TEXT   NOT NULL,
    env_id       TEXT   NOT NULL,
    route        TEXT   NOT NULL,
    status_class TEXT   NOT NULL,  -- 2xx, 3xx, 4xx, 5xx
    minute       BIGINT NOT NULL,  -- start of the minute, Unix milliseconds
    count        BIGINT NOT NULL,
    denied       BIGINT NOT NULL,  -- of count: 401 and 429 answers (anomaly detection)
    PRIMARY KEY (env_id, key_id, route, status_class, minute)
);
INSERT INTO usage_minutes_new (key_id, partner_id, env_id, route, status_class, minute, count, denied)
SELECT key_id, partner_id, env_id, route, status_class, minute, count, denied FROM usage_minutes;
DROP TABLE usage_minutes;
ALTER TABLE usage_minutes_new RENAME TO usage_minutes;
CREATE INDEX usage_minutes_partner ON usage_minutes (env_id, partner_id, minute);
CREATE INDEX usage_minutes_minute ON usage_minutes (minute);
