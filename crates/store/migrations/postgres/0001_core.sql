-- PostgreSQL twin of migrations/sqlite/0001_core.sql (same tables and columns).
-- Core schema: instances, their two environments, service users, client
-- accounts, sessions, signing keys and the audit log.
--
-- Portable on purpose (TEXT, BIGINT, BYTEA only; timestamps are Unix
-- milliseconds) so the PostgreSQL schema can mirror it column for column and
-- the same queries serve both.

CREATE TABLE instances (
    platform_id TEXT PRIMARY KEY,
    name        TEXT   NOT NULL,
    region      TEXT   NOT NULL,
    app_url     TEXT   NOT NULL,
    features    TEXT   NOT NULL,  -- JSON array of feature names
    rate_limits TEXT   NOT NULL,  -- JSON object: route template (or "default") -> requests/minute
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Exactly two per instance; everything below hangs off an environment so
-- that staging and production share nothing.
CREATE TABLE environments (
    id           TEXT PRIMARY KEY,
    platform_id  TEXT NOT NULL REFERENCES instances (platform_id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('staging', 'production')),
    cors_origins TEXT NOT NULL,  -- JSON array of allowed browser origins
    UNIQUE (platform_id, kind)
);

-- Extra hostnames an operator maps to an environment; a hostname belongs to
-- one environment only, which the primary key enforces.
CREATE TABLE hostnames (
    hostname TEXT PRIMARY KEY,
    env_id   TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE
);
CREATE INDEX hostnames_env ON hostnames (env_id);

CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    env_id     TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    seed       BYTEA   NOT NULL,  -- Ed25519 private key; never leaves the server
    created_at BIGINT NOT NULL,
    retired_at BIGINT            -- set when a newer key took over signing
);
CREATE INDEX signing_keys_env ON signing_keys (env_id);

CREATE TABLE service_users (
    id            TEXT PRIMARY KEY,
    env_id        TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    username      TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,  -- argon2id PHC string
    roles         TEXT   NOT NULL,  -- JSON array
    disabled_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (env_id, username)
);

-- Account ids are unique per environment, not globally: a client-chosen id in
-- staging must not collide with (or reveal) one in production.
CREATE TABLE accounts (
    env_id           TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    id               TEXT   NOT NULL,
    email            TEXT   NOT NULL,
    email_normalized TEXT   NOT NULL,  -- lowercase; the unique index makes "one account per email" hold under concurrency
    first_name       TEXT   NOT NULL,
    last_name        TEXT   NOT NULL,
    password_hash    TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (env_id, id),
    UNIQUE (env_id, email_normalized)
);

-- Only the SHA-256 of a session token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    env_id     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_account ON sessions (env_id, account_id);

-- Append-only: no foreign keys, so events outlive what they describe.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,  -- UUIDv7, so ordering by id is ordering by time
    platform_id TEXT   NOT NULL,
    environment TEXT,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    request_id  TEXT,
    detail      TEXT   NOT NULL,  -- JSON
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_events_instance ON audit_events (platform_id, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
