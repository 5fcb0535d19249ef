-- Webhook endpoints: where an environment's owner (the operator and its
-- service users; partner_id NULL) or a partner wants lifecycle events sent.
-- Endpoint ids are made by the server (ep_ + UUIDv7), so they are unique on
-- their own; every statement still names the environment.
--
-- The signing secret must be read back to sign deliveries, so it is not a
-- hash but sealed (ChaCha20-Poly1305 under a key derived from the master
-- key, the endpoint id bound as associated data). After a rotation the
-- previous secret signs beside the new one until previous_secret_expires_at.
--
-- event_cursor, disabled_reason and failing_since are for delivery: the last
-- event sequence fanned out to the endpoint (set at creation to the
-- environment's last sequence, so an endpoint receives the events from its
-- creation on), why it was disabled ('disabled' by its owner; delivery adds
-- its own reasons), and since when every attempt has failed.

CREATE TABLE webhook_endpoints (
    id                         TEXT   PRIMARY KEY,
    env_id                     TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    partner_id                 TEXT   REFERENCES partners (id) ON DELETE CASCADE,
    url                        TEXT   NOT NULL,
    description                TEXT   NOT NULL,
    event_types                TEXT   NOT NULL,  -- JSON array of type names; [] = every type its owner sees
    secret                     BYTEA  NOT NULL,  -- nonce, ciphertext and tag
    previous_secret            BYTEA,
    previous_secret_expires_at BIGINT,
    event_cursor               BIGINT NOT NULL,
    disabled_at                BIGINT,           -- NULL while enabled
    disabled_reason            TEXT,
    failing_since              BIGINT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
-- Lists page by id within an environment and owner.
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (env_id, partner_id, id);
