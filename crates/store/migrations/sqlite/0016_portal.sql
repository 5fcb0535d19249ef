-- The partner portal: partners' own people, who sign in on their
-- environment's public host under /partners/ (a partner exists per
-- environment, so its people do too).

-- What a company wrote when it applied through /partners/apply; the
-- operator reads it before approving. One per partner made by applying
-- (partners the operator creates have none).
CREATE TABLE partner_applications (
    partner_id    TEXT   PRIMARY KEY REFERENCES partners (id) ON DELETE CASCADE,
    contact_name  TEXT   NOT NULL,
    contact_email TEXT   NOT NULL,
    intended_use  TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

-- A partner's people. The email (lowercase) is unique per environment, so
-- signing in by email names one person and one partner. The password is an
-- argon2id hash like every other.
CREATE TABLE portal_users (
    id            TEXT   PRIMARY KEY,
    env_id        TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    partner_id    TEXT   NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    email         TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (env_id, email)
);
CREATE INDEX portal_users_partner ON portal_users (partner_id);

-- Portal sessions, under the SHA-256 of the cookie's token. A session idle
-- longer than the portal's idle timeout is refused and removed; removing a
-- person ends their sessions.
CREATE TABLE portal_sessions (
    token_hash   TEXT   PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);

-- Invitations to join a partner: a one-time link whose token is kept only
-- as its SHA-256. Accepting sets used_at (once, even under concurrency:
-- a conditional update) and creates the person in the same transaction.
CREATE TABLE portal_invitations (
    token_hash TEXT   PRIMARY KEY,
    env_id     TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    partner_id TEXT   NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    email      TEXT   NOT NULL,  -- lowercase
    invited_by TEXT   NOT NULL,  -- the audit actor who invited
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX portal_invitations_partner ON portal_invitations (partner_id);

-- The portal shows each listed account's newest sign-in link: look links up
-- by account (they are purged soon after they expire, so few are kept).
CREATE INDEX login_tokens_account ON login_tokens (env_id, account_id);
