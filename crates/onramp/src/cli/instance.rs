//! `onramp instance …`

use clap::Subcommand;
use onramp_domain::app::Core;
use onramp_domain::audit::Actor;
use onramp_domain::clock::rfc3339;
use onramp_domain::tenancy::service::{EnvChanges, InstanceChanges, NewInstance};
use onramp_domain::tenancy::{EnvKind, Instance, PlatformId, parse_origin};
use serde_json::{Value, json};

use super::context::{CliError, CliResult, Ctx};
use super::output::{emit, table};

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Create an instance with its staging and production environments
    Create {
        /// 2 to 40 lowercase letters, digits or '-', starting with a letter
        platform_id: String,
        /// Display name
        #[arg(long)]
        name: String,
        /// Region code, e.g. za or eu (the `reg` claim)
        #[arg(long)]
        region: String,
        /// The platform's own web app, e.g. https://app.example.com
        #[arg(long)]
        app_url: String,
    },
    /// List instances
    List,
    /// Show one instance with its environments
    Show { platform_id: String },
    /// Change an instance's settings and rate limits
    Update {
        platform_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        app_url: Option<String>,
        /// Requests per minute per credential: `default=N` or `"METHOD /path/{param}=N"`; N=0 removes the override
        #[arg(long = "rate-limit", value_name = "ROUTE=N")]
        rate_limits: Vec<String>,
        /// Allow a browser origin: `staging=https://app.example.com`
        #[arg(long = "cors-origin", value_name = "ENV=ORIGIN")]
        cors_origins: Vec<String>,
        /// Remove an allowed browser origin: `staging=https://app.example.com`
        #[arg(long = "remove-cors-origin", value_name = "ENV=ORIGIN")]
        remove_cors_origins: Vec<String>,
        /// Partner sign-in link template [default: {app_url}/tokenauth.html?token={token}&redirect={redirect}]
        #[arg(long, value_name = "TEMPLATE")]
        link_template: Option<String>,
        /// Lifetime of partner sign-in links, e.g. 15m [default: 15m]
        #[arg(long, value_name = "DURATION")]
        login_link_ttl: Option<String>,
    },
    /// Switch features on or off (client-accounts, partners, user-integration, self-signup, scim)
    Features {
        platform_id: String,
        #[arg(long)]
        enable: Vec<String>,
        #[arg(long)]
        disable: Vec<String>,
    },
    /// List, add or remove extra hostnames of an environment
    Hosts {
        platform_id: String,
        /// staging or production
        environment: EnvKind,
        #[arg(long)]
        add: Vec<String>,
        #[arg(long)]
        remove: Vec<String>,
    },
}

fn parse_rate_limit(raw: &str) -> CliResult<(String, u32)> {
    let (route, n) = split_pair(raw, "--rate-limit")?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| CliError::new("validation_failed", format!("`{n}` is not a number of requests per minute")))?;
    Ok((route.trim().to_owned(), n))
}

/// The origins in `ENV=ORIGIN` arguments that belong to `kind`.
fn origins_for(list: &[String], kind: EnvKind) -> CliResult<Vec<String>> {
    let mut out = Vec::new();
    for raw in list {
        let (env, origin) = raw
            .split_once('=')
            .ok_or_else(|| CliError::new("validation_failed", format!("expected ENV=ORIGIN, got `{raw}`")))?;
        let env: EnvKind = env
            .parse()
            .map_err(|e: onramp_domain::FieldError| CliError::new("validation_failed", e.message))?;
        if env == kind {
            out.push(origin.to_owned());
        }
    }
    Ok(out)
}

fn split_pair<'a>(raw: &'a str, what: &str) -> CliResult<(&'a str, &'a str)> {
    raw.rsplit_once('=')
        .ok_or_else(|| CliError::new("validation_failed", format!("{what} must look like KEY=VALUE, got `{raw}`")))
}

async fn describe(core: &Core, instance: &Instance) -> CliResult<Value> {
    let mut envs = Vec::new();
    for kind in EnvKind::ALL {
        let env = core.tenancy().environment(&instance.platform_id, kind).await?;
        envs.push(json!({
            "id": env.id, "kind": kind, "host": core.tenancy().host_of(&instance.platform_id, kind),
            "hostnames": env.hostnames, "cors_origins": env.cors_origins,
        }));
    }
    Ok(json!({
        "platform_id": instance.platform_id, "name": instance.name, "region": instance.region, "app_url": instance.app_url,
        "features": instance.features, "rate_limits": instance.rate_limits,
        "created_at": rfc3339(instance.created_at), "updated_at": rfc3339(instance.updated_at), "environments": envs,
    }))
}

