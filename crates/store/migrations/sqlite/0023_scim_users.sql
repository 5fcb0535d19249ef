-- What SCIM keeps of a User beyond its account: the identity provider's
-- externalId (unique per environment when set) and the attributes Onramp
-- stores but does not use (displayName, title, phoneNumbers, the enterprise
-- extension, ...) as one JSON object. The other APIs ignore both. Deleting
-- the account deletes its row.
CREATE TABLE scim_users (
    env_id      TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    external_id TEXT,
    attributes  TEXT NOT NULL,
    PRIMARY KEY (env_id, account_id),
    FOREIGN KEY (env_id, account_id) REFERENCES accounts (env_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scim_users_external ON scim_users (env_id, external_id) WHERE external_id IS NOT NULL;
