//! `onramp service-user …`

use clap::Subcommand;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::infra::secret::Secret;
use onramp_domain::service_users::ServiceUser;
use onramp_domain::tenancy::{EnvKind, PlatformId};
use serde_json::{Value, json};

use super::context::{CliResult, Ctx, read_password_stdin};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum ServiceUserCommand {
    /// Create a service user; a password is generated and printed once unless --password-stdin
    Create {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        username: String,
        /// Role in the token's `r` claim (repeatable) [default: service]
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the service users of an environment
    List { platform_id: String, environment: EnvKind },
    /// Disable a service user: logins fail at once, issued tokens within about a second
    Disable {
        platform_id: String,
        environment: EnvKind,
        username: String,
    },
    /// Set a new password (generated and printed once unless --password-stdin)
    ResetPassword {
        platform_id: String,
        environment: EnvKind,
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Manage the service user's OAuth client secrets (client_id svc_<id>, for POST /oauth/token)
    #[command(subcommand)]
    Secret(super::client_secret::SecretCommand),
}

fn describe(user: &ServiceUser, env: EnvKind, password: Option<&Secret>) -> Value {
    let mut v = json!({
        "id": user.id, "username": user.username, "environment": env, "roles": user.roles,
        "status": if user.disabled_at.is_some() { "disabled" } else { "active" },
        "created_at": rfc3339(user.created_at),
    });
    if let Some(pw) = password {
        v["password"] = json!(pw.expose());
    }
    v
}

fn human(v: &Value) -> String {
    let mut out = format!(
        "service user {} ({}) in {}: {}, roles {}",
        v["username"].as_str().unwrap_or_default(),
        v["id"].as_str().unwrap_or_default(),
        v["environment"].as_str().unwrap_or_default(),
        v["status"].as_str().unwrap_or_default(),
        v["roles"]
    );
    if let Some(pw) = v["password"].as_str() {
        out.push_str(&format!("\npassword: {pw}\n(shown once: store it now)"));
    }
    out
}

fn stdin_password(wanted: bool) -> CliResult<Option<Secret>> {
    if wanted { read_password_stdin().map(Some) } else { Ok(None) }
}

pub async fn run(ctx: &Ctx, cmd: ServiceUserCommand) -> CliResult {
    let core = &ctx.core;
    let actor = Actor::operator();
    let doc = match cmd {
        ServiceUserCommand::Secret(cmd) => return super::client_secret::run(ctx, cmd).await,
        ServiceUserCommand::Create {
            platform_id,
            environment,
            username,
            roles,
            password_stdin,
        } => {
            let given = stdin_password(password_stdin)?;
            let platform_id = PlatformId::lookup(&platform_id)?;
            let (user, generated) = core
                .service_users()
                .create_service_user(&actor, &platform_id, environment, &username, &roles, given)
                .await?;
            describe(&user, environment, generated.as_ref())
        }
        ServiceUserCommand::List { platform_id, environment } => {
            let users = core
                .service_users()
                .service_users(&PlatformId::lookup(&platform_id)?, environment)
                .await?;
            let docs: Vec<Value> = users.iter().map(|u| describe(u, environment, None)).collect();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    ["username", "id", "status"]
                        .iter()
                        .map(|k| d[k].as_str().unwrap_or_default().to_owned())
                        .chain([d["roles"].to_string()])
                        .collect()
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["USERNAME", "ID", "STATUS", "ROLES"], &rows)
            });
            return Ok(());
        }
        ServiceUserCommand::Disable {
            platform_id,
            environment,
            username,
        } => describe(
            &core
                .service_users()
                .disable_service_user(&actor, &PlatformId::lookup(&platform_id)?, environment, &username)
                .await?,
            environment,
            None,
        ),
        ServiceUserCommand::ResetPassword {
            platform_id,
            environment,
            username,
            password_stdin,
        } => {
            let given = stdin_password(password_stdin)?;
            let platform_id = PlatformId::lookup(&platform_id)?;
            let (user, generated) = core
                .service_users()
                .reset_service_user_password(&actor, &platform_id, environment, &username, given)
                .await?;
            describe(&user, environment, generated.as_ref())
        }
    };
    emit(ctx.json, &doc, || human(&doc));
    Ok(())
}
