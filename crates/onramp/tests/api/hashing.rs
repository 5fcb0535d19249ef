//! The shared password-hashing workers: one tenant's batch cannot starve
//! another's logins, a batch that does not fit is refused whole, the hashes
//! of a dropped request never run, and imported hashes are bounded in cost.
//!
//! One hashing worker, held by a job the test parks on it, makes the order
//! of the queue observable without timing anything: the test arranges the
//! queue while the worker is held, then lets it go one job at a time.

use std::sync::Arc;

use argon2::password_hash::PasswordHasher as _;
use onramp::startup::ServerSettings;
use onramp_domain::app::Core;
use onramp_domain::infra::hash_queue::Share;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::{Api, CLIENT_PASSWORD, EVENTUALLY, METRICS_TOKEN, PartnerWorld, Resp, eventually};

/// A job parked on a hashing worker until the test releases it.
struct Hold {
    started: Option<oneshot::Receiver<()>>,
    release: std::sync::mpsc::Sender<()>,
    task: JoinHandle<()>,
}

impl Hold {
    /// Queues the job in `tenant`'s share (it runs when its turn comes).
    fn queue(core: &Arc<Core>, tenant: &str) -> Self {
        let (started_tx, started) = oneshot::channel();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (core, share) = (Arc::clone(core), Share::tenant(&tenant.into()));
        let task = tokio::spawn(async move {
            core.hasher()
                .run(&share, move || {
                    let _ = started_tx.send(());
                    let _ = held.recv();
                })
                .await
                .expect("the hold is admitted");
        });
        Self {
            started: Some(started),
            release,
            task,
        }
    }

    /// Queues the job and waits until a worker runs it.
    async fn start(core: &Arc<Core>, tenant: &str) -> Self {
        let mut hold = Self::queue(core, tenant);
        hold.running().await;
        hold
    }

    /// Waits until a worker runs the job.
    async fn running(&mut self) {
        let started = self.started.take().expect("not awaited yet");
        tokio::time::timeout(EVENTUALLY, started)
            .await
            .expect("the held job gets its turn")
            .expect("the job ran");
    }

    /// Lets the worker go and waits until the job is done.
    async fn release(self) {
        self.release.send(()).expect("the job is waiting");
        self.task.await.expect("the hold finishes");
    }
}

/// Waits until exactly `n` hashes wait in the queue.
async fn waiting(core: &Core, n: usize) {
    eventually(&format!("{n} hashes waiting"), || async move {
        (core.hasher().stats().waiting == n).then_some(())
    })
    .await;
}

/// One hashing worker, and whatever else `tweak` sets.
async fn world(tweak: impl FnOnce(&mut ServerSettings)) -> PartnerWorld {
    PartnerWorld::with(|s| {
        s.core.hash_workers = Some(1);
        tweak(s);
    })
    .await
}

/// Instance `beta` (another tenant) with a staging client account
/// `ann@example.com`; returns its logged-in service client.
async fn beta(world: &PartnerWorld) -> Api {
    let server = &world.server;
    server.create_instance("beta", &["client-accounts"]).await;
    server.create_service_user("beta", "staging", "svc", &[]).await;
    let api = server.login(&server.staging("beta"), "svc").await;
    api.signup("ann@example.com").await;
    api
}

fn beta_login(api: &Api) -> JoinHandle<Resp> {
    let api = api.clone();
    tokio::spawn(async move {
        api.post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
    })
}

/// A batch body of `n` items with plaintext passwords.
fn batch_body(prefix: &str, n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({ "primaryEmail": format!("{prefix}{i}@example.com"), "password": "correct horse battery" }))
        .collect();
    json!({ "accounts": items })
}

fn post_batch(world: &PartnerWorld, body: Value) -> JoinHandle<Resp> {
    let partner = world.partner.clone();
    tokio::spawn(async move { partner.post("/v1/partners/accounts/batch", &body).await })
}