fn human(v: &Value) -> String {
    let mut out = format!(
        "{} ({})\n  region:      {}\n  app_url:     {}\n  features:    {}\n  rate limits: {}\n",
        v["platform_id"].as_str().unwrap_or_default(),
        v["name"].as_str().unwrap_or_default(),
        v["region"].as_str().unwrap_or_default(),
        v["app_url"].as_str().unwrap_or_default(),
        v["features"]
            .as_array()
            .map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
            .filter(|s| !s.is_empty())
            .unwrap_or("(none)".into()),
        v["rate_limits"],
    );
    for env in v["environments"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<10}   host {}  extra hosts {}  cors {}\n",
            env["kind"].as_str().unwrap_or_default(),
            env["host"].as_str().unwrap_or_default(),
            env["hostnames"],
            env["cors_origins"]
        ));
    }
    out.trim_end().to_owned()
}

pub async fn run(ctx: &Ctx, cmd: InstanceCommand) -> CliResult {
    let core = &ctx.core;
    let actor = Actor::operator();
    let instance = match cmd {
        InstanceCommand::Create {
            platform_id,
            name,
            region,
            app_url,
        } => {
            core.tenancy()
                .create_instance(
                    &actor,
                    NewInstance {
                        platform_id,
                        name,
                        region,
                        app_url,
                    },
                )
                .await?
        }
        InstanceCommand::List => {
            let instances = core.tenancy().instances().await?;
            let mut docs = Vec::new();
            for i in &instances {
                docs.push(describe(core, i).await?);
            }
            let rows: Vec<Vec<String>> = instances
                .iter()
                .map(|i| {
                    vec![
                        i.platform_id.to_string(),
                        i.name.clone(),
                        i.region.clone(),
                        i.features.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","),
                        i.app_url.clone(),
                    ]
                })
                .collect();
            emit(ctx.json, &json!({ "data": docs }), || {
                table(&["PLATFORM_ID", "NAME", "REGION", "FEATURES", "APP_URL"], &rows)
            });
            return Ok(());
        }
        InstanceCommand::Show { platform_id } => core.tenancy().instance(&PlatformId::lookup(&platform_id)?).await?,
        InstanceCommand::Update {
            platform_id,
            name,
            region,
            app_url,
            rate_limits,
            cors_origins,
            remove_cors_origins,
            link_template,
            login_link_ttl,
        } => {
            // Parse every argument before changing anything, so a bad one changes nothing.
            let login_link_ttl_secs = login_link_ttl
                .map(|d| crate::config::parse_duration(&d).map(|d| d.as_secs() as i64))
                .transpose()
                .map_err(|e| CliError::new("validation_failed", e))?;
            let limits = rate_limits.iter().map(|raw| parse_rate_limit(raw)).collect::<CliResult<Vec<_>>>()?;
            let mut env_changes = Vec::new();
            for kind in EnvKind::ALL {
                let add_origins = origins_for(&cors_origins, kind)?;
                let remove_origins = origins_for(&remove_cors_origins, kind)?;
                for origin in &add_origins {
                    parse_origin(origin).map_err(|e| CliError::new("validation_failed", e.message))?;
                }
                if !add_origins.is_empty() || !remove_origins.is_empty() {
                    env_changes.push((
                        kind,
                        EnvChanges {
                            add_origins,
                            remove_origins,
                            ..EnvChanges::default()
                        },
                    ));
                }
            }
            let platform_id = PlatformId::lookup(&platform_id)?;
            let instance = core
                .tenancy()
                .update_instance(
                    &actor,
                    &platform_id,
                    InstanceChanges {
                        name,
                        region,
                        app_url,
                        rate_limits: limits,
                        link_template,
                        login_link_ttl_secs,
                    },
                )
                .await?;
            for (kind, changes) in env_changes {
                core.tenancy().update_environment(&actor, &platform_id, kind, changes).await?;
            }
            instance
        }
        InstanceCommand::Features {
            platform_id,
            enable,
            disable,
        } => {
            core.tenancy()
                .set_features(&actor, &PlatformId::lookup(&platform_id)?, &enable, &disable)
                .await?
        }
        InstanceCommand::Hosts {
            platform_id,
            environment,
            add,
            remove,
        } => {
            let platform_id = PlatformId::lookup(&platform_id)?;
            let env = if add.is_empty() && remove.is_empty() {
                core.tenancy().environment(&platform_id, environment).await?
            } else {
                let changes = EnvChanges {
                    add_hosts: add,
                    remove_hosts: remove,
                    ..EnvChanges::default()
                };
                core.tenancy()
                    .update_environment(&actor, &platform_id, environment, changes)
                    .await?
            };
            let doc = json!({ "platform_id": platform_id, "environment": environment, "hostnames": env.hostnames });
            emit(ctx.json, &doc, || {
                let list = if env.hostnames.is_empty() {
                    "(none)".to_owned()
                } else {
                    env.hostnames.join("\n")
                };
                format!("extra hostnames of {platform_id}/{environment}:\n{list}")
            });
            return Ok(());
        }
    };
    let doc = describe(core, &instance).await?;
    emit(ctx.json, &doc, || human(&doc));
    Ok(())
}
