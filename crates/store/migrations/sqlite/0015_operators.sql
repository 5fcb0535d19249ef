-- Operators: the people who run the deployment from the console (the CLI
-- needs no account: whoever runs it holds the database and the master key).
--
-- The password is an argon2id hash like every other. The TOTP secret must
-- be read back to check codes, so it is sealed (ChaCha20-Poly1305 under a
-- key derived from the master key, the operator id bound as associated
-- data); NULL until the operator enrols at their first sign-in.
-- totp_last_step is the last time step whose code was accepted: a code is
-- good once (RFC 6238 section 5.2), also across nodes.
CREATE TABLE operators (
    id             TEXT   PRIMARY KEY,
    email          TEXT   NOT NULL UNIQUE,  -- lowercase
    role           TEXT   NOT NULL,         -- admin | support
    password_hash  TEXT   NOT NULL,
    totp_secret    BLOB,
    totp_last_step BIGINT NOT NULL,
    disabled_at    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- Single-use recovery codes, kept as HMAC-SHA256 under a key derived from
-- the master key (about 51 bits each: a plain hash could be searched).
-- Using one deletes its row.
CREATE TABLE operator_recovery_codes (
    operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    PRIMARY KEY (operator_id, code_hash)
);

-- Console sessions, under the SHA-256 of the cookie's token. stage is
-- second_factor or enrol until the operator completes sign-in (complete);
-- pending_totp holds the secret offered at enrolment (sealed) until a code
-- confirms it. A session idle longer than the console's idle timeout is
-- refused and removed.
CREATE TABLE operator_sessions (
    token_hash   TEXT   PRIMARY KEY,
    operator_id  TEXT   NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    stage        TEXT   NOT NULL,
    pending_totp BLOB,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
