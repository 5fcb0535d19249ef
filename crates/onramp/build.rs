// Tests that need a PostgreSQL server or Redis are compiled as ignored (with
// the reason shown by `cargo test`) unless ONRAMP_TEST_DATABASE_URL /
// ONRAMP_TEST_REDIS_URL name one, so `cargo test` passes on a fresh machine.
fn main() {
    for (var, cfg) in [
        ("ONRAMP_TEST_DATABASE_URL", "no_postgres_tests"),
        ("ONRAMP_TEST_REDIS_URL", "no_redis_tests"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(var).is_none() {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
