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

use super::mailbox::DevMailbox;
use super::{
    Database, StripeEmulator, TelnyxEmulator, cipher, database, emulators, payments, provisioner, serve, state,
};
use crate::cluster::Cluster;
use crate::config::{Config, Environment};
use crate::http::state::{AppState, SiteMode};
use crate::services::checkout::Payments;
use crate::services::jobs::JobKinds;
use crate::services::mail;
use crate::services::provisioning::Provisioner;
use crate::worker::{Worker, WorkerConfig};

/// How the application is built where it must differ from `cargo run`. The defaults are the
/// production behaviour.
#[derive(Clone)]
pub struct AppOptions {
    /// A database to use instead of `DATABASE_URL` or the embedded cluster (tests: a fresh copy
    /// of a migrated template). It is closed when the application stops.
    pub pool: Option<PgPool>,
    /// Whether `run_until_stopped` runs the job worker (tests that step it by hand turn it off:
    /// then only email is sent in the background, and `Application::worker` steps the rest).
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
    /// How often the integrity report runs (`None`: never; tests run it by hand).
    pub integrity_every: Option<Duration>,
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
            integrity_every: Some(crate::services::integrity::RUN_INTERVAL),
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
    integrity_every: Option<Duration>,
    stripe_emulator: Option<StripeEmulator>,
    telnyx_emulator: Option<TelnyxEmulator>,
    /// The stand-in server answering 503 while the application is built.
    starting: super::StartingServer,
    /// `TERN_METRICS_ADDR`'s listener.
    metrics: Option<TcpListener>,
    /// How long `/readyz` says 503 after shutdown begins, before the server stops accepting.
    shutdown_drain: Duration,
    /// The in-process SMTP server mail goes to without `SMTP_URL` (development).
    dev_mailbox: Option<DevMailbox>,
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
        // Until the whole app serves, the port answers: `/healthz` 200, the rest 503.
        let (listener, starting) = super::serve_starting(listener)?;
        let metrics = match config.metrics_addr {
            Some(at) => Some({
                // Metrics are recorded from here on (without a listener nothing records).
                crate::telemetry::metrics();
                TcpListener::bind(at).await.with_context(|| format!("TERN_METRICS_ADDR: cannot listen on {at}"))?
            }),
            None => None,
        };
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
            secure_cookies: config.environment == Environment::Production || public_url.starts_with("https://"),
            dev_mailbox: config.mail.smtp_url.is_none(),
            // Read once per process: kept for its whole life.
            support_email: Box::leak(config.mail.support_email.clone().into_boxed_str()),
        };
        let webhooks = crate::services::webhooks::Webhooks {
            cipher: provisioner.cipher.clone(),
            policy: crate::services::webhooks::UrlPolicy::for_environment(config.environment),
        };
        let trusted_proxies = config.trusted_proxies.clone();
        let mut state =
            state(pool.clone(), mode, payments, provisioner.clone(), trusted_proxies, webhooks.clone()).await?;
        state.limits.api_writes = crate::services::rate_limit::api_writes(config.api_writes_per_minute);
        if config.environment == Environment::Development
            && !crate::services::accounts::has_admin(&pool).await.unwrap_or(true)
        {
            tracing::info!("no admin yet: create one with `cargo run -- admin create --email you@example.com`");
        }
        let (mailer, dev_mailbox) = mailer(config, &state, &provisioner, &public_url).await?;
        let webhooks = crate::services::webhooks::Deliverer::new(webhooks)?;
        let worker = Worker { pool, provisioner, mailer, webhooks, config: options.worker };
        Ok(Application {
            listener,
            addr,
            state,
            cluster: None,
            worker,
            worker_concurrency: config.worker_concurrency,
            run_worker: options.run_worker,
            reconcile_every: options.reconcile_every,
            integrity_every: options.integrity_every,
            stripe_emulator,
            telnyx_emulator,
            starting,
            metrics,
            shutdown_drain: config.shutdown_drain,
            dev_mailbox,
        })
    }

    /// The address bound.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` is served (`TERN_METRICS_ADDR`), if anywhere.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
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

    /// A worker like the one `run_until_stopped` runs, for stepping jobs by hand. Without
    /// `run_worker`, email is sent in the background and this worker runs every other kind.
    pub fn worker(&self) -> Worker {
        let mut worker = self.worker.clone();
        if !self.run_worker {
            worker.config.kinds = JobKinds::Except(MAIL_KINDS);
        }
        worker
    }

    /// The local Stripe emulator, when it stands in for missing keys.
    pub fn stripe_emulator(&self) -> Option<&StripeEmulator> {
        self.stripe_emulator.as_ref()
    }

    /// The local Telnyx emulator, when it stands in for a missing key.
    pub fn telnyx_emulator(&self) -> Option<&TelnyxEmulator> {
        self.telnyx_emulator.as_ref()
    }

    /// The development mailbox, when mail goes to it (no `SMTP_URL`).
    pub fn dev_mailbox(&self) -> Option<&DevMailbox> {
        self.dev_mailbox.as_ref()
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
            integrity_every,
            stripe_emulator: _stripe,
            telnyx_emulator: _telnyx,
            starting,
            metrics,
            shutdown_drain,
            dev_mailbox,
        } = self;
        let pool = state.pool.clone();
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = if run_worker { worker } else { mail_only(worker) };
        let worker = Some(tokio::spawn(worker.run_concurrently(worker_concurrency, async {
            let _ = worker_stopped.await;
        })));
        let (stop_sweep, sweep_stopped) = tokio::sync::oneshot::channel::<()>();
        let (sweep_pool, sweep_payments) = (pool.clone(), state.payments.clone());
        let sweeper = reconcile_every.map(|every| {
            tokio::spawn(crate::services::reconcile::run_until(sweep_pool, sweep_payments, every, async {
                let _ = sweep_stopped.await;
            }))
        });
        let (stop_report, report_stopped) = tokio::sync::oneshot::channel::<()>();
        let (report_pool, report_payments, report_provisioner) =
            (pool.clone(), state.payments.clone(), state.provisioner.clone());
        let reporter = integrity_every.map(|every| {
            tokio::spawn(crate::services::integrity::run_until(
                report_pool,
                report_payments,
                report_provisioner,
                every,
                async {
                    let _ = report_stopped.await;
                },
            ))
        });
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        if let Some(listener) = metrics {
            tracing::info!(metrics.addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "metrics are served at /metrics");
            tokio::spawn(crate::http::metrics::serve(listener, pool.clone(), async {
                let _ = metrics_stopped.await;
            }));
        }
        starting.stop().await;
        let readiness = state.readiness.clone();
        readiness.set_serving();
        tracing::info!(http.addr = %addr, "Tern is serving on http://{addr}");
        // On shutdown, `/readyz` says 503 for `shutdown_drain` first, so a load balancer stops
        // sending traffic; then the server stops accepting and finishes the requests in flight
        // (reads waiting for an order to settle answer at once).
        let settlements = state.settlements.clone();
        let shutdown = async move {
            shutdown.await;
            readiness.set_draining();
            tracing::info!(drain_seconds = shutdown_drain.as_secs(), "draining: /readyz now answers 503");
            tokio::time::sleep(shutdown_drain).await;
            settlements.close();
        };
        let served = serve(listener, state, shutdown).await.context("the HTTP server failed");
        let _ = stop_metrics.send(());
        let _ = stop_worker.send(());
        let _ = stop_sweep.send(());
        let _ = stop_report.send(());
        if let Some(sweeper) = sweeper {
            let _ = sweeper.await;
        }
        if let Some(reporter) = reporter {
            let _ = reporter.await;
        }
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        if let Some(mailbox) = dev_mailbox {
            mailbox.stop();
        }
        stop_database(pool, cluster).await;
        // The emulators (`_stripe`, `_telnyx`) stop last, when they go out of scope.
        served
    }
}

