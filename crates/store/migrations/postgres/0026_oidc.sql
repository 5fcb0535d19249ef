-- Vendor apps as OpenID Connect clients.

-- Where `/oauth/authorize` may send codes (a JSON array, matched exactly),
-- and how the app's ID tokens are signed: ES256 by default, since some OIDC
-- libraries cannot verify EdDSA.
ALTER TABLE vendor_apps ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE vendor_apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'ES256';

-- A code of `/oauth/authorize` is bound also to the redirect URI it was
-- sent to, its scopes, the client's nonce and when the person signed in
-- (all NULL for the popup's codes).
ALTER TABLE auth_codes ADD COLUMN redirect_uri TEXT;
ALTER TABLE auth_codes ADD COLUMN scope TEXT;
ALTER TABLE auth_codes ADD COLUMN nonce TEXT;
ALTER TABLE auth_codes ADD COLUMN auth_time BIGINT;

-- The access token issued for a code, written in the same statement that
-- uses the code up: a replay of the code revokes it (RFC 6749 §4.1.2).
ALTER TABLE auth_codes ADD COLUMN access_jti TEXT;
ALTER TABLE auth_codes ADD COLUMN access_exp BIGINT;
