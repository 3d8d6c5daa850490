//! Configuration, layered: built-in defaults → `yui.toml` (or `--config FILE`) →
//! `YUI_*` environment variables → command-line flags. An unknown key is an error
//! that names it.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The default configuration file, read when present.
pub const DEFAULT_CONFIG_FILE: &str = "yui.toml";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Everything `yui` can be configured with. See the README's table.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Version of this configuration format.
    pub version: u32,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub addr: String,
    /// Folder with one `<slug>/tenant.toml` per tenant.
    pub tenants_dir: PathBuf,
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax; `RUST_LOG` overrides it.
    pub log: String,
    /// Largest number of pooled database connections.
    pub db_max_connections: u32,
    /// Seconds to wait for in-flight requests at shutdown before giving up.
    pub shutdown_timeout_secs: u64,
    /// Seconds between a shutdown signal and no longer accepting connections, while
    /// `/readyz` answers 503 so load balancers stop sending first.
    pub shutdown_grace_secs: u64,
    /// The address people reach the platform at (links in mail start with it). An
    /// `https://` address also makes cookies `Secure` with the `__Host-` prefix.
    pub public_url: String,
    /// Mail: transport (file, smtp), sender and worker settings (`[mail]`).
    pub mail: yui_mail::MailConfig,
    /// Whether `serve` migrates at start. Turn off when the nodes connect as a role
    /// that may not change the schema and `yui migrate` runs as the owner instead.
    pub migrate_on_start: bool,
    /// Reverse proxies (addresses or networks such as `10.0.0.0/8`) whose
    /// `X-Forwarded-For` header names the client. Requests from anyone else are taken
    /// to come from their TCP peer, whatever the header says.
    pub trusted_proxies: Vec<String>,
    /// Newsletter mails of one tenant sent per minute at most, across all nodes;
    /// other mail never waits behind them.
    pub newsletter_per_minute: u32,
    /// The Ed25519 private key (32 bytes in base64) that signs certificates, when it
    /// should live in the configuration (e.g. `YUI_CERTIFICATE_SIGNING_KEY` from a
    /// secret store) rather than in the database. Unset: the database holds the key
    /// (`yui certificates rotate-key` rotates it).
    pub certificate_signing_key: Option<String>,
    /// `/metrics` for Prometheus (`[metrics]`): off unless enabled, and then only
    /// for scrapers presenting the token.
    pub metrics: MetricsConfig,
}

/// `[metrics]`: `enabled = true` with a `token` serves `/metrics` on the main
/// address to `Authorization: Bearer <token>`; everyone else gets 401.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// At least 16 characters; identical on every node a scraper reads.
    pub token: Option<String>,
}

/// The shortest metrics token accepted: guessing one must not be practical.
pub const METRICS_TOKEN_MIN_LEN: usize = 16;

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: 1,
            database_url: "sqlite://yui.db".to_owned(),
            addr: "127.0.0.1:8080".to_owned(),
            tenants_dir: PathBuf::from("tenants"),
            log_format: LogFormat::Pretty,
            log: "info,sqlx=warn".to_owned(),
            db_max_connections: 10,
            shutdown_timeout_secs: 30,
            shutdown_grace_secs: 5,
            migrate_on_start: true,
            public_url: "http://127.0.0.1:8080".to_owned(),
            mail: yui_mail::MailConfig::default(),
            trusted_proxies: Vec::new(),
            newsletter_per_minute: yui_domain::newsletter::DEFAULT_PER_MINUTE,
            certificate_signing_key: None,
            metrics: MetricsConfig::default(),
        }
    }
}

