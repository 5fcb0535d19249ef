//! The operator CLI (the real binary): one JSON document per command with
//! --json, non-zero exits on errors, and changes that reach a running server.

use serde_json::{Value, json};

use crate::durability::provision;
use crate::helpers::*;

mod credentials;
mod instances;
mod serving;

#[test]
fn help_succeeds_for_every_command() {
    let commands: &[&[&str]] = &[
        &["--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["instance", "--help"],
        &["instance", "create", "--help"],
        &["instance", "list", "--help"],
        &["instance", "show", "--help"],
        &["instance", "update", "--help"],
        &["instance", "features", "--help"],
        &["instance", "hosts", "--help"],
        &["service-user", "--help"],
        &["service-user", "create", "--help"],
        &["service-user", "list", "--help"],
        &["service-user", "disable", "--help"],
        &["service-user", "reset-password", "--help"],
        &["signing-key", "--help"],
        &["signing-key", "rotate", "--help"],
        &["signing-key", "list", "--help"],
        &["audit", "--help"],
        &["audit", "list", "--help"],
    ];
    for args in commands {
        let run = run_raw(args);
        assert!(run.success, "onramp {args:?} failed: {}", run.stderr);
        assert!(run.stdout.contains("Usage"), "onramp {args:?} printed no usage: {}", run.stdout);
    }
    let top = run_raw(&["--help"]).stdout;
    for sub in ["serve", "migrate", "instance", "service-user", "signing-key", "audit"] {
        assert!(top.contains(sub), "--help does not list {sub}");
    }
    assert!(run_raw(&["--version"]).success);
    // Misuse fails.
    assert!(!run_raw(&["no-such-command"]).success);
    assert!(!run_raw(&["instance", "create"]).success);
}

fn env_doc<'a>(instance: &'a Value, kind: &str) -> &'a Value {
    instance["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {instance}"))
}