fn statuses(r: &Resp) -> Vec<u64> {
    r.json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|x| x["status"].as_u64().expect("status"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_login_is_served_between_the_hashes_of_a_batch() {
    let world = world(|_| {}).await;
    let beta = beta(&world).await;
    let core = Arc::clone(&world.server.core);

    let first = Hold::start(&core, "holder").await;
    let batch = post_batch(&world, batch_body("bulk", 5));
    waiting(&core, 5).await;
    let login = beta_login(&beta);
    waiting(&core, 6).await;
    let mut second = Hold::queue(&core, "holder");
    waiting(&core, 7).await;

    // Turns: one hash of acme's batch, beta's login, then the second hold,
    // which keeps the worker until the test has looked.
    first.release().await;
    second.running().await;
    let login = tokio::time::timeout(EVENTUALLY, login)
        .await
        .expect("the login is not stuck behind the batch")
        .unwrap();
    login.expect(200);
    assert_eq!(
        core.hasher().stats().waiting,
        4,
        "the batch's other four hashes still wait after the login"
    );
    assert!(!batch.is_finished());

    second.release().await;
    let batch = batch.await.unwrap();
    batch.expect(200);
    assert_eq!(statuses(&batch), [201; 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_does_not_fit_the_queue_is_refused_whole_with_503() {
    let world = world(|s| s.core.hash_batch_queue = Some(3)).await;
    let beta = beta(&world).await;
    let core = Arc::clone(&world.server.core);
    let hold = Hold::start(&core, "holder").await;
    let first = post_batch(&world, batch_body("first", 2));
    waiting(&core, 2).await;

    // Two more passwords do not fit the partner's environment's three; the
    // imported hash alongside them is not created either.
    let imported = bcrypt::hash("imported password", 4).unwrap();
    let mut body = batch_body("second", 2);
    body["accounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "primaryEmail": "imported@example.com", "passwordHash": imported }));
    let refused = tokio::time::timeout(EVENTUALLY, world.partner.post("/v1/partners/accounts/batch", &body))
        .await
        .expect("refused at once, not queued");
    refused.problem(503, "overloaded");
    let retry_after: u64 = refused.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!(retry_after >= 1);

    // Another tenant's login still gets into the queue.
    let login = beta_login(&beta);
    waiting(&core, 3).await;
    hold.release().await;
    login.await.unwrap().expect(200);
    let first = first.await.unwrap();
    assert_eq!(statuses(&first), [201, 201]);
    assert_eq!(world.partner.all_account_ids().await.len(), 2, "nothing of the refused batch");

    // Retried once there is room, it goes through.
    let again = world.partner.post("/v1/partners/accounts/batch", &body).await;
    assert_eq!(statuses(&again), [201, 201, 201]);
    // More passwords than the share holds can never fit: that is the request's fault.
    let r = world.partner.post("/v1/partners/accounts/batch", &batch_body("huge", 4)).await;
    r.problem(400, "validation_failed");
    assert_eq!(r.error_fields(), ["accounts"]);
    assert_eq!(world.partner.all_account_ids().await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queued_hashes_of_a_dropped_batch_request_never_run() {
    let world = world(|_| {}).await;
    let core = Arc::clone(&world.server.core);
    let hold = Hold::start(&core, "holder").await;
    let before = core.hasher().stats();
    let batch = post_batch(&world, batch_body("gone", 5));
    waiting(&core, 5).await;

    // The client gives up: its connection closes with the request unanswered.
    batch.abort();
    assert!(batch.await.unwrap_err().is_cancelled());
    eventually("the batch's hashes leave the queue", || async {
        let stats = core.hasher().stats();
        (stats.waiting == 0 && stats.cancelled == before.cancelled + 5).then_some(())
    })
    .await;
    hold.release().await;
    // The held job finishes on its worker after the release returns.
    eventually("the held job completes", || async {
        (core.hasher().stats().completed > before.completed).then_some(())
    })
    .await;
    assert_eq!(core.hasher().stats().completed, before.completed + 1, "only the hold ran");
    assert!(world.partner.all_account_ids().await.is_empty());

    let metrics = world.partner.api.with_token(METRICS_TOKEN).get("/metrics").await;
    metrics.expect(200);
    for name in [
        "onramp_hash_jobs_waiting",
        "onramp_hash_jobs_running",
        "onramp_hash_jobs_completed_total",
        "onramp_hash_jobs_cancelled_total",
        "onramp_hash_jobs_refused_total",
    ] {
        assert!(metrics.text.contains(&format!("\n{name} ")), "{name} in {}", metrics.text);
    }
}

/// A well-formed PHC string with these parameters (the salt and hash are
/// not made from any password: only the cost is judged at import).
fn phc(algorithm: &str, params: &str) -> String {
    format!("${algorithm}${params}$c2FsdHNhbHRzYWx0c2FsdA$QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY")
}

fn bcrypt_at(cost: &str) -> String {
    format!("$2b${cost}$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_hashes_costlier_than_the_ceiling_are_refused() {
    let world = PartnerWorld::new().await;
    // The ceiling of the default cost (m=19456 KiB, t=2): twice its memory
    // (38912 KiB) and its work (77824 KiB-passes); bcrypt up to cost 12.
    let real_at_ceiling = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(38_912, 2, 1, None).unwrap(),
    )
    .hash_password(b"an old imported password")
    .unwrap()
    .to_string();
    let cases = [
        (bcrypt_at("12"), None),
        (bcrypt_at("13"), Some("bcrypt cost 13 is over 12")),
        (real_at_ceiling, None),
        (phc("argon2id", "v=19$m=19456,t=4,p=1"), None),
        (phc("argon2id", "v=19$m=38920,t=1,p=1"), Some("argon2 memory of 38920 KiB")),
        (
            phc("argon2i", "v=19$m=19456,t=5,p=1"),
            Some("argon2 work (memory × t) of 97280 KiB"),
        ),
        (phc("scrypt", "ln=14,r=8,p=1"), None),
        (phc("scrypt", "ln=16,r=8,p=1"), Some("scrypt memory of 65536 KiB")),
        (phc("scrypt", "ln=15,r=8,p=1"), Some("scrypt work (memory × 4 × p) of 131072 KiB")),
    ];
    let items: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (hash, _))| json!({ "primaryEmail": format!("old{i}@example.com"), "passwordHash": hash }))
        .collect();
    let r = world
        .partner
        .post("/v1/partners/accounts/batch", &json!({ "accounts": items }))
        .await;
    r.expect(200);
    for ((hash, refused), result) in cases.iter().zip(r.json["results"].as_array().unwrap()) {
        match refused {
            None => assert_eq!(result["status"], 201, "{hash}: {result}"),
            Some(why) => {
                assert_eq!(result["status"], 400, "{hash}: {result}");
                assert_eq!(result["error"]["code"], "password_hash_too_costly", "{result}");
                assert_eq!(result["error"]["field"], "passwordHash");
                let message = result["error"]["message"].as_str().unwrap();
                assert!(message.contains(why), "{message}");
            }
        }
    }
    // The real hash at the ceiling logs in (and is upgraded to the server's own cost).
    let login = world
        .service
        .post(
            "/v1/client/login",
            &json!({ "email": "old2@example.com", "password": "an old imported password" }),
        )
        .await;
    login.expect(200);
}
