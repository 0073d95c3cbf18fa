//! The local Stripe and Telnyx emulators: what a development start without keys falls back to,
//! and `tern emulators`. The only place the `emulators` feature is looked at; without it there
//! are no emulator types to hold and a start without keys stops, naming the missing variables.

#[cfg(feature = "emulators")]
pub use self::enabled::*;

#[cfg(not(feature = "emulators"))]
pub use self::disabled::*;

#[cfg(feature = "emulators")]
mod enabled {
    use std::net::SocketAddr;
    use std::time::Duration;

    use anyhow::Context;
    use secrecy::SecretString;
    pub use stripe_emulator::StripeEmulator;
    use stripe_emulator::StripeEmulatorConfig;
    pub use telnyx_emulator::TelnyxEmulator;
    use telnyx_emulator::TelnyxEmulatorConfig;

    use crate::clients::stripe::StripeClient;
    use crate::clients::telnyx::TelnyxClient;
    use crate::config::Config;
    use crate::domain::token;
    use crate::services::checkout::Payments;

    /// The key the Stripe emulator accepts (as `Authorization: Bearer` or `curl -u KEY:`).
    pub const STRIPE_API_KEY: &str = "sk_test_tern_emulator";
    /// What `tern emulators` signs webhook events with.
    pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_tern_emulator";
    /// The key the Telnyx emulator accepts (`Authorization: Bearer`).
    pub const TELNYX_API_KEY: &str = "KEY_tern_emulator";

    /// With emulators built in, any configuration can start.
    pub fn require_keys(_config: &Config) -> anyhow::Result<()> {
        Ok(())
    }

    /// Payments against a Stripe emulator of their own, its webhooks sent to `public_url`.
    pub async fn local_payments(public_url: &str) -> anyhow::Result<(Payments, StripeEmulator)> {
        let (webhook_secret, _) = token::generate();
        let config = StripeEmulatorConfig {
            api_key: STRIPE_API_KEY.to_string(),
            webhook_secret: format!("whsec_{webhook_secret}"),
        };
        let emulator = StripeEmulator::start(config.clone()).await.context("cannot start the Stripe emulator")?;
        emulator.set_webhook_url(format!("{public_url}/webhooks/stripe"));
        let payments = Payments {
            stripe: StripeClient::new(&SecretString::from(config.api_key), &emulator.base_url())?,
            public_url: public_url.to_string(),
            webhook_secret: SecretString::from(config.webhook_secret),
            checkout_origin: crate::http::headers::origin_of(&emulator.base_url()),
        };
        tracing::info!(stripe.api = %emulator.base_url(), "test mode: payments go to the local Stripe emulator");
        Ok((payments, emulator))
    }

    /// A Telnyx client against a Telnyx emulator of its own, its actions taking `action_delay`.
    pub async fn local_telnyx(action_delay: Duration) -> anyhow::Result<(TelnyxClient, TelnyxEmulator)> {
        let emulator =
            TelnyxEmulator::start(telnyx_config(action_delay)).await.context("cannot start the Telnyx emulator")?;
        tracing::info!(telnyx.api = %emulator.base_url(), "test mode: eSIMs come from the local Telnyx emulator");
        let client = TelnyxClient::new(SecretString::from(TELNYX_API_KEY), &emulator.base_url())?;
        Ok((client, emulator))
    }

    fn telnyx_config(action_delay: Duration) -> TelnyxEmulatorConfig {
        TelnyxEmulatorConfig { api_key: TELNYX_API_KEY.to_string(), action_delay, inventory: None }
    }

    /// `tern emulators`: both emulators alone on `stripe` and `telnyx`, until Ctrl-C / SIGTERM.
    pub async fn run_standalone(stripe: SocketAddr, telnyx: SocketAddr) -> anyhow::Result<()> {
        super::super::install_crypto_provider();
        let stripe_config = StripeEmulatorConfig {
            api_key: STRIPE_API_KEY.to_string(),
            webhook_secret: STRIPE_WEBHOOK_SECRET.to_string(),
        };
        let stripe = StripeEmulator::start_on(stripe_config, stripe)
            .await
            .with_context(|| format!("--stripe-port: cannot listen on {stripe}"))?;
        let telnyx = TelnyxEmulator::start_on(telnyx_config(Duration::from_secs(2)), telnyx)
            .await
            .with_context(|| format!("--telnyx-port: cannot listen on {telnyx}"))?;
        let stripe_url = stripe.base_url();
        println!("Stripe emulator:  {stripe_url}");
        println!("  API key:        {STRIPE_API_KEY}   (Authorization: Bearer, or curl -u {STRIPE_API_KEY}:)");
        println!("  webhook secret: {STRIPE_WEBHOOK_SECRET}");
        println!("  control token:  {}   (X-Emulator-Token header on /_emulator/… requests)", stripe.control_token());
        println!("  webhooks go to: POST {stripe_url}_emulator/webhooks/url {{\"url\": \"http://…\"}}");
        println!("Telnyx emulator:  {}", telnyx.base_url());
        println!("  API key:        {TELNYX_API_KEY}   (Authorization: Bearer)");
        println!("  control token:  {}   (X-Emulator-Token header on /_emulator/… requests)", telnyx.control_token());
        println!("Ctrl-C stops both.");
        super::super::shutdown_signal().await;
        Ok(())
    }
}

#[cfg(not(feature = "emulators"))]
mod disabled {
    use crate::clients::telnyx::TelnyxClient;
    use crate::config::Config;
    use crate::services::checkout::Payments;

    /// Never exists in a build without emulators.
    pub enum StripeEmulator {}
    /// Never exists in a build without emulators.
    pub enum TelnyxEmulator {}

    /// Refuses a start that would need an emulator, naming every missing variable.
    pub fn require_keys(config: &Config) -> anyhow::Result<()> {
        let mut missing = Vec::new();
        if config.stripe.is_none() {
            missing.extend(["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
        }
        if config.telnyx.is_none() {
            missing.push("TELNYX_API_KEY");
        }
        if missing.is_empty() {
            return Ok(());
        }
        anyhow::bail!("this build has no emulators (built without the `emulators` feature): set {}", missing.join(", "))
    }

    pub async fn local_payments(_public_url: &str) -> anyhow::Result<(Payments, StripeEmulator)> {
        anyhow::bail!(
            "this build has no Stripe emulator (built without the `emulators` feature): set \
             STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"
        )
    }

    pub async fn local_telnyx(_action_delay: std::time::Duration) -> anyhow::Result<(TelnyxClient, TelnyxEmulator)> {
        anyhow::bail!("this build has no Telnyx emulator (built without the `emulators` feature): set TELNYX_API_KEY")
    }
}
