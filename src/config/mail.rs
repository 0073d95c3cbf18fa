//! Email settings: `SMTP_URL` (a secret, required in production; without it development runs
//! the in-process mailbox), `MAIL_FROM` and `SUPPORT_EMAIL`.

use secrecy::SecretString;

use super::{ConfigError, Environment};

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `SMTP_URL`: `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required` or
    /// `smtp://host:25`. `None` (development only): the in-process development mailbox.
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: a name and an address, `Tern <hello@tern.example>`.
    pub from: String,
    /// `SUPPORT_EMAIL`: the contact shown in emails and on pages.
    pub support_email: String,
}

pub const DEFAULT_MAIL_FROM: &str = "Tern <hello@tern.localhost>";
pub const DEFAULT_SUPPORT_EMAIL: &str = "support@tern.localhost";

impl MailConfig {
    pub(super) fn read(get: impl Fn(&str) -> Option<String>, environment: Environment) -> Result<Self, ConfigError> {
        let smtp_url = match get("SMTP_URL") {
            Some(v) if v.starts_with("smtp://") || v.starts_with("smtps://") => {
                Some(SecretString::from(v.trim().to_string()))
            }
            Some(_) => {
                return Err(ConfigError {
                    var: "SMTP_URL",
                    reason: "must be an smtp:// or smtps:// URL, e.g. smtps://user:pass@smtp.example.com:465".into(),
                });
            }
            None if environment == Environment::Production => {
                return Err(ConfigError {
                    var: "SMTP_URL",
                    reason: "is required in production (the development mailbox only runs in development)".into(),
                });
            }
            None => None,
        };
        let from = get("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into()).trim().to_string();
        if !plausible_mailbox(&from) {
            return Err(ConfigError {
                var: "MAIL_FROM",
                reason: format!("{from:?} is not like \"Tern <hello@tern.example>\""),
            });
        }
        let support_email = get("SUPPORT_EMAIL").unwrap_or_else(|| DEFAULT_SUPPORT_EMAIL.into()).trim().to_string();
        if support_email.contains(char::is_whitespace) || !support_email.contains('@') {
            return Err(ConfigError {
                var: "SUPPORT_EMAIL",
                reason: format!("{support_email:?} is not an email address"),
            });
        }
        Ok(MailConfig { smtp_url, from, support_email })
    }
}

/// `name <address>` or a bare address, on one line.
fn plausible_mailbox(value: &str) -> bool {
    let address = match (value.rfind('<'), value.ends_with('>')) {
        (Some(start), true) => &value[start + 1..value.len() - 1],
        _ => value,
    };
    !value.contains(['\r', '\n']) && address.contains('@') && !address.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn read(vars: &[(&str, &str)], env: Environment) -> Result<MailConfig, ConfigError> {
        MailConfig::read(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()), env)
    }

    #[test]
    fn development_defaults_to_the_mailbox_and_production_needs_smtp() {
        let c = read(&[], Environment::Development).unwrap();
        assert!(c.smtp_url.is_none());
        assert_eq!(c.from, DEFAULT_MAIL_FROM);
        assert_eq!(read(&[], Environment::Production).unwrap_err().var, "SMTP_URL");
        let c = read(&[("SMTP_URL", "smtps://u:hunter2@smtp.example.com:465")], Environment::Production).unwrap();
        assert_eq!(c.smtp_url.as_ref().unwrap().expose_secret(), "smtps://u:hunter2@smtp.example.com:465");
        assert!(!format!("{c:?}").contains("hunter2"), "the URL is a secret");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let dev = Environment::Development;
        assert_eq!(read(&[("SMTP_URL", "mail.example.com")], dev).unwrap_err().var, "SMTP_URL");
        assert_eq!(read(&[("MAIL_FROM", "Tern")], dev).unwrap_err().var, "MAIL_FROM");
        assert_eq!(read(&[("SUPPORT_EMAIL", "help")], dev).unwrap_err().var, "SUPPORT_EMAIL");
        assert!(read(&[("MAIL_FROM", "hello@tern.example")], dev).is_ok());
    }
}
