-- An operator may suspend a vendor app (the console's per-environment
-- screen): while suspended_at is set, its key is refused and its sign-up
-- popup does not open. NULL: the app works.
ALTER TABLE vendor_apps ADD COLUMN suspended_at BIGINT;
