// The PostgreSQL-only tests are compiled as ignored (with the reason shown by
// `cargo test`) unless ONRAMP_TEST_DATABASE_URL names a server.
fn main() {
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(no_postgres_tests)");
    if std::env::var_os("ONRAMP_TEST_DATABASE_URL").is_none() {
        println!("cargo::rustc-cfg=no_postgres_tests");
    }
}
