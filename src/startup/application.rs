//! The application as one value, zero2prod-style: `Application::build` wires the database, the
//! clients (or the local emulators), the app state and the listener; `run_until_stopped` serves
//! HTTP and runs the job worker, then stops in order. `cargo run` and the tests build it the
//! same way; what tests need differently comes in through `AppOptions`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::services::Pool as PgPool;
use anyhow::Context;
use tokio::net::TcpListener;

use super::{
    Database, StripeEmulator, TelnyxEmulator, cipher, database, emulators, payments, provisioner, serve, state,
};
use crate::cluster::Cluster;
use crate::config::{Config, Environment};
use crate::http::state::{AppState, SiteMode};
use crate::services::checkout::Payments;
use crate::services::provisioning::Provisioner;
use crate::worker::{Worker, WorkerConfig};

/// How the application is built where it must differ from `cargo run`. The defaults are the
/// production behaviour.
#[derive(Clone)]
pub struct AppOptions {
    /// A database to use instead of `DATABASE_URL` or the embedded cluster (tests: a fresh copy
    /// of a migrated template). It is closed when the application stops.
    pub pool: Option<PgPool>,
    /// Whether `run_until_stopped` runs the job worker (tests that step it by hand turn it off).
    pub run_worker: bool,
    /// The worker's lease, attempts and backoff.
    pub worker: WorkerConfig,
    /// How long the local Telnyx emulator's actions take (2 s by default, as they feel real).
    pub telnyx_action_delay: Duration,
    /// How the Telnyx client polls an action: first poll and deadline (`None`: the client's own).
    pub telnyx_action_polling: Option<(Duration, Duration)>,
    /// How long a purchase waits before looking for a SIM tagged by an earlier attempt.
    pub tag_grace: Duration,
    /// How often the reconciliation sweep runs (`None`: never; tests call it by hand).
    pub reconcile_every: Option<Duration>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            pool: None,
            run_worker: true,
            worker: WorkerConfig::default(),
            telnyx_action_delay: Duration::from_secs(2),
            telnyx_action_polling: None,
            tag_grace: Duration::from_secs(30),
            reconcile_every: Some(crate::services::reconcile::SWEEP_INTERVAL),
        }
    }
}

/// A built application, bound to its address, not yet serving.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    cluster: Option<Cluster>,
    worker: Worker,
    /// `TERN_WORKER_CONCURRENCY`: jobs the worker runs at once.
    worker_concurrency: usize,
    run_worker: bool,
    reconcile_every: Option<Duration>,
    stripe_emulator: Option<StripeEmulator>,
    telnyx_emulator: Option<TelnyxEmulator>,
}

impl Application {
    /// Connects (or starts the embedded cluster), migrates, loads the catalogue, binds
    /// `config.addr` (port 0 picks a free one) and starts the emulators that stand in for
    /// missing keys.
    pub async fn build(config: &Config, options: AppOptions) -> anyhow::Result<Application> {
        emulators::require_keys(config)?;
        super::install_crypto_provider();
        let Database { pool, cluster } = match options.pool.clone() {
            Some(pool) => Database { pool, cluster: None },
            None => database(config).await?,
        };
        match Self::wire(config, options, pool.clone()).await {
            Ok(mut app) => {
                app.cluster = cluster;
                Ok(app)
            }
            Err(e) => {
                stop_database(pool, cluster).await;
                Err(e)
            }
        }
    }

    async fn wire(config: &Config, options: AppOptions, pool: PgPool) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("TERN_ADDR: cannot listen on {}", config.addr))?;
        let addr = listener.local_addr()?;
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let (payments, stripe_emulator) = payments(config, &public_url).await?;
        let (mut provisioner, telnyx_emulator) =
            provisioner(config, cipher(config)?, options.telnyx_action_delay).await?;
        provisioner.tag_grace = options.tag_grace;
        if let Some((first_poll, deadline)) = options.telnyx_action_polling {
            provisioner.telnyx = provisioner.telnyx.with_action_polling(first_poll, deadline);
        }
        let mode = SiteMode {
            test_mode: stripe_emulator.is_some() || telnyx_emulator.is_some(),
            secure_cookies: config.environment == Environment::Production,
            // Read once per process: kept for its whole life.
            support_email: Box::leak(config.support_email.clone().into_boxed_str()),
        };
        let state = state(pool.clone(), mode, payments, provisioner.clone()).await?;
        if config.environment == Environment::Development
            && !crate::services::accounts::has_admin(&pool).await.unwrap_or(true)
        {
            tracing::info!("no admin yet: create one with `cargo run -- admin create --email you@example.com`");
        }
        let worker = Worker {
            pool,
            provisioner,
            mailer: Default::default(),
            webhooks: Default::default(),
            config: options.worker,
        };
        Ok(Application {
            listener,
            addr,
            state,
            cluster: None,
            worker,
            worker_concurrency: config.worker_concurrency,
            run_worker: options.run_worker,
            reconcile_every: options.reconcile_every,
            stripe_emulator,
            telnyx_emulator,
        })
    }

    /// The address bound.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The port bound (the free one picked for port 0).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The state the HTTP handlers get.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    pub fn payments(&self) -> &Payments {
        &self.state.payments
    }

    pub fn provisioner(&self) -> &Provisioner {
        &self.worker.provisioner
    }

    /// A worker like the one `run_until_stopped` runs, for stepping jobs by hand.
    pub fn worker(&self) -> Worker {
        self.worker.clone()
    }

    /// The local Stripe emulator, when it stands in for missing keys.
    pub fn stripe_emulator(&self) -> Option<&StripeEmulator> {
        self.stripe_emulator.as_ref()
    }

    /// The local Telnyx emulator, when it stands in for a missing key.
    pub fn telnyx_emulator(&self) -> Option<&TelnyxEmulator> {
        self.telnyx_emulator.as_ref()
    }

    /// Serves HTTP and runs the job worker until `shutdown` completes; then stops the server
    /// (draining connections), the worker, the pool and the embedded cluster, in that order.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Application {
            listener,
            addr,
            state,
            cluster,
            worker,
            worker_concurrency,
            run_worker,
            reconcile_every,
            stripe_emulator: _stripe,
            telnyx_emulator: _telnyx,
        } = self;
        let pool = state.pool.clone();
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = run_worker.then(|| {
            tokio::spawn(worker.run_concurrently(worker_concurrency, async {
                let _ = worker_stopped.await;
            }))
        });
        let (stop_sweep, sweep_stopped) = tokio::sync::oneshot::channel::<()>();
        let (sweep_pool, sweep_payments) = (pool.clone(), state.payments.clone());
        let sweeper = reconcile_every.map(|every| {
            tokio::spawn(crate::services::reconcile::run_until(sweep_pool, sweep_payments, every, async {
                let _ = sweep_stopped.await;
            }))
        });
        tracing::info!(http.addr = %addr, "Tern is serving on http://{addr}");
        let served = serve(listener, state, shutdown).await.context("the HTTP server failed");
        let _ = stop_worker.send(());
        let _ = stop_sweep.send(());
        if let Some(sweeper) = sweeper {
            let _ = sweeper.await;
        }
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        stop_database(pool, cluster).await;
        // The emulators (`_stripe`, `_telnyx`) stop last, when they go out of scope.
        served
    }
}

/// Closes the pool, then stops the embedded cluster when there is one.
pub(super) async fn stop_database(pool: PgPool, cluster: Option<Cluster>) {
    pool.close().await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await.ok();
    }
}
