//! The platforms' settings: one OAuth app per platform (client id and secret, and the consent,
//! token and API URLs, which default to production), plus what only one platform has (LinkedIn's
//! API version, Facebook's Graph version) and the sandbox switch.
//!
//! The per-platform settings are generated from [`Platform::ALL`] and each platform's settings
//! prefix (`CRIER_X_CLIENT_ID`, `CRIER_LINKEDIN_CLIENT_ID`, `CRIER_FACEBOOK_CLIENT_ID`…), so a new
//! platform gets its settings without a line here. A platform's older prefix is still read as an
//! alias (`CRIER_META_CLIENT_ID` for `CRIER_FACEBOOK_CLIENT_ID`), hidden from `--help` and
//! documented in the README; setting both to different values is refused.

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use crier_clients::{FacebookSettings, LinkedInSettings, XSettings};
use crier_platform::{PerPlatform, Platform};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{ConfigError, bad, parse_switch};

/// One per-platform setting: its suffix after the platform's prefix, and its help.
struct AppSetting {
    /// `CLIENT_ID` in `CRIER_X_CLIENT_ID`; the flag is `--x-client-id`.
    suffix: &'static str,
    /// The help line, given the platform and its production default (if the setting has one).
    help: fn(Platform, Option<&str>) -> String,
    /// A credential: its value never shows in `--help`.
    secret: bool,
}

/// The settings every platform's app has, in [`AppArgs`]' order.
const APP_SETTINGS: [AppSetting; 5] = [
    AppSetting {
        suffix: "CLIENT_ID",
        help: |p, _| {
            format!(
                "{} OAuth client id (your app in its developer portal). Unset: the sandbox stands in, or {} cannot be connected.",
                p.label(),
                p.label()
            )
        },
        secret: false,
    },
    AppSetting { suffix: "CLIENT_SECRET", help: |p, _| format!("{} OAuth client secret.", p.label()), secret: true },
    AppSetting {
        suffix: "AUTHORIZE_URL",
        help: |p, d| format!("{} consent page [default: {}].", p.label(), d.unwrap_or("")),
        secret: false,
    },
    AppSetting { suffix: "TOKEN_URL", help: |p, d| format!("{} token endpoint [default: {}].", p.label(), d.unwrap_or("")), secret: false },
    AppSetting { suffix: "API_URL", help: |p, d| format!("{} API base [default: {}].", p.label(), d.unwrap_or("")), secret: false },
];

/// The environment variable of a per-platform setting under `prefix`.
fn variable(prefix: &str, setting: &AppSetting) -> String {
    format!("{prefix}_{}", setting.suffix)
}

/// The flag of a per-platform setting: `CRIER_X_CLIENT_ID` → `--x-client-id`.
fn flag(variable: &str) -> String {
    variable.trim_start_matches("CRIER_").to_ascii_lowercase().replace('_', "-")
}

/// The production URLs of a platform's app ([`APP_SETTINGS`]' last three), for the help.
fn production_urls(platform: Platform) -> [String; 3] {
    let none = || SecretString::from(String::new());
    let urls = match platform {
        Platform::X => {
            let s = XSettings::production(String::new(), none());
            [s.authorize_url, s.token_url, s.api_url]
        }
        Platform::Linkedin => {
            let s = LinkedInSettings::production(String::new(), none());
            [s.authorize_url, s.token_url, s.api_url]
        }
        Platform::Facebook => {
            let s = FacebookSettings::production(String::new(), none());
            [s.authorize_url, s.token_url, s.api_url]
        }
    };
    urls.map(|u| u.to_string())
}

/// One platform's app settings as given.
#[derive(Clone, Debug, Default)]
pub struct AppArgs {
    /// `<PREFIX>_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `<PREFIX>_CLIENT_SECRET`.
    pub client_secret: Option<SecretString>,
    /// `<PREFIX>_AUTHORIZE_URL`.
    pub authorize_url: Option<String>,
    /// `<PREFIX>_TOKEN_URL`.
    pub token_url: Option<String>,
    /// `<PREFIX>_API_URL`.
    pub api_url: Option<String>,
}

