-- Delivery of events to webhook endpoints. The fan-out gives each endpoint
-- one message per event it subscribes to (the primary key makes a second
-- fan-out of the same event harmless); a message is attempted until it is
-- delivered or its schedule runs out. A node attempting a message leases it
-- (lease_until) so no other node attempts it at the same time; a node that
-- dies mid-attempt lets its lease run out and another takes it over.
CREATE TABLE webhook_messages (
    endpoint_id     TEXT   NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT   NOT NULL,
    env_id          TEXT   NOT NULL,
    sequence        BIGINT NOT NULL,  -- the event's, for ordering
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT,           -- NULL once delivered or given up
    lease_until     BIGINT,
    state           TEXT   NOT NULL CHECK (state IN ('pending', 'delivered', 'exhausted')),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, event_id)
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at, sequence);

-- Every attempt, for the endpoint's owner to see what its receiver answered.
CREATE TABLE webhook_attempts (
    endpoint_id      TEXT   NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         TEXT   NOT NULL,
    event_type       TEXT   NOT NULL,
    attempt          BIGINT NOT NULL,
    attempted_at     BIGINT NOT NULL,
    status_code      BIGINT,          -- NULL when no answer came (timeout, connection error)
    error            TEXT,            -- timeout, connect, target_not_allowed, … or NULL
    latency_ms       BIGINT NOT NULL,
    response_snippet TEXT   NOT NULL, -- the first 1 KiB of the answer
    PRIMARY KEY (endpoint_id, event_id, attempt)
);
CREATE INDEX webhook_attempts_recent ON webhook_attempts (endpoint_id, attempted_at);
