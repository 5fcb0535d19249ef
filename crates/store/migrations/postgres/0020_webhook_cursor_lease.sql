-- First attempts come straight from the event stream, behind the endpoint's
-- cursor: the node that leases the cursor (until cursor_lease_until) is the
-- only one attempting the events after it, so no event is attempted twice
-- at once. A message row is written only when an attempt fails.
ALTER TABLE webhook_endpoints ADD COLUMN cursor_lease_until BIGINT;