/// The platforms' settings as given on the command line or in the environment.
#[derive(Clone, Debug, Default)]
pub struct PlatformArgs {
    /// Each platform's app.
    pub apps: PerPlatform<AppArgs>,
    /// `CRIER_LINKEDIN_VERSION`: the LinkedIn-Version header, YYYYMM.
    pub linkedin_version: Option<String>,
    /// `CRIER_FACEBOOK_GRAPH_VERSION` (alias `CRIER_META_GRAPH_VERSION`): the Graph API version.
    pub facebook_graph_version: Option<String>,
    /// `CRIER_SANDBOX`.
    pub sandbox: Option<String>,
    /// `CRIER_SANDBOX_CONTROL_TOKEN`.
    pub sandbox_control_token: Option<SecretString>,
}

/// The settings only one platform has: (variable, alias, help).
const LINKEDIN_VERSION: &str = "CRIER_LINKEDIN_VERSION";
const FACEBOOK_GRAPH_VERSION: (&str, &str) = ("CRIER_FACEBOOK_GRAPH_VERSION", "CRIER_META_GRAPH_VERSION");
const SANDBOX: &str = "CRIER_SANDBOX";
const SANDBOX_CONTROL_TOKEN: &str = "CRIER_SANDBOX_CONTROL_TOKEN";

fn setting_arg(variable: &str, help: String, secret: bool) -> Arg {
    Arg::new(variable.to_owned())
        .long(flag(variable))
        .env(variable.to_owned())
        .help(help)
        .hide_env_values(secret)
        .action(ArgAction::Set)
        .value_name(if secret { "SECRET" } else { "VALUE" })
}

/// A hidden alias of a setting (its older name).
fn alias_arg(alias: &str, secret: bool) -> Arg {
    setting_arg(alias, format!("Alias of the setting this prefix was renamed to ({alias})."), secret).hide(true)
}

/// The value of `variable`, or of its `alias` when only that is set. Both set to different
/// values: an error naming both.
fn value(matches: &ArgMatches, variable: &str, alias: Option<&str>) -> Result<Option<String>, clap::Error> {
    let canonical = matches.get_one::<String>(variable).cloned();
    let aliased = alias.and_then(|a| matches.get_one::<String>(a).cloned());
    match (canonical, aliased) {
        (Some(c), Some(a)) if c != a => Err(clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{variable} and {} are the same setting, set to different values; keep {variable} only\n", alias.unwrap_or("")),
        )),
        (Some(v), _) | (None, Some(v)) => Ok(Some(v)),
        (None, None) => Ok(None),
    }
}

