//! Typed configuration, read once from environment variables. Every variable is documented
//! in `.env.example` and the README; a bad value stops the start with a message naming it.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;

mod mail;
pub use self::mail::{DEFAULT_SUPPORT_EMAIL, MailConfig};

/// `TERN_WORKER_CONCURRENCY` when unset: jobs one process runs at once.
/// Jobs wait on Telnyx far more than they use the CPU: bench/orders.sh met its targets with 32 to
/// 64 (with 8, one hung call and 300 ms per call put paid → ready p95 at 2.8 s for 16 buyers).
pub const DEFAULT_WORKER_CONCURRENCY: usize = 32;
/// The most jobs one process may run at once (each holds a database connection at times).
pub const MAX_WORKER_CONCURRENCY: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug)]
pub struct Config {
    /// `TERN_ADDR`: where the HTTP server listens.
    pub addr: SocketAddr,
    /// `DATABASE_URL`: an external PostgreSQL; `None` runs the embedded cluster.
    pub database_url: Option<SecretString>,
    /// `TERN_DATA_DIR`: the embedded cluster and other local state live here.
    pub data_dir: PathBuf,
    /// `TERN_ENV`.
    pub environment: Environment,
    /// `TERN_PUBLIC_URL`: how travellers and Stripe reach Tern (success, cancel and webhook
    /// URLs). `None`: `http://` + the address actually bound.
    pub public_url: Option<String>,
    /// Stripe's keys and API base; `None` runs the local Stripe emulator (not in production).
    pub stripe: Option<StripeConfig>,
    /// Telnyx's key and API base; `None` runs the local Telnyx emulator (not in production).
    pub telnyx: Option<TelnyxConfig>,
    /// `TELNYX_SIM_CARD_GROUP_ID`: the default group eSIMs are bought into (a plan's own wins).
    pub sim_card_group_id: Option<String>,
    /// `TERN_SECRET_KEYS`: base64 keys of 32 bytes, comma-separated, the one that encrypts
    /// first and older ones (still read, until `tern rotate-key` has re-encrypted) after. The
    /// single-key `TERN_SECRET_KEY` of earlier versions is read when `TERN_SECRET_KEYS` is unset.
    /// `None` in development: a key is generated once into the data directory.
    pub secret_key: Option<SecretString>,
    /// `TERN_WORKER_CONCURRENCY`: how many jobs this process runs at once.
    pub worker_concurrency: usize,
    /// `TERN_METRICS_ADDR`: where Prometheus metrics are served (`/metrics`); `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// `TERN_SHUTDOWN_DRAIN_SECONDS`: after SIGTERM, how long `/readyz` answers 503 before the
    /// server stops accepting, so a load balancer takes the instance out first (default 5).
    pub shutdown_drain: std::time::Duration,
    /// `SMTP_URL`, `MAIL_FROM`, `SUPPORT_EMAIL`.
    pub mail: MailConfig,
    /// `TERN_TRUSTED_PROXIES`: CIDR blocks of the proxies whose `Forwarded` and
    /// `X-Forwarded-For` headers name the client; none by default.
    pub trusted_proxies: crate::domain::client_addr::TrustedProxies,
    /// `TERN_API_WRITES_PER_MINUTE`: writes one client address may send to `/api/v1` a minute.
    pub api_writes_per_minute: u32,
}

#[derive(Debug)]
pub struct TelnyxConfig {
    /// `TELNYX_API_KEY`.
    pub api_key: SecretString,
    /// `TELNYX_API_BASE`, default `https://api.telnyx.com/v2`.
    pub api_base: String,
}

#[derive(Debug)]
pub struct StripeConfig {
    /// `STRIPE_SECRET_KEY`.
    pub secret_key: SecretString,
    /// `STRIPE_WEBHOOK_SECRET`: the `whsec_…` of Tern's webhook endpoint.
    pub webhook_secret: SecretString,
    /// `STRIPE_API_BASE`, default `https://api.stripe.com/`.
    pub api_base: String,
}

