-- The scopes the operator lets a partner's keys have (a JSON array of scope
-- names, as api_keys.scopes). Every partner so far could be given any
-- scope, so existing rows get all of them and nothing changes for them; a
-- scope added later is granted to partners by a migration of its own, never
-- implicitly.
ALTER TABLE partners ADD COLUMN allowed_scopes TEXT NOT NULL
    DEFAULT '["accounts:write","accounts:read","usage:read","webhooks:manage"]';