const MAIL_KINDS: &[&str] = &[mail::SEND_EMAIL];

/// The worker that sends email alone, while a test steps the other jobs by hand.
fn mail_only(mut worker: Worker) -> Worker {
    worker.config.kinds = JobKinds::Only(MAIL_KINDS);
    worker
}

/// The mailer: through `SMTP_URL`, or to the development mailbox started here.
async fn mailer(
    config: &Config,
    state: &AppState,
    provisioner: &Provisioner,
    public_url: &str,
) -> anyhow::Result<(mail::Mailer, Option<DevMailbox>)> {
    let (transport, mailbox) = match &config.mail.smtp_url {
        Some(url) => (mail::smtp_transport(url)?, None),
        None => {
            let mailbox = DevMailbox::start(state.pool.clone()).await?;
            (mail::loopback_transport(mailbox.port()), Some(mailbox))
        }
    };
    let settings = mail::MailSettings {
        from: config.mail.from.clone(),
        support_email: config.mail.support_email.clone(),
        public_url: public_url.to_string(),
    };
    let mailer = mail::Mailer::new(
        transport,
        settings,
        provisioner.cipher.clone(),
        state.catalogue.clone(),
        crate::http::email::render,
    )?;
    Ok((mailer, mailbox))
}

/// Closes the pool, then stops the embedded cluster when there is one.
pub(super) async fn stop_database(pool: PgPool, cluster: Option<Cluster>) {
    pool.close().await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await.ok();
    }
}
