//! Start-up: the database (`DATABASE_URL` or the embedded cluster), migrations, the catalogue
//! snapshot, the HTTP server, and an orderly stop on SIGINT/SIGTERM (the whole application:
//! `startup/application.rs`; the local emulators: `startup/emulators.rs`).

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::net::TcpListener;

use crate::clients::stripe::StripeClient;
use crate::clients::telnyx::TelnyxClient;
use crate::cluster::{Cluster, ClusterConfig};
use crate::config::Config;
use crate::crypto::Cipher;
use crate::http::state::{AppState, SiteMode};
use crate::services::catalogue::CatalogueStore;
use crate::services::checkout::Payments;
use crate::services::provisioning::Provisioner;
use crate::{MIGRATOR, db, http};

mod application;
mod emulators;
mod mailbox;
mod probe;
pub use self::application::{AppOptions, Application};
#[cfg(feature = "emulators")]
pub use self::emulators::run_standalone as run_emulators;
#[cfg(feature = "emulators")]
pub use self::emulators::{STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, TELNYX_API_KEY};
pub use self::emulators::{StripeEmulator, TelnyxEmulator};
pub use self::mailbox::DevMailbox;
pub use self::probe::probe_health;

/// The database Tern uses inside its embedded cluster.
pub const EMBEDDED_DATABASE: &str = "tern";

/// The database, and the embedded cluster behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    pub cluster: Option<Cluster>,
}

/// Connects to `DATABASE_URL`, or starts the embedded cluster in `$TERN_DATA_DIR/postgres`.
pub async fn database(config: &Config) -> anyhow::Result<Database> {
    if let Some(url) = &config.database_url {
        let options: PgConnectOptions = url.expose_secret().parse().context("DATABASE_URL cannot be parsed")?;
        let pool = pool(options).await.context("cannot connect to DATABASE_URL")?;
        return Ok(Database { pool, cluster: None });
    }
    let cluster_config = ClusterConfig {
        pgdata: config.data_dir.join("postgres"),
        log_file: config.data_dir.join("postgres.log"),
        durable: true,
    };
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(&cluster_config))
        .await
        .context("the cluster start-up task failed")?
        .context("cannot start the embedded PostgreSQL cluster")?;
    let mut admin = cluster.connect_options("postgres").connect().await?;
    db::ensure_database(&mut admin, EMBEDDED_DATABASE).await?;
    admin.close().await?;
    let pool = pool(cluster.connect_options(EMBEDDED_DATABASE)).await?;
    Ok(Database { pool, cluster: Some(cluster) })
}

async fn pool(options: PgConnectOptions) -> sqlx::Result<PgPool> {
    db::pool_options().connect_with(options.log_statements(tracing::log::LevelFilter::Debug)).await
}

/// Installs the process-wide TLS crypto provider (ring) once, before any HTTPS client exists.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Stripe: the real API when keys are configured, else the local emulator (development only;
/// `Config` refuses production without keys, a build without emulators any start without them).
/// Webhooks come back to `public_url`.
pub async fn payments(config: &Config, public_url: &str) -> anyhow::Result<(Payments, Option<StripeEmulator>)> {
    if let Some(stripe) = &config.stripe {
        let client = StripeClient::new(&stripe.secret_key, &stripe.api_base)?;
        let payments = Payments {
            stripe: client,
            public_url: public_url.to_string(),
            webhook_secret: stripe.webhook_secret.clone(),
            checkout_origin: checkout_origin(&stripe.api_base),
        };
        return Ok((payments, None));
    }
    let (payments, emulator) = emulators::local_payments(public_url).await?;
    Ok((payments, Some(emulator)))
}

/// Stripe's hosted checkout for its real API; for anything else (`tern emulators`), that host.
fn checkout_origin(api_base: &str) -> String {
    let origin = http::headers::origin_of(api_base);
    if origin == "https://api.stripe.com" { "https://checkout.stripe.com".to_string() } else { origin }
}

/// The keys values are encrypted with: `TERN_SECRET_KEYS` (or `TERN_SECRET_KEY`), or in development one
/// generated once into `$TERN_DATA_DIR/secret.key`.
pub fn cipher(config: &Config) -> anyhow::Result<Cipher> {
    if let Some(key) = &config.secret_key {
        return Ok(Cipher::from_keys(key.expose_secret())?);
    }
    let path = config.data_dir.join("secret.key");
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(&config.data_dir)?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(Cipher::generate_key().as_bytes())?;
        tracing::info!(path = %path.display(), "generated a development encryption key");
    }
    let key = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Cipher::from_base64(&key).with_context(|| format!("{} does not hold a valid key", path.display()))
}

/// Telnyx: the real API when `TELNYX_API_KEY` is set, else the local emulator (development
/// only), its actions taking `emulator_delay`.
pub async fn provisioner(
    config: &Config,
    cipher: Cipher,
    emulator_delay: Duration,
) -> anyhow::Result<(Provisioner, Option<TelnyxEmulator>)> {
    let (client, emulator) = match &config.telnyx {
        Some(telnyx) => (TelnyxClient::new(telnyx.api_key.clone(), &telnyx.api_base)?, None),
        None => {
            let (client, emulator) = emulators::local_telnyx(emulator_delay).await?;
            (client, Some(emulator))
        }
    };
    let provisioner = Provisioner {
        telnyx: client,
        cipher,
        default_group: config.sim_card_group_id.clone(),
        tag_grace: Duration::from_secs(30),
    };
    Ok((provisioner, emulator))
}

