//! What the accounts context adds for provisioning: the `active` flag.

mod active;
