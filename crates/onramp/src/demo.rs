//! `serve --demo`: a ready-to-try instance, created once and idempotently.

use std::path::{Path, PathBuf};

use onramp_domain::audit::Actor;
use onramp_domain::secret::Secret;
use onramp_domain::services::Core;
use onramp_domain::services::instances::NewInstance;
use onramp_domain::tenancy::{EnvKind, Feature};

use crate::cli::context::{CliError, CliResult};

pub const PLATFORM_ID: &str = "demo";
pub const SERVICE_USER: &str = "demo-service";

/// Where the demo credentials are kept between starts (mode 0600).
fn credentials_file(data_dir: Option<&Path>) -> PathBuf {
    data_dir.unwrap_or(Path::new("./onramp-data")).join("demo.env")
}

fn read_saved_password(path: &Path) -> Option<Secret> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("ONRAMP_DEMO_PASSWORD="))
        .map(|p| Secret::new(p.to_owned()))
}

fn save(path: &Path, password: &Secret) -> CliResult {
    let text = format!("ONRAMP_DEMO_USERNAME={SERVICE_USER}\nONRAMP_DEMO_PASSWORD={}\n", password.expose());
    std::fs::write(path, text).map_err(|e| CliError::new("io", format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

/// Creates the demo instance (feature `client-accounts` on) and its staging
/// service user if missing, and prints the credentials.
pub async fn ensure(core: &Core, data_dir: Option<&Path>) -> CliResult {
    let actor = Actor {
        id: "system:demo".into(),
        request_id: None,
    };
    let instance = match core.instance(PLATFORM_ID).await {
        Ok(i) => i,
        Err(_) => {
            let new = NewInstance {
                platform_id: PLATFORM_ID.into(),
                name: "Demo platform".into(),
                region: "eu".into(),
                app_url: "http://localhost:3000".into(),
            };
            core.create_instance(&actor, new).await?
        }
    };
    if !instance.has(Feature::ClientAccounts) {
        core.set_features(&actor, PLATFORM_ID, &[Feature::ClientAccounts.as_str().to_owned()], &[])
            .await?;
    }
    let path = credentials_file(data_dir);
    let users = core.service_users(PLATFORM_ID, EnvKind::Staging).await?;
    let exists = users.iter().any(|u| u.username == SERVICE_USER);
    let password = match (exists, read_saved_password(&path)) {
        (true, Some(saved)) => saved,
        (true, None) => {
            let (_, pw) = core
                .reset_service_user_password(&actor, PLATFORM_ID, EnvKind::Staging, SERVICE_USER, None)
                .await?;
            pw.ok_or_else(|| CliError::new("error", "no generated password"))?
        }
        (false, _) => {
            let (_, pw) = core
                .create_service_user(&actor, PLATFORM_ID, EnvKind::Staging, SERVICE_USER, &["service".into()], None)
                .await?;
            pw.ok_or_else(|| CliError::new("error", "no generated password"))?
        }
    };
    save(&path, &password)?;
    eprintln!(
        "\nDemo instance `{PLATFORM_ID}` (staging) answers at http://localhost:<port> and http://api.staging.{PLATFORM_ID}.{}:<port>\n\
         Service user: {SERVICE_USER}\nPassword:     {}\n(also in {}; `source` it in a shell)\n",
        core.config.base_domain,
        password.expose(),
        path.display()
    );
    Ok(())
}
