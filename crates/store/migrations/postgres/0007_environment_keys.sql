-- PostgreSQL twin of migrations/sqlite/0007_environment_keys.sql: every
-- per-environment row is keyed by its environment (see there for why).
-- PostgreSQL changes keys in place; the constraint names are the defaults
-- the earlier migrations got.

-- The old foreign key leans on vendor_apps' old primary key: it goes first.
ALTER TABLE grants DROP CONSTRAINT grants_app_id_fkey;
ALTER TABLE vendor_apps DROP CONSTRAINT vendor_apps_pkey;
ALTER TABLE vendor_apps ADD PRIMARY KEY (env_id, id);
ALTER TABLE vendor_apps DROP CONSTRAINT vendor_apps_key_hash_key;
ALTER TABLE vendor_apps ADD UNIQUE (env_id, key_hash);

-- A grant's app is in the grant's environment. No server ever wrote one
-- across environments; one that exists anyway is dropped.
DELETE FROM grants g WHERE NOT EXISTS (SELECT 1 FROM vendor_apps a WHERE a.env_id = g.env_id AND a.id = g.app_id);
ALTER TABLE grants DROP CONSTRAINT grants_pkey;
ALTER TABLE grants ADD PRIMARY KEY (env_id, account_id, app_id);
ALTER TABLE grants ADD FOREIGN KEY (env_id, app_id) REFERENCES vendor_apps (env_id, id) ON DELETE CASCADE;
DROP INDEX grants_app;
CREATE INDEX grants_app ON grants (env_id, app_id);

ALTER TABLE auth_codes DROP CONSTRAINT auth_codes_pkey;
ALTER TABLE auth_codes ADD PRIMARY KEY (env_id, code_hash);

ALTER TABLE sessions DROP CONSTRAINT sessions_pkey;
ALTER TABLE sessions ADD PRIMARY KEY (env_id, token_hash);

ALTER TABLE login_tokens DROP CONSTRAINT login_tokens_pkey;
ALTER TABLE login_tokens ADD PRIMARY KEY (env_id, token_hash);

ALTER TABLE usage_minutes DROP CONSTRAINT usage_minutes_pkey;
ALTER TABLE usage_minutes ADD PRIMARY KEY (env_id, key_id, route, status_class, minute);
DROP INDEX usage_minutes_partner;
CREATE INDEX usage_minutes_partner ON usage_minutes (env_id, partner_id, minute);
