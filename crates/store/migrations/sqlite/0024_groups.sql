-- Groups of accounts, per environment (SCIM Groups, read by service users
-- through the client API). `display_key` is the display name lowercased:
-- its unique index makes "one group per displayName" hold under concurrency,
-- compared case-insensitively as SCIM compares displayName. `version` counts
-- changes (members included) for the weak ETag: a timestamp in milliseconds
-- would give two quick changes the same version.
CREATE TABLE account_groups (
    env_id       TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    display_name TEXT   NOT NULL,
    display_key  TEXT   NOT NULL,
    external_id  TEXT,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (env_id, id)
);
CREATE UNIQUE INDEX account_groups_display_key ON account_groups (env_id, display_key);
CREATE UNIQUE INDEX account_groups_external_id ON account_groups (env_id, external_id) WHERE external_id IS NOT NULL;

-- One row per membership, so adding or removing a member of a group of
-- thousands touches one row. Both keys carry the environment: a member is
-- an account of the group's own environment. Deleting the account or the
-- group deletes its memberships.
CREATE TABLE group_members (
    env_id     TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (env_id, group_id, account_id),
    FOREIGN KEY (env_id, group_id) REFERENCES account_groups (env_id, id) ON DELETE CASCADE,
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
-- An account's groups (GET /v1/client/{user_id}, members.value eq), and the
-- cascade from accounts.
CREATE INDEX group_members_account ON group_members (env_id, account_id);
