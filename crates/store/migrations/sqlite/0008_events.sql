-- Lifecycle events: one row per event, written in the transaction of the
-- change it describes (with its audit event), numbered per environment.
-- The number comes from a counter row per environment, taken in that
-- transaction: a second writer of the same environment waits for the first
-- to commit, so numbers are given in commit order and a reader that has
-- seen event n never misses an earlier one committing later.

CREATE TABLE event_sequences (
    env_id        TEXT   PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
    last_sequence BIGINT NOT NULL
);

CREATE TABLE events (
    env_id      TEXT   NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    sequence    BIGINT NOT NULL,
    id          TEXT   NOT NULL UNIQUE,   -- evt_…, the webhook-id of its deliveries
    type        TEXT   NOT NULL,
    partner_id  TEXT,                     -- the partner whose objects it is about
    platform_id TEXT   NOT NULL,
    environment TEXT   NOT NULL,
    actor_type  TEXT   NOT NULL,
    actor_id    TEXT,
    data        TEXT   NOT NULL,          -- JSON object, never a secret
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (env_id, sequence)
);
CREATE INDEX events_partner ON events (env_id, partner_id, sequence);
CREATE INDEX events_created ON events (created_at);
