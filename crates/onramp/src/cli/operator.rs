//! `onramp operator …`: the people who sign in to the console.

use clap::{Subcommand, ValueEnum};
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::infra::secret::Secret;
use onramp_domain::operators::{Operator, OperatorRole};
use serde_json::{Value, json};

use super::context::{CliResult, Ctx, read_password_stdin};
use super::output::{emit, table};

/// What an operator may do in the console.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    /// Changes anything
    Admin,
    /// Reads everything; ends client sessions and resends webhooks
    Support,
}

impl From<Role> for OperatorRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => OperatorRole::Admin,
            Role::Support => OperatorRole::Support,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create an operator of the console; a password is generated and printed once unless --password-stdin (the authenticator app is enrolled at the first sign-in)
    Create {
        email: String,
        /// admin changes anything; support reads everything, ends client sessions and resends webhooks
        #[arg(long, value_enum, default_value = "admin")]
        role: Role,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the operators
    List,
    /// Disable an operator: their console sessions end at once and they can no longer sign in
    Disable { email: String },
    /// Set a new password (generated and printed once unless --password-stdin); ends the operator's console sessions
    ResetPassword {
        email: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
}

fn describe(operator: &Operator, password: Option<&Secret>) -> Value {
    let mut v = json!({
        "id": operator.id, "email": operator.email, "role": operator.role.as_str(),
        "status": if operator.disabled_at.is_some() { "disabled" } else { "active" },
        "authenticator": if operator.totp_secret.is_some() { "enrolled" } else { "not enrolled" },
        "created_at": rfc3339(operator.created_at),
    });
    if let Some(pw) = password {
        v["password"] = json!(pw.expose());
    }
    v
}

fn human(v: &Value) -> String {
    let mut out = format!(
        "operator {} ({}): {}, {}, authenticator {}",
        v["email"].as_str().unwrap_or_default(),
        v["id"].as_str().unwrap_or_default(),
        v["role"].as_str().unwrap_or_default(),
        v["status"].as_str().unwrap_or_default(),
        v["authenticator"].as_str().unwrap_or_default(),
    );
    if let Some(pw) = v["password"].as_str() {
        out.push_str(&format!("\npassword: {pw}\n(shown once: store it now)"));
    }
    out
}

fn stdin_password(wanted: bool) -> CliResult<Option<Secret>> {
    if wanted { read_password_stdin().map(Some) } else { Ok(None) }
}

pub async fn run(ctx: &Ctx, cmd: OperatorCommand) -> CliResult {
    let operators = ctx.core.operators();
    let actor = Actor::operator();
    let doc = match cmd {
        OperatorCommand::Create {
            email,
            role,
            password_stdin,
        } => {
            let given = stdin_password(password_stdin)?;
            let (operator, generated) = operators.create(&actor, &email, role.into(), given).await?;
            describe(&operator, generated.as_ref())
        }
        OperatorCommand::List => {
            let docs: Vec<Value> = operators.list().await?.iter().map(|o| describe(o, None)).collect();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    ["email", "id", "role", "status", "authenticator"]
                        .iter()
                        .map(|k| d[k].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["EMAIL", "ID", "ROLE", "STATUS", "AUTHENTICATOR"], &rows)
            });
            return Ok(());
        }
        OperatorCommand::Disable { email } => describe(&operators.disable(&actor, &email).await?, None),
        OperatorCommand::ResetPassword { email, password_stdin } => {
            let given = stdin_password(password_stdin)?;
            let (operator, generated) = operators.reset_password(&actor, &email, given).await?;
            describe(&operator, generated.as_ref())
        }
    };
    emit(ctx.json, &doc, || human(&doc));
    Ok(())
}
