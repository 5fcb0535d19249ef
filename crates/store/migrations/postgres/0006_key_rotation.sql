-- The key a rotation minted. Revoking a key in its grace period revokes its
-- successors too: whoever leaked the old key may have rotated it, and the
-- successor must not outlive the revocation.
ALTER TABLE api_keys ADD COLUMN rotated_to TEXT;
