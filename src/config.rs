//! Typed configuration, read once from environment variables. Every variable is documented
//! in `.env.example` and the README; a bad value stops the start with a message naming it.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;

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
                reason: format!(
                    "{v:?} is not a socket address such as 127.0.0.1:8080 or [::1]:8080"
                ),
            })?,
        };
        let database_url = match get("DATABASE_URL") {
            None => None,
            Some(v) if v.starts_with("postgres://") || v.starts_with("postgresql://") => {
                Some(SecretString::from(v))
            }
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
        Ok(Self {
            addr,
            database_url,
            data_dir,
            environment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_serve_locally_with_the_embedded_cluster() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.is_none());
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.environment, Environment::Development);
    }

    #[test]
    fn reads_every_variable() {
        let c = config(&[
            ("TERN_ADDR", "0.0.0.0:9000"),
            ("DATABASE_URL", "postgres://u:p@db/tern"),
            ("TERN_DATA_DIR", "/var/lib/tern"),
            ("TERN_ENV", "production"),
        ])
        .unwrap();
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(
            c.database_url.unwrap().expose_secret(),
            "postgres://u:p@db/tern"
        );
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/tern"));
        assert_eq!(c.environment, Environment::Production);
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            config(&[("TERN_ADDR", "localhost")]).unwrap_err().var,
            "TERN_ADDR"
        );
        assert_eq!(
            config(&[("TERN_ENV", "staging")]).unwrap_err().var,
            "TERN_ENV"
        );
        assert_eq!(
            config(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var,
            "DATABASE_URL"
        );
    }

    #[test]
    fn the_database_url_never_reaches_debug_output() {
        let c = config(&[("DATABASE_URL", "postgres://u:hunter2@db/tern")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