/// Everything the application needs once the database is there: migrations run, catalogue loaded.
pub async fn state(
    pool: PgPool,
    mode: SiteMode,
    payments: Payments,
    provisioner: Provisioner,
    trusted_proxies: crate::domain::client_addr::TrustedProxies,
    webhooks: crate::services::webhooks::Webhooks,
) -> anyhow::Result<AppState> {
    MIGRATOR.run(&pool).await.context("database migrations failed")?;
    let catalogue = CatalogueStore::load_and_follow(pool.clone()).await.context("cannot load the catalogue")?;
    let settlements = crate::services::settlements::Settlements::follow(pool.clone())
        .await
        .context("cannot listen for settled orders")?;
    let sessions = tower_sessions_sqlx_store::PostgresStore::new(pool.clone());
    sessions.migrate().await.context("session store migration failed")?;
    // Expired sessions are swept every minute.
    tokio::spawn(tower_sessions::ExpiredDeletion::continuously_delete_expired(
        sessions.clone(),
        tokio::time::Duration::from_secs(60),
    ));
    let headers = http::headers::HeaderPolicy::new(&payments.checkout_origin, mode.secure_cookies);
    Ok(AppState {
        pool,
        catalogue,
        mode,
        response_cache: Default::default(),
        payments,
        provisioner,
        sessions,
        readiness: Default::default(),
        headers,
        trusted_proxies: std::sync::Arc::new(trusted_proxies),
        webhooks,
        limits: Default::default(),
        settlements,
    })
}

/// A minimal server on a copy of the shop's listener while the application is built, so the
/// port answers (`/healthz` 200, everything else 503) instead of refusing connections.
pub struct StartingServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl StartingServer {
    /// Stops accepting; the real server takes the listener over.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Starts the [`StartingServer`] on a duplicate of `listener`'s socket; gives the original back.
pub fn serve_starting(listener: TcpListener) -> anyhow::Result<(TcpListener, StartingServer)> {
    let std_listener = listener.into_std()?;
    let copy = TcpListener::from_std(std_listener.try_clone()?)?;
    let listener = TcpListener::from_std(std_listener)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = http::health::serve_starting(copy, async {
            let _ = stopped.await;
        })
        .await;
    });
    Ok((listener, StartingServer { stop, task }))
}

/// Serves the app on `listener` until `shutdown` completes, then drains connections.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    http::serve(listener, state, shutdown).await
}

/// The whole server, as `cargo run` starts it: built, then served with its worker until
/// SIGINT/SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    Application::build(&config, AppOptions::default()).await?.run_until_stopped(shutdown_signal()).await
}

/// `tern api-key create`: against the configured database, like `tern admin create` (so it
/// works while the shop runs). Returns the key, shown once.
pub async fn create_api_key(
    config: &Config,
    name: &str,
    role: crate::domain::webhook::KeyRole,
) -> anyhow::Result<String> {
    with_database(config, |pool| async move { Ok(crate::services::api_keys::create(&pool, name, role).await?.1) }).await
}

/// A use-case's error as the command line says it: field errors as `field: message`.
fn cli_error(e: crate::error::Error) -> anyhow::Error {
    match e {
        crate::error::Error::Invalid(fields) => {
            anyhow::anyhow!(fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))
        }
        other => anyhow::Error::from(other),
    }
}

/// `tern admin create`: against the configured database (the embedded cluster is started, or
/// the one a running Tern serves is used), with migrations applied.
pub async fn create_admin(
    config: &Config,
    email: &str,
    password: &str,
    promote: bool,
) -> anyhow::Result<crate::domain::user::User> {
    with_database(config, |pool| async move {
        crate::services::accounts::create_admin(&pool, email, password, promote).await
    })
    .await
}

/// `tern admin reset-mfa`: the user enrols a new second factor at their next sign-in.
pub async fn reset_mfa(config: &Config, email: &str) -> anyhow::Result<crate::domain::user::User> {
    with_database(config, |pool| async move { crate::services::mfa::reset(&pool, email).await }).await
}

/// Runs an admin command against the configured database, migrated; field errors as one line.
async fn with_database<T, F, Fut>(config: &Config, command: F) -> anyhow::Result<T>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = crate::error::Result<T>>,
{
    let Database { pool, cluster } = database(config).await?;
    let result = async {
        MIGRATOR.run(&pool).await.context("database migrations failed")?;
        command(pool.clone()).await.map_err(cli_error)
    }
    .await;
    application::stop_database(pool, cluster).await;
    result
}

/// `tern rotate-key`: every sealed value re-encrypted with the current key, against the
/// configured database (migrations applied first).
pub async fn rotate_key(config: &Config, batch: i64) -> anyhow::Result<crate::services::key_rotation::RotationReport> {
    let cipher = cipher(config)?;
    let Database { pool, cluster } = database(config).await?;
    let result = async {
        MIGRATOR.run(&pool).await.context("database migrations failed")?;
        Ok(crate::services::key_rotation::rotate_all(&pool, &cipher, batch).await?)
    }
    .await;
    application::stop_database(pool, cluster).await;
    result
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
