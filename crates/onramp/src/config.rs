//! Settings, declared once: as the flags of the command line (`GlobalArgs`
//! for every command, `ServeArgs` for the server), each with its `ONRAMP_*`
//! variable and its default. Everything else comes from that declaration:
//! the TOML file's keys (the flags' ids, in snake_case), the `_FILE` variant
//! of every secret (a setting whose variable's value `--help` hides), the
//! variables that do not earn a warning, and the README's table.
//!
//! Precedence, highest first: flags; the environment (`ONRAMP_X`, or
//! `ONRAMP_X_FILE` for a secret: both at once is an error); the TOML file;
//! defaults. Clap applies flags, variables and defaults itself; the file and
//! the `_FILE` variants are handed to it as defaults, so they rank below
//! flags and variables without a second copy of the precedence rules.

use std::convert::Infallible;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use secrecy::SecretString;

use crate::cli::Cli;
use crate::cli::context::{CliError, CliResult};

/// What a secret's variable name gets to name a file holding the secret.
const FILE_SUFFIX: &str = "_FILE";
/// Variables of the test suite, never read by the server.
const TEST_PREFIX: &str = "ONRAMP_TEST_";

/// One setting, as declared on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The flag's id, which is also the TOML key.
    pub key: String,
    /// The long flag, without `--`.
    pub flag: String,
    /// The environment variable.
    pub env: String,
    /// Hidden in `--help` and `Debug`, and also read from `<env>_FILE`.
    pub secret: bool,
    /// The default, in Markdown: `` `15m` `` for a value, plain text (`none`) otherwise.
    pub default: String,
    /// What the setting does: its help without the default.
    pub help: String,
    /// The subcommand that reads it; `None` for every command.
    pub command: Option<String>,
}

impl Setting {
    /// A setting is an argument with an environment variable.
    fn from_arg(arg: &Arg, command: Option<&str>) -> Option<Self> {
        let env = arg.get_env()?.to_str()?.to_owned();
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        // Defaults that are not a value (`none`, `off`) are written in the help.
        let (help, written) = match help.split_once(" [default: ") {
            Some((help, default)) => (help.to_owned(), default.strip_suffix(']').map(str::to_owned)),
            None => (help, None),
        };
        let values: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| format!("`{}`", v.to_string_lossy()))
            .collect();
        let takes_value = !matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        let default = match written {
            Some(text) => text,
            None if takes_value => values.join(", "),
            None => String::new(),
        };
        Some(Self {
            key: arg.get_id().to_string(),
            flag: arg.get_long()?.to_owned(),
            env,
            secret: arg.is_hide_env_values_set(),
            default,
            help,
            command: command.map(str::to_owned),
        })
    }

    /// The variable naming a file that holds the secret.
    pub fn file_env(&self) -> Option<String> {
        self.secret.then(|| format!("{}{FILE_SUFFIX}", self.env))
    }
}

/// Every setting, in the order of `--help`: those of every command first.
pub fn settings() -> Vec<Setting> {
    let cli = Cli::command();
    let mut all: Vec<Setting> = cli.get_arguments().filter_map(|a| Setting::from_arg(a, None)).collect();
    for sub in cli.get_subcommands() {
        all.extend(sub.get_arguments().filter_map(|a| Setting::from_arg(a, Some(sub.get_name()))));
    }
    all
}

/// The command line, with each secret's help naming its `_FILE` variable.
pub fn command() -> Command {
    Cli::command().mut_args(mention_file).mut_subcommands(|c| c.mut_args(mention_file))
}

fn mention_file(arg: Arg) -> Arg {
    let Some(env) = arg.get_env().and_then(|e| e.to_str()).filter(|_| arg.is_hide_env_values_set()) else {
        return arg;
    };
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    let help = format!("{help} [or {env}{FILE_SUFFIX}: a file holding it]");
    arg.help(help)
}

/// A value of the lower layers (file or `_FILE`) and where it came from.
struct Lower {
    setting: Setting,
    value: String,
    origin: String,
}

