-- Vendor apps as OpenID Connect clients.

-- Where `/oauth/authorize` may send codes (a JSON array, matched exactly),
-- and how the app's ID tokens are signed: ES256 by default, since some OIDC
-- libraries cannot verify EdDSA.
ALTER TABLE vendor_apps ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE vendor_apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'ES256';