// The password in a database URL must never reach a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("version", &self.version)
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("tenants_dir", &self.tenants_dir)
            .field("log_format", &self.log_format)
            .field("log", &self.log)
            .field("db_max_connections", &self.db_max_connections)
            .field("shutdown_timeout_secs", &self.shutdown_timeout_secs)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("public_url", &self.public_url)
            .field("mail", &self.mail)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("newsletter_per_minute", &self.newsletter_per_minute)
            .field(
                "certificate_signing_key",
                &self.certificate_signing_key.as_ref().map(|_| "***"),
            )
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Values given on the command line; they win over every other layer.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the layers. `file` is `--config`: when given it must exist; otherwise
    /// `yui.toml` in the working directory is read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        // `YUI_MAIL__SMTP_HOST` sets `mail.smtp_host`.
        Self::load_from(file, overrides, Env::prefixed("YUI_").split("__"))
    }

    fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let path = match file {
            Some(p) if !p.exists() => return Err(ConfigError::MissingFile(p.to_owned())),
            Some(p) => p.to_owned(),
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        // YUI_TEST_* belongs to the test harness, not to the program.
        let env = env.filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_"));
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&path))
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| {
                ConfigError::Invalid(
                    e.into_iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        if config.version != 1 {
            return Err(ConfigError::Invalid(format!(
                "version: {} is not supported; use 1",
                config.version
            )));
        }
        if config.db_max_connections == 0 {
            return Err(ConfigError::Invalid(
                "db_max_connections: must be at least 1".to_owned(),
            ));
        }
        config.trusted_proxies()?;
        config.metrics_token()?;
        Ok(config)
    }

    /// The token `/metrics` asks for, when metrics are on. On without a token (or
    /// with a short one) is an error: metrics are never public by accident.
    pub fn metrics_token(&self) -> Result<Option<yui_web::MetricsToken>, ConfigError> {
        if !self.metrics.enabled {
            return Ok(None);
        }
        match self.metrics.token.as_deref().map(str::trim) {
            Some(t) if t.chars().count() >= METRICS_TOKEN_MIN_LEN => {
                Ok(Some(yui_web::MetricsToken::new(t)))
            }
            Some(_) => Err(ConfigError::Invalid(format!(
                "metrics.token: use at least {METRICS_TOKEN_MIN_LEN} characters"
            ))),
            None => Err(ConfigError::Invalid(
                "metrics.token: required when metrics.enabled is true (scrapers send it as a bearer token)".to_owned(),
            )),
        }
    }

    /// The trusted proxies, parsed; a bad entry is an error that names it.
    pub fn trusted_proxies(&self) -> Result<Vec<yui_web::extract::ProxyNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse()
                    .map_err(|e| ConfigError::Invalid(format!("trusted_proxies: {e}")))
            })
            .collect()
    }

    /// The configured certificate key; a value that is not one is an error at start,
    /// never a silent fallback to another key.
    pub fn certificate_key(&self) -> Result<Option<yui_domain::certificate::KeyPair>, ConfigError> {
        self.certificate_signing_key
            .as_deref()
            .map(|raw| {
                yui_domain::certificate::KeyPair::from_base64(raw).ok_or_else(|| {
                    ConfigError::Invalid(
                        "certificate_signing_key: not 32 bytes in base64".to_owned(),
                    )
                })
            })
            .transpose()
    }
}

#[cfg(test)]
// figment's Jail closures return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "yui.toml",
                "addr = \"127.0.0.1:9000\"\nlog_format = \"json\"\n",
            )?;
            jail.set_env("YUI_ADDR", "127.0.0.1:9001");
            jail.set_env("YUI_TEST_POSTGRES_URL", "postgres://ignored");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.addr, "127.0.0.1:9001");
            assert_eq!(c.log_format, LogFormat::Json);
            assert_eq!(c.database_url, "sqlite://yui.db");
            let o = Overrides {
                addr: Some("127.0.0.1:9002".into()),
                ..Default::default()
            };
            assert_eq!(
                Config::load(None, &o).map_err(|e| e.to_string())?.addr,
                "127.0.0.1:9002"
            );
            Ok(())
        });
    }

    #[test]
    fn a_certificate_key_comes_from_the_environment_and_never_reaches_a_log() {
        figment::Jail::expect_with(|jail| {
            let secret = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
            jail.set_env("YUI_CERTIFICATE_SIGNING_KEY", secret);
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let key = c.certificate_key().map_err(|e| e.to_string())?;
            assert_eq!(key.map(|k| k.private_base64()).as_deref(), Some(secret));
            assert!(!format!("{c:?}").contains(secret));
            jail.set_env("YUI_CERTIFICATE_SIGNING_KEY", "too short");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let err = c.certificate_key().unwrap_err().to_string();
            assert!(err.contains("certificate_signing_key"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn metrics_are_off_by_default_and_need_a_token() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert!(c.metrics_token().map_err(|e| e.to_string())?.is_none());
            jail.set_env("YUI_METRICS__ENABLED", "true");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("metrics.token"), "{err}");
            jail.set_env("YUI_METRICS__TOKEN", "short");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("at least 16"), "{err}");
            let secret = "scrape-me-0123456789";
            jail.set_env("YUI_METRICS__TOKEN", secret);
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert!(c.metrics_token().map_err(|e| e.to_string())?.is_some());
            assert!(!format!("{c:?}").contains(secret));
            jail.create_file("yui.toml", "[metrics]\nenabled = true\ntokn = \"x\"\n")?;
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("tokn"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("yui.toml", "adr = \"x\"\n")?;
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("adr"), "{err}");
            jail.create_file("yui.toml", "")?;
            jail.set_env("YUI_DATABSE_URL", "sqlite://x.db");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("databse_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_come_from_the_file_or_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("yui.toml", "trusted_proxies = [\"127.0.0.1\"]\n")?;
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.trusted_proxies, ["127.0.0.1"]);
            jail.set_env("YUI_TRUSTED_PROXIES", "[10.0.0.0/8, \"fd00::/8\"]");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.trusted_proxies, ["10.0.0.0/8", "fd00::/8"]);
            assert_eq!(c.trusted_proxies().map_err(|e| e.to_string())?.len(), 2);
            jail.set_env("YUI_TRUSTED_PROXIES", "[proxy.example]");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("trusted_proxies") && err.contains("proxy.example"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn explicit_file_must_exist() {
        let err = Config::load(
            Some(Path::new("/nonexistent/yui.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://yui:secret@db:5432/yui"),
            "postgres://yui:***@db:5432/yui"
        );
        assert_eq!(redact_url("sqlite://yui.db"), "sqlite://yui.db");
        let c = Config {
            database_url: "postgres://a:pw@h/d".into(),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("pw"));
    }
}
