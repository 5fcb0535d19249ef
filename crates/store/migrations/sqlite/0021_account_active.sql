-- A deactivated account (active = 0) cannot sign in anywhere and its vendor
-- grants answer as if it did not exist; it keeps its data so it can be
-- reactivated. An integer (1/0) rather than BOOLEAN because both backends
-- read it through the same runtime-checked queries. Existing accounts stay
-- active.
ALTER TABLE accounts ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
