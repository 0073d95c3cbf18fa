//! Unit tests of `config`: each setting read, defaulted and refused with its variable named.

use super::*;
use secrecy::ExposeSecret;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

#[test]
fn defaults_serve_locally_with_the_embedded_cluster() {
    let c = config(&[]).unwrap();
    assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
    assert!(c.database_url.is_none());
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.environment, Environment::Development);
    assert_eq!(c.worker_concurrency, DEFAULT_WORKER_CONCURRENCY);
}

#[test]
fn reads_every_variable() {
    let c = config(&[
        ("TERN_ADDR", "0.0.0.0:9000"),
        ("DATABASE_URL", "postgres://u:p@db/tern"),
        ("TERN_DATA_DIR", "/var/lib/tern"),
        ("TERN_ENV", "production"),
        ("STRIPE_SECRET_KEY", "sk_live_1"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_1"),
        ("TELNYX_API_KEY", "KEY_1"),
        ("TERN_SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("TELNYX_SIM_CARD_GROUP_ID", "3f1c2a9e-6b0d-4f5e-9a41-2c7d8e0b5a13"),
        ("TERN_WORKER_CONCURRENCY", "16"),
        ("SMTP_URL", "smtps://u:p@smtp.example.com:465"),
    ])
    .unwrap();
    assert_eq!(c.worker_concurrency, 16);
    assert_eq!(c.addr.port(), 9000);
    assert_eq!(c.database_url.unwrap().expose_secret(), "postgres://u:p@db/tern");
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/tern"));
    assert_eq!(c.environment, Environment::Production);
}

#[test]
fn bad_values_name_the_variable() {
    assert_eq!(config(&[("TERN_ADDR", "localhost")]).unwrap_err().var, "TERN_ADDR");
    assert_eq!(config(&[("TERN_ENV", "staging")]).unwrap_err().var, "TERN_ENV");
    assert_eq!(config(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var, "DATABASE_URL");
    for bad in ["0", "-1", "eight", "1.5", "100000"] {
        assert_eq!(config(&[("TERN_WORKER_CONCURRENCY", bad)]).unwrap_err().var, "TERN_WORKER_CONCURRENCY", "{bad}");
    }
}

#[test]
fn stripe_keys_are_all_or_nothing_and_required_in_production() {
    assert!(config(&[]).unwrap().stripe.is_none(), "development without keys: the emulator");
    let c = config(&[("STRIPE_SECRET_KEY", "sk_test_1"), ("STRIPE_WEBHOOK_SECRET", "whsec_1")]).unwrap();
    let stripe = c.stripe.unwrap();
    assert_eq!(stripe.api_base, "https://api.stripe.com/");
    assert_eq!(stripe.secret_key.expose_secret(), "sk_test_1");
    assert_eq!(config(&[("STRIPE_SECRET_KEY", "sk_test_1")]).unwrap_err().var, "STRIPE_WEBHOOK_SECRET");
    assert_eq!(config(&[("TERN_ENV", "production")]).unwrap_err().var, "STRIPE_SECRET_KEY");
    assert_eq!(
        config(&[("STRIPE_SECRET_KEY", "pk_test_1"), ("STRIPE_WEBHOOK_SECRET", "whsec_1")]).unwrap_err().var,
        "STRIPE_SECRET_KEY"
    );
    assert_eq!(config(&[("STRIPE_API_BASE", "localhost:12111")]).unwrap_err().var, "STRIPE_API_BASE");
    assert_eq!(config(&[("TERN_PUBLIC_URL", "shop.example")]).unwrap_err().var, "TERN_PUBLIC_URL");
    assert_eq!(
        config(&[("TERN_PUBLIC_URL", "https://shop.example/")]).unwrap().public_url.unwrap(),
        "https://shop.example"
    );
}

#[test]
fn telnyx_and_the_secret_key_are_required_in_production_only() {
    let c = config(&[]).unwrap();
    assert!(c.telnyx.is_none() && c.secret_key.is_none());
    let stripe = [("STRIPE_SECRET_KEY", "sk_live_1"), ("STRIPE_WEBHOOK_SECRET", "whsec_1")];
    let mut vars = vec![("TERN_ENV", "production")];
    vars.extend(stripe);
    assert_eq!(config(&vars).unwrap_err().var, "TELNYX_API_KEY");
    vars.push(("TELNYX_API_KEY", "KEY_1"));
    assert_eq!(config(&vars).unwrap_err().var, "TERN_SECRET_KEYS");
    vars.push(("TERN_SECRET_KEY", "dG9vIHNob3J0"));
    assert_eq!(config(&vars).unwrap_err().var, "TERN_SECRET_KEY", "a key that is not 32 bytes");
    assert_eq!(config(&[("TELNYX_SIM_CARD_GROUP_ID", "group-1")]).unwrap_err().var, "TELNYX_SIM_CARD_GROUP_ID");
    let c = config(&[("TELNYX_API_KEY", "KEY_1")]).unwrap();
    assert_eq!(c.telnyx.unwrap().api_base, "https://api.telnyx.com/v2");
}

#[test]
fn secrets_never_reach_debug_output() {
    let c = config(&[
        ("STRIPE_SECRET_KEY", "sk_live_hunter2"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_hunter3"),
        ("TELNYX_API_KEY", "KEY_hunter4"),
        ("TERN_SECRET_KEY", "aHVudGVyNWh1bnRlcjVodW50ZXI1aHVudGVyNWh1bnQ="),
    ])
    .unwrap();
    let text = format!("{c:?}");
    for secret in ["hunter2", "hunter3", "hunter4", "aHVudGVy"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

#[test]
fn the_database_url_never_reaches_debug_output() {
    let c = config(&[("DATABASE_URL", "postgres://u:hunter2@db/tern")]).unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn the_api_write_limit_is_read_and_checked() {
    let get = |v: &'static str| Config::from_lookup(move |n| (n == "TERN_API_WRITES_PER_MINUTE").then(|| v.into()));
    assert_eq!(get("").unwrap().api_writes_per_minute, crate::services::rate_limit::DEFAULT_API_WRITES_PER_MINUTE);
    assert_eq!(get("600").unwrap().api_writes_per_minute, 600);
    for bad in ["0", "-5", "many", "1000001"] {
        assert_eq!(get(bad).unwrap_err().var, "TERN_API_WRITES_PER_MINUTE", "{bad}");
    }
}