/// Adds what clap does not read itself (the TOML file and the `_FILE`
/// variables) to a first parse of `args`, and parses them again.
///
/// # Errors
/// A `config` error naming the file, key or variable that is wrong.
pub fn resolve(first: &ArgMatches, args: Vec<OsString>) -> CliResult<Cli> {
    let mut leaf = first;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let command = first.subcommand_name();
    let all = settings();
    let active = |s: &&Setting| s.command.is_none() || s.command.as_deref() == command;
    let mut lower: Vec<Lower> = Vec::new();
    if let Some(path) = first.get_one::<PathBuf>("config") {
        for (key, value) in read_file(path)? {
            let origin = format!("config file {}", path.display());
            let Some(setting) = all.iter().find(|s| s.key == key && key != "config") else {
                return Err(config_error(format!("{origin}: unknown setting `{key}`")));
            };
            let value = scalar(&value).ok_or_else(|| config_error(format!("{origin}: `{key}` must be a string, number or boolean")))?;
            if active(&setting) {
                lower.push(Lower {
                    setting: setting.clone(),
                    value,
                    origin,
                });
            }
        }
    }
    for setting in all.iter().filter(active) {
        let Some(file_env) = setting.file_env() else { continue };
        let Some(path) = std::env::var_os(&file_env) else { continue };
        if std::env::var_os(&setting.env).is_some() {
            return Err(config_error(format!("both {} and {file_env} are set: set one", setting.env)));
        }
        // A flag wins; the file is then not needed and not read.
        if leaf.value_source(&setting.key) == Some(ValueSource::CommandLine) {
            continue;
        }
        let path = Path::new(&path);
        let value = std::fs::read_to_string(path)
            .map_err(|e| config_error(format!("{file_env}: cannot read {}: {e}", path.display())))?
            .trim()
            .to_owned();
        lower.retain(|l| l.setting.key != setting.key);
        lower.push(Lower {
            setting: setting.clone(),
            value,
            origin: file_env,
        });
    }
    if lower.is_empty() {
        return Cli::from_arg_matches(first).map_err(|e| clap_error(&e));
    }
    let mut cmd = command_with(self::command(), &lower)?;
    let matches = cmd.try_get_matches_from_mut(args).map_err(|e| clap_error(&e))?;
    Cli::from_arg_matches(&matches).map_err(|e| clap_error(&e))
}

/// `cmd` with the lower layers as defaults, each checked by its own parser
/// first so that an error names the file or variable it came from.
fn command_with(mut cmd: Command, lower: &[Lower]) -> CliResult<Command> {
    for l in lower {
        let find = |c: &Command| c.get_arguments().find(|a| a.get_id() == l.setting.key.as_str()).cloned();
        let arg = match &l.setting.command {
            None => find(&cmd),
            Some(sub) => cmd.find_subcommand(sub).and_then(find),
        }
        .expect("settings come from this command");
        let probe = Command::new("onramp")
            .no_binary_name(true)
            .arg(arg.env(None::<&str>).default_value(l.value.clone()));
        if let Err(e) = probe.try_get_matches_from(Vec::<OsString>::new()) {
            // A secret's value never goes into a message (clap's own messages quote it).
            if l.setting.secret {
                return Err(config_error(format!("{}: invalid {}", l.origin, l.setting.key)));
            }
            let why = std::error::Error::source(&e).map_or_else(|| clap_error(&e).message, ToString::to_string);
            return Err(config_error(format!(
                "{}: invalid {} `{}`: {why}",
                l.origin, l.setting.key, l.value
            )));
        }
        let value = l.value.clone();
        let set = move |a: Arg| a.default_value(value);
        cmd = match &l.setting.command {
            None => cmd.mut_arg(&l.setting.key, set),
            Some(sub) => cmd.mut_subcommand(sub, |c| c.mut_arg(&l.setting.key, set)),
        };
    }
    Ok(cmd)
}

fn read_file(path: &Path) -> CliResult<toml::Table> {
    let text = std::fs::read_to_string(path).map_err(|e| config_error(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| config_error(format!("invalid config file {}: {e}", path.display())))
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn config_error(message: String) -> CliError {
    CliError::new("config", message)
}

fn clap_error(e: &clap::Error) -> CliError {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    config_error(first.strip_prefix("error: ").unwrap_or(first).to_owned())
}

/// Parses a duration: `250ms`, `90s`, `15m`, `1h30m`, `30d` (humantime), or
/// a bare number of seconds (`90`, `0`).
///
/// # Errors
/// A message describing the accepted forms.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| format!("`{raw}` is too many seconds"));
    }
    humantime::parse_duration(raw).map_err(|e| format!("`{raw}` is not a duration like 250ms, 90s, 15m, 2h or 30d: {e}"))
}

/// Clap's parser of secrets: any string, kept out of `Debug`.
///
/// # Errors
/// Never.
pub fn parse_secret(raw: &str) -> Result<SecretString, Infallible> {
    Ok(SecretString::from(raw))
}

/// The `ONRAMP_*` variables that are read: each setting's, and `_FILE` variants.
pub fn known_env() -> Vec<String> {
    settings().into_iter().flat_map(|s| [s.file_env(), Some(s.env)]).flatten().collect()
}

/// Warns about `ONRAMP_*` variables nobody reads (likely typos).
pub fn warn_unknown_env() {
    let known = known_env();
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("ONRAMP_") && !name.starts_with(TEST_PREFIX) && !known.iter().any(|k| k == name) {
            tracing::warn!(variable = %name, "unknown ONRAMP_ environment variable is ignored");
        }
    }
}

/// The README's table of settings, generated from the declaration.
pub fn settings_table() -> String {
    let mut out = String::from("| flag | variable | default | |\n|---|---|---|---|\n");
    for s in settings() {
        let env = match s.file_env() {
            Some(file) => format!("`{}` or `{file}`", s.env),
            None => format!("`{}`", s.env),
        };
        // `<domain>` would be an HTML tag to Markdown.
        let cell = |text: &str| text.replace('|', "\\|").replace('<', "\\<");
        out.push_str(&format!("| `--{}` | {env} | {} | {} |\n", s.flag, cell(&s.default), cell(&s.help)));
    }
    out
}
