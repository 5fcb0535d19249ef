-- Which master key sealed this database: one row holding a MAC of a fixed
-- label under a key derived from the master key (never the key, nor a key
-- usable for anything else). The first start writes it; a start with any
-- other key is refused before it could seal new secrets under the wrong key
-- or fail on every login. Signing seeds need no new column: sealed seeds
-- replace the plaintext in signing_keys.seed (`sealed:v1:` + nonce +
-- ciphertext), and start-up seals the plaintext ones it finds.
CREATE TABLE master_key_check (
    id          TEXT   NOT NULL PRIMARY KEY,  -- always 'master': one row
    check_value TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