/// A configuration value that cannot be used, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        let addr = match get("TERN_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| ConfigError {
                var: "TERN_ADDR",
                reason: format!("{v:?} is not a socket address such as 127.0.0.1:8080 or [::1]:8080"),
            })?,
        };
        let database_url = match get("DATABASE_URL") {
            None => None,
            Some(v) if v.starts_with("postgres://") || v.starts_with("postgresql://") => Some(SecretString::from(v)),
            Some(_) => {
                return Err(ConfigError {
                    var: "DATABASE_URL",
                    reason: "must be a postgres:// or postgresql:// URL".into(),
                });
            }
        };
        let data_dir = PathBuf::from(get("TERN_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let environment = match get("TERN_ENV").as_deref().map(str::trim) {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError {
                    var: "TERN_ENV",
                    reason: format!("{other:?} is neither \"development\" nor \"production\""),
                });
            }
        };
        let public_url = match get("TERN_PUBLIC_URL") {
            None => None,
            Some(v) => Some(http_url("TERN_PUBLIC_URL", &v)?.trim_end_matches('/').to_string()),
        };
        let api_base = match get("STRIPE_API_BASE") {
            None => "https://api.stripe.com/".to_string(),
            Some(v) => http_url("STRIPE_API_BASE", &v)?,
        };
        let stripe = match (get("STRIPE_SECRET_KEY"), get("STRIPE_WEBHOOK_SECRET")) {
            (Some(key), Some(whsec)) => {
                if !(key.starts_with("sk_") || key.starts_with("rk_")) {
                    return Err(ConfigError { var: "STRIPE_SECRET_KEY", reason: "must start with sk_ or rk_".into() });
                }
                if !whsec.starts_with("whsec_") {
                    return Err(ConfigError { var: "STRIPE_WEBHOOK_SECRET", reason: "must start with whsec_".into() });
                }
                Some(StripeConfig { secret_key: key.into(), webhook_secret: whsec.into(), api_base })
            }
            (Some(_), None) => {
                return Err(ConfigError {
                    var: "STRIPE_WEBHOOK_SECRET",
                    reason: "is required with STRIPE_SECRET_KEY: webhooks cannot be verified without it".into(),
                });
            }
            (None, _) if environment == Environment::Production => {
                return Err(ConfigError {
                    var: "STRIPE_SECRET_KEY",
                    reason: "and STRIPE_WEBHOOK_SECRET are required in production (the Stripe emulator only runs in development)"
                        .into(),
                });
            }
            (None, _) => None,
        };
        let telnyx = match get("TELNYX_API_KEY") {
            Some(key) => Some(TelnyxConfig {
                api_key: key.into(),
                api_base: match get("TELNYX_API_BASE") {
                    None => "https://api.telnyx.com/v2".to_string(),
                    Some(v) => http_url("TELNYX_API_BASE", &v)?,
                },
            }),
            None if environment == Environment::Production => {
                return Err(ConfigError {
                    var: "TELNYX_API_KEY",
                    reason: "is required in production (the Telnyx emulator only runs in development)".into(),
                });
            }
            None => None,
        };
        let sim_card_group_id = match get("TELNYX_SIM_CARD_GROUP_ID") {
            None => None,
            Some(v) => Some(
                uuid::Uuid::parse_str(v.trim())
                    .map_err(|_| ConfigError { var: "TELNYX_SIM_CARD_GROUP_ID", reason: "must be a UUID".into() })?
                    .to_string(),
            ),
        };
        let keys = get("TERN_SECRET_KEYS").map(|v| ("TERN_SECRET_KEYS", v));
        let secret_key = match keys.or_else(|| get("TERN_SECRET_KEY").map(|v| ("TERN_SECRET_KEY", v))) {
            Some((var, v)) => {
                crate::crypto::Cipher::from_keys(&v).map_err(|e| ConfigError { var, reason: e.to_string() })?;
                Some(SecretString::from(v))
            }
            None if environment == Environment::Production => {
                return Err(ConfigError {
                    var: "TERN_SECRET_KEYS",
                    reason: "is required in production: base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
                        .into(),
                });
            }
            None => None,
        };
        let worker_concurrency = match get("TERN_WORKER_CONCURRENCY") {
            None => DEFAULT_WORKER_CONCURRENCY,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_WORKER_CONCURRENCY).contains(&n) => n,
                _ => {
                    return Err(ConfigError {
                        var: "TERN_WORKER_CONCURRENCY",
                        reason: format!("{v:?} is not a whole number from 1 to {MAX_WORKER_CONCURRENCY}"),
                    });
                }
            },
        };
        let metrics_addr = match get("TERN_METRICS_ADDR") {
            None => None,
            Some(v) => Some(v.trim().parse().map_err(|_| ConfigError {
                var: "TERN_METRICS_ADDR",
                reason: format!("{v:?} is not a socket address such as 127.0.0.1:9090"),
            })?),
        };
        let shutdown_drain = match get("TERN_SHUTDOWN_DRAIN_SECONDS") {
            None => std::time::Duration::from_secs(5),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n <= 300 => std::time::Duration::from_secs(n),
                _ => {
                    return Err(ConfigError {
                        var: "TERN_SHUTDOWN_DRAIN_SECONDS",
                        reason: format!("{v:?} is not a whole number of seconds from 0 to 300"),
                    });
                }
            },
        };
        let trusted_proxies =
            crate::domain::client_addr::TrustedProxies::parse(&get("TERN_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|reason| ConfigError { var: "TERN_TRUSTED_PROXIES", reason })?;
        let api_writes_per_minute = match get("TERN_API_WRITES_PER_MINUTE") {
            None => crate::services::rate_limit::DEFAULT_API_WRITES_PER_MINUTE,
            Some(v) => {
                v.trim().parse::<u32>().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or_else(|| ConfigError {
                    var: "TERN_API_WRITES_PER_MINUTE",
                    reason: format!("{v:?} is not a whole number from 1 to 1000000"),
                })?
            }
        };
        Ok(Self {
            addr,
            database_url,
            data_dir,
            environment,
            public_url,
            stripe,
            telnyx,
            sim_card_group_id,
            secret_key,
            worker_concurrency,
            metrics_addr,
            shutdown_drain,
            mail: MailConfig::read(get, environment)?,
            trusted_proxies,
            api_writes_per_minute,
        })
    }
}

fn http_url(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !v.contains(char::is_whitespace) => {
            Ok(v.to_string())
        }
        _ => Err(ConfigError { var, reason: format!("{v:?} is not an http:// or https:// URL") }),
    }
}

#[cfg(test)]
mod tests;
