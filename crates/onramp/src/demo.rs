//! `serve --demo`: a ready-to-try instance, created once and idempotently.

use std::path::{Path, PathBuf};

use onramp_domain::accounts::service::{AccountChanges, Signup};
use onramp_domain::app::Core;
use onramp_domain::audit::Actor;
use onramp_domain::ids::AccountId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::infra::secret::generate_password;
use onramp_domain::operators::OperatorRole;
use onramp_domain::tenancy::service::NewInstance;
use onramp_domain::tenancy::{EnvKind, Feature, PlatformId, Tenant};
use onramp_web::DemoVendor;

use crate::cli::context::{CliError, CliResult};

pub const PLATFORM_ID: &str = "demo";
pub const SERVICE_USER: &str = "demo-service";

/// Where the demo credentials are kept between starts (mode 0600).
fn credentials_file(data_dir: Option<&Path>) -> PathBuf {
    data_dir.unwrap_or(Path::new("./onramp-data")).join("demo.env")
}

fn save(path: &Path, password: &Secret, person_password: &Secret, operator_password: &Secret) -> CliResult {
    let text = format!(
        "ONRAMP_DEMO_USERNAME={SERVICE_USER}\nONRAMP_DEMO_PASSWORD={}\nONRAMP_DEMO_PERSON_EMAIL={PERSON_EMAIL}\nONRAMP_DEMO_PERSON_PASSWORD={}\n\
         ONRAMP_DEMO_OPERATOR_EMAIL={OPERATOR_EMAIL}\nONRAMP_DEMO_OPERATOR_PASSWORD={}\n",
        password.expose(),
        person_password.expose(),
        operator_password.expose()
    );
    // Private from the first byte (not chmod after writing), and replaced whole.
    let temp = path.with_extension("env.tmp");
    let _ = std::fs::remove_file(&temp);
    let written = onramp_store::files::create_private(&temp)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
        .and_then(|()| std::fs::rename(&temp, path));
    written.map_err(|e| CliError::new("io", format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

const PERSON_EMAIL: &str = "demo.person@example.com";
/// The demo operator of the console.
pub const OPERATOR_EMAIL: &str = "demo.operator@example.com";

fn saved(path: &Path, name: &str) -> Option<Secret> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .map(|p| Secret::new(p.to_owned()))
}

/// Creates, once, the demo instance (client accounts, partners with their
/// portal, user integration and self sign-up on), its staging service user, a demo person and a demo shop
/// app whose origin is http://127.0.0.1:PORT; prints the credentials.
pub async fn ensure(core: &Core, data_dir: Option<&Path>, port: u16) -> CliResult<Option<DemoVendor>> {
    let actor = Actor::system("demo");
    let platform_id = PlatformId::parse(PLATFORM_ID).expect("valid id");
    if core.tenancy().instance(&platform_id).await.is_err() {
        let new = NewInstance {
            platform_id: PLATFORM_ID.into(),
            name: "Demo platform".into(),
            region: "eu".into(),
            app_url: "http://localhost:3000".into(),
        };
        core.tenancy().create_instance(&actor, new).await?;
    }
    let features = [
        Feature::ClientAccounts,
        Feature::Partners,
        Feature::UserIntegration,
        Feature::SelfSignup,
    ]
    .map(|f| f.as_str().to_owned());
    core.tenancy().set_features(&actor, &platform_id, &features, &[]).await?;
    let path = credentials_file(data_dir);
    let password = service_user_password(core, &actor, &platform_id, &path).await?;
    let tenant = core
        .tenancy()
        .resolve_host(&core.tenancy().host_of(&platform_id, EnvKind::Staging))
        .await
        .map_err(CliError::from)?;
    let (_, person_password) = demo_person(core, &tenant, &actor, &path).await?;
    // The shop belongs to its own account, so the demo person cannot reset
    // (and break) the key the running demo holds in memory.
    let shop_owner = shop_owner(core, &tenant, &actor).await?;
    let operator_password = demo_operator(core, &path).await?;
    save(&path, &password, &person_password, &operator_password)?;
    let origin = format!("http://127.0.0.1:{port}");
    let apps = core.integration().vendor_apps(&tenant, &shop_owner).await?;
    let app = match apps.into_iter().find(|a| a.origins.contains(&origin)) {
        Some(app) => app,
        None => {
            core.integration()
                .register_app(&tenant, &shop_owner, &actor, "Demo shop", std::slice::from_ref(&origin))
                .await?
        }
    };
    let (_, key) = core.integration().reset_vendor_key(&tenant, &shop_owner, &actor, &app.id).await?;
    eprintln!(
        "\nDemo instance `{PLATFORM_ID}` (staging) answers at http://localhost:{port} and http://api.staging.{PLATFORM_ID}.{}:{port}\n\
         Service user: {SERVICE_USER}\nPassword:     {}\n\
         Demo person:  {PERSON_EMAIL} / {}\n\
         Demo shop:    open http://127.0.0.1:{port}/demo/vendor and click \"Sign up with Demo platform\"\n\
         Partner portal: apply at http://localhost:{port}/partners/apply, then `onramp partner approve <id>` (ids: `onramp partner list`)\n\
         Demo operator of the console: {OPERATOR_EMAIL} / {} (an authenticator app is set up at the first sign-in)\n\
         (credentials also in {}; `source` it in a shell)\n",
        core.config().base_domain,
        password.expose(),
        person_password.expose(),
        operator_password.expose(),
        path.display()
    );
    Ok(Some(DemoVendor {
        app_id: app.id,
        key,
        platform_origin: format!("http://localhost:{port}"),
    }))
}

/// The demo operator's password: the saved one while the operator exists,
/// else the operator is created (again) with a new one.
async fn demo_operator(core: &Core, path: &Path) -> CliResult<Secret> {
    let operators = core.operators();
    if let (Some(saved), Ok(_)) = (
        saved(path, "ONRAMP_DEMO_OPERATOR_PASSWORD"),
        operators.by_email(OPERATOR_EMAIL).await,
    ) {
        return Ok(saved);
    }
    let actor = Actor::system("demo");
    let password = generate_password();
    match operators.by_email(OPERATOR_EMAIL).await {
        Ok(_) => operators.reset_password(&actor, OPERATOR_EMAIL, Some(password.clone())).await?,
        Err(_) => {
            operators
                .create(&actor, OPERATOR_EMAIL, OperatorRole::Admin, Some(password.clone()))
                .await?
        }
    };
    Ok(password)
}

/// The account that owns the demo shop app; nobody knows its password.
async fn shop_owner(core: &Core, tenant: &Tenant, actor: &Actor) -> CliResult<AccountId> {
    const OWNER: &str = "demo.shop.owner@example.com";
    if let Some(account) = core
        .accounts()
        .list(tenant, None, Some(OWNER), None, 1)
        .await?
        .items
        .into_iter()
        .next()
    {
        return Ok(account.id);
    }
    let signup = Signup {
        user_id: None,
        email: OWNER.into(),
        first_name: "Demo".into(),
        last_name: "Shop".into(),
        password: generate_password(),
    };
    Ok(core.accounts().signup(tenant, actor, signup).await?.user_id)
}

async fn service_user_password(core: &Core, actor: &Actor, platform_id: &PlatformId, path: &Path) -> CliResult<Secret> {
    let users = core.service_users().service_users(platform_id, EnvKind::Staging).await?;
    let exists = users.iter().any(|u| u.username == SERVICE_USER);
    let generated = match (exists, saved(path, "ONRAMP_DEMO_PASSWORD")) {
        (true, Some(saved)) => return Ok(saved),
        (true, None) => {
            core.service_users()
                .reset_service_user_password(actor, platform_id, EnvKind::Staging, SERVICE_USER, None)
                .await?
                .1
        }
        (false, _) => {
            core.service_users()
                .create_service_user(actor, platform_id, EnvKind::Staging, SERVICE_USER, &["service".into()], None)
                .await?
                .1
        }
    };
    generated.ok_or_else(|| CliError::new("error", "no generated password"))
}

/// The demo person's account id and password (generated once, kept in demo.env).
async fn demo_person(core: &Core, tenant: &Tenant, actor: &Actor, path: &Path) -> CliResult<(AccountId, Secret)> {
    let existing = core
        .accounts()
        .list(tenant, None, Some(PERSON_EMAIL), None, 1)
        .await?
        .items
        .into_iter()
        .next();
    let saved_password = saved(path, "ONRAMP_DEMO_PERSON_PASSWORD");
    match (existing, saved_password) {
        (Some(account), Some(pw)) => Ok((account.id, pw)),
        (Some(account), None) => {
            let pw = generate_password();
            let changes = AccountChanges {
                password: Some(pw.clone()),
                ..AccountChanges::default()
            };
            core.accounts().update_account(tenant, actor, &account.id, changes).await?;
            Ok((account.id, pw))
        }
        (None, _) => {
            let pw = generate_password();
            let signup = Signup {
                user_id: None,
                email: PERSON_EMAIL.into(),
                first_name: "Dana".into(),
                last_name: "Demo".into(),
                password: pw.clone(),
            };
            let opened = core.accounts().signup(tenant, actor, signup).await?;
            Ok((opened.user_id, pw))
        }
    }
}
