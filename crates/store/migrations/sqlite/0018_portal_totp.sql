-- An optional second factor for portal users, built like operators' (see
-- 0015): a TOTP secret sealed under a key derived from the master key (the
-- person's id bound as associated data), NULL while the person has no
-- authenticator; totp_last_step is the last time step whose code was
-- accepted, so a code is good once, also across nodes.
ALTER TABLE portal_users ADD COLUMN totp_secret BLOB;
ALTER TABLE portal_users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- Single-use recovery codes, kept as HMAC-SHA256 under a key of their own
-- derived from the master key (about 51 bits each: a plain hash could be
-- searched). Using one deletes its row; removing the person removes them.
CREATE TABLE portal_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A session of a person with an authenticator starts at second_factor and
-- opens nothing until the code completes it; sessions from before this
-- migration were complete. pending_totp holds the secret offered on the
-- security page (sealed) until a code confirms it.
ALTER TABLE portal_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'complete';
ALTER TABLE portal_sessions ADD COLUMN pending_totp BLOB;