impl Args for PlatformArgs {
    fn augment_args(mut cmd: Command) -> Command {
        for platform in Platform::ALL {
            let defaults = production_urls(platform);
            for (i, setting) in APP_SETTINGS.iter().enumerate() {
                let default = i.checked_sub(2).map(|u| defaults[u].as_str());
                cmd =
                    cmd.arg(setting_arg(&variable(platform.settings_prefix(), setting), (setting.help)(platform, default), setting.secret));
                if let Some(alias) = platform.settings_alias_prefix() {
                    cmd = cmd.arg(alias_arg(&variable(alias, setting), setting.secret));
                }
            }
        }
        cmd.arg(setting_arg(
            LINKEDIN_VERSION,
            "The LinkedIn-Version header, YYYYMM (LinkedIn retires versions after about a year).".into(),
            false,
        ))
        .arg(setting_arg(FACEBOOK_GRAPH_VERSION.0, "The Graph API version Facebook is called with, e.g. v26.0.".into(), false))
        .arg(alias_arg(FACEBOOK_GRAPH_VERSION.1, false))
        .arg(setting_arg(
            SANDBOX,
            "Serve fake X, LinkedIn and Facebook under /sandbox and connect to them, for trying Crier without API keys \
                 (every page then shows a \"Sandbox\" badge): 1 or 0. Default: on with the embedded database when no platform \
                 client id is set, off otherwise."
                .into(),
            false,
        ))
        .arg(setting_arg(
            SANDBOX_CONTROL_TOKEN,
            "The bearer token the sandbox's control API (/sandbox/control/...: the ledger of every team's posts, fault \
             injection, reset) requires inside `crier serve` (16 characters at least). Unset, the control API is not \
             reachable there."
                .into(),
            true,
        ))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for PlatformArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut apps = PerPlatform::<AppArgs>::default();
        for platform in Platform::ALL {
            let [client_id, client_secret, authorize_url, token_url, api_url] = {
                let mut values = Vec::with_capacity(APP_SETTINGS.len());
                for setting in &APP_SETTINGS {
                    let alias = platform.settings_alias_prefix().map(|a| variable(a, setting));
                    values.push(value(matches, &variable(platform.settings_prefix(), setting), alias.as_deref())?);
                }
                <[Option<String>; 5]>::try_from(values).expect("one value per app setting")
            };
            apps[platform] = AppArgs { client_id, client_secret: client_secret.map(SecretString::from), authorize_url, token_url, api_url };
        }
        Ok(PlatformArgs {
            apps,
            linkedin_version: value(matches, LINKEDIN_VERSION, None)?,
            facebook_graph_version: value(matches, FACEBOOK_GRAPH_VERSION.0, Some(FACEBOOK_GRAPH_VERSION.1))?,
            sandbox: value(matches, SANDBOX, None)?,
            sandbox_control_token: value(matches, SANDBOX_CONTROL_TOKEN, None)?.map(SecretString::from),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// One platform's OAuth app, parsed. `None` URLs mean "the production default".
#[derive(Clone, Debug)]
pub struct OAuthAppConfig {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
    /// Authorize page override.
    pub authorize_url: Option<Url>,
    /// Token endpoint override.
    pub token_url: Option<Url>,
    /// API base override.
    pub api_url: Option<Url>,
}

/// The platforms' settings, parsed.
#[derive(Clone, Debug, Default)]
pub struct PlatformConfig {
    /// Each platform's app, when configured.
    pub apps: PerPlatform<Option<OAuthAppConfig>>,
    /// LinkedIn-Version override (YYYYMM).
    pub linkedin_version: Option<String>,
    /// Graph version override (vNN.N).
    pub facebook_graph_version: Option<String>,
    /// CRIER_SANDBOX when given.
    pub sandbox: Option<bool>,
    /// The sandbox control API's token (`None`: the control API is unreachable in `crier serve`).
    pub sandbox_control_token: Option<SecretString>,
    /// CRIER_X_API_URL, also without an OAuth 2.0 app: OAuth 1.0a keys call X there.
    pub x_api_url: Option<Url>,
}

/// An http(s) URL setting, or `None` when unset or empty.
fn url_setting(raw: Option<&str>, variable: &str) -> Result<Option<Url>, ConfigError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => {
            let url = Url::parse(raw).map_err(|e| bad(variable, format!("`{raw}` is not a URL ({e})")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad(variable, format!("`{raw}` must be an http or https URL")));
            }
            Ok(Some(url))
        }
    }
}

impl PlatformConfig {
    /// Parses the platform settings; each problem names its variable.
    pub fn parse(args: &PlatformArgs) -> Result<Self, ConfigError> {
        let mut apps = PerPlatform::default();
        for (platform, app) in args.apps.iter() {
            apps[platform] = Self::app(platform, app)?;
        }
        let linkedin_version = match args.linkedin_version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v)
                if v.len() == 6
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && matches!(&v[4..], "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12") =>
            {
                Some(v.to_owned())
            }
            Some(v) => return Err(bad(LINKEDIN_VERSION, format!("`{v}` is not a YYYYMM version like 202601"))),
        };
        let facebook_graph_version = match args.facebook_graph_version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let ok = v.strip_prefix('v').and_then(|rest| rest.split_once('.')).is_some_and(|(major, minor)| {
                    !major.is_empty() && !minor.is_empty() && major.bytes().chain(minor.bytes()).all(|b| b.is_ascii_digit())
                });
                if !ok {
                    return Err(bad(FACEBOOK_GRAPH_VERSION.0, format!("`{v}` is not a Graph API version like v26.0")));
                }
                Some(v.to_owned())
            }
        };
        let sandbox = parse_switch(SANDBOX, args.sandbox.as_deref())?;
        let sandbox_control_token = match args.sandbox_control_token.as_ref().map(|t| t.expose_secret().trim().to_owned()) {
            None => None,
            Some(t) if t.is_empty() => None,
            Some(t) if t.chars().count() < 16 => {
                return Err(bad(
                    SANDBOX_CONTROL_TOKEN,
                    "is shorter than 16 characters; generate one with `head -c 24 /dev/urandom | base64`",
                ));
            }
            Some(t) => Some(SecretString::from(t)),
        };
        let x_api = &APP_SETTINGS[4];
        let x_api_url = url_setting(args.apps[Platform::X].api_url.as_deref(), &variable(Platform::X.settings_prefix(), x_api))?;
        Ok(Self { apps, linkedin_version, facebook_graph_version, sandbox, sandbox_control_token, x_api_url })
    }

    fn app(platform: Platform, app: &AppArgs) -> Result<Option<OAuthAppConfig>, ConfigError> {
        let name = |i: usize| variable(platform.settings_prefix(), &APP_SETTINGS[i]);
        let authorize_url = url_setting(app.authorize_url.as_deref(), &name(2))?;
        let token_url = url_setting(app.token_url.as_deref(), &name(3))?;
        let api_url = url_setting(app.api_url.as_deref(), &name(4))?;
        let Some(client_id) = app.client_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else {
            if app.client_secret.is_some() {
                return Err(bad(name(0), format!("is not set, but {} is; set both, or neither", name(1))));
            }
            return Ok(None);
        };
        let client_secret = app
            .client_secret
            .clone()
            .filter(|s| !s.expose_secret().trim().is_empty())
            .ok_or_else(|| bad(name(1), format!("is required with {}", name(0))))?;
        Ok(Some(OAuthAppConfig { client_id: client_id.to_owned(), client_secret, authorize_url, token_url, api_url }))
    }

    /// Whether any platform has a real app configured.
    pub fn any_real_app(&self) -> bool {
        self.apps.values().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: impl FnOnce(&mut PlatformArgs)) -> Result<PlatformConfig, ConfigError> {
        let mut args = PlatformArgs::default();
        f(&mut args);
        PlatformConfig::parse(&args)
    }

    fn from_env(vars: &[(&str, &str)]) -> Result<PlatformArgs, clap::Error> {
        // Flags rather than the environment (tests share one process environment): the same args.
        let mut argv = vec!["crier".to_owned()];
        for (name, value) in vars {
            argv.push(format!("--{}={value}", flag(name)));
        }
        let matches = PlatformArgs::augment_args(Command::new("crier")).try_get_matches_from(argv)?;
        PlatformArgs::from_arg_matches(&matches)
    }

    #[test]
    fn platform_settings_are_parsed_and_each_problem_names_its_variable() {
        let none = parse(|_| {}).unwrap();
        assert!(none.apps.values().all(Option::is_none) && none.sandbox.is_none());
        assert!(!none.any_real_app());

        let x = parse(|a| {
            a.apps[Platform::X] = AppArgs {
                client_id: Some(" abc ".into()),
                client_secret: Some(SecretString::from("s3cret".to_owned())),
                api_url: Some("http://127.0.0.1:9/x".into()),
                ..AppArgs::default()
            };
            a.sandbox = Some("0".into());
            a.linkedin_version = Some("202604".into());
            a.facebook_graph_version = Some("v25.0".into());
        })
        .unwrap();
        let app = x.apps[Platform::X].as_ref().unwrap();
        assert_eq!((app.client_id.as_str(), app.api_url.as_ref().map(Url::as_str)), ("abc", Some("http://127.0.0.1:9/x")));
        assert_eq!(
            (x.sandbox, x.linkedin_version.as_deref(), x.facebook_graph_version.as_deref()),
            (Some(false), Some("202604"), Some("v25.0"))
        );
        assert!(x.any_real_app());
        assert!(!format!("{x:?}").contains("s3cret"), "Debug hides the client secret");

        let variable = |f: fn(&mut PlatformArgs)| parse(f).unwrap_err().variable;
        assert_eq!(variable(|a| a.apps[Platform::X].client_id = Some("id".into())), "CRIER_X_CLIENT_SECRET");
        assert_eq!(
            variable(|a| a.apps[Platform::Facebook].client_secret = Some(SecretString::from("s".to_owned()))),
            "CRIER_FACEBOOK_CLIENT_ID"
        );
        assert_eq!(variable(|a| a.apps[Platform::Linkedin].token_url = Some("ftp://x".into())), "CRIER_LINKEDIN_TOKEN_URL");
        assert_eq!(variable(|a| a.linkedin_version = Some("2026-01".into())), "CRIER_LINKEDIN_VERSION");
        assert_eq!(variable(|a| a.linkedin_version = Some("202613".into())), "CRIER_LINKEDIN_VERSION");
        assert_eq!(variable(|a| a.facebook_graph_version = Some("26".into())), "CRIER_FACEBOOK_GRAPH_VERSION");
        assert_eq!(variable(|a| a.sandbox = Some("maybe".into())), "CRIER_SANDBOX");
    }

    #[test]
    fn every_platform_gets_its_settings_and_facebook_reads_its_old_meta_names() {
        let args = from_env(&[
            ("CRIER_X_CLIENT_ID", "x-id"),
            ("CRIER_LINKEDIN_API_URL", "http://127.0.0.1:9/li"),
            ("CRIER_META_CLIENT_ID", "fb-id"),
            ("CRIER_META_CLIENT_SECRET", "fb-secret"),
            ("CRIER_META_GRAPH_VERSION", "v24.0"),
        ])
        .unwrap();
        assert_eq!(args.apps[Platform::X].client_id.as_deref(), Some("x-id"));
        assert_eq!(args.apps[Platform::Linkedin].api_url.as_deref(), Some("http://127.0.0.1:9/li"));
        assert_eq!(args.apps[Platform::Facebook].client_id.as_deref(), Some("fb-id"), "the alias is read");
        assert_eq!(args.facebook_graph_version.as_deref(), Some("v24.0"));

        let same = from_env(&[("CRIER_FACEBOOK_CLIENT_ID", "fb"), ("CRIER_META_CLIENT_ID", "fb")]).unwrap();
        assert_eq!(same.apps[Platform::Facebook].client_id.as_deref(), Some("fb"), "both names with one value is fine");
        let conflict = from_env(&[("CRIER_FACEBOOK_CLIENT_ID", "new"), ("CRIER_META_CLIENT_ID", "old")]).unwrap_err().to_string();
        assert!(conflict.contains("CRIER_FACEBOOK_CLIENT_ID") && conflict.contains("CRIER_META_CLIENT_ID"), "{conflict}");
    }

    #[test]
    fn the_help_names_each_platforms_settings_and_hides_the_aliases() {
        let help = PlatformArgs::augment_args(Command::new("crier")).render_long_help().to_string();
        for platform in Platform::ALL {
            for setting in &APP_SETTINGS {
                let name = variable(platform.settings_prefix(), setting);
                assert!(help.contains(&name), "{name} in the help");
            }
        }
        assert!(help.contains("https://x.com/i/oauth2/authorize"), "the production defaults are named");
        assert!(!help.contains("CRIER_META_"), "aliases stay out of the help");
    }
}
