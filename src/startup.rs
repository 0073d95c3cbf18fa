//! Start-up: the database (`DATABASE_URL` or the embedded cluster), migrations, the catalogue
//! snapshot, the HTTP server, and an orderly stop on SIGINT/SIGTERM.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::net::TcpListener;

use crate::cluster::{Cluster, ClusterConfig};
use crate::config::Config;
use crate::services::catalogue::CatalogueStore;
use crate::state::{AppState, SiteMode};
use crate::{MIGRATOR, db, http};

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
        let options: PgConnectOptions = url
            .expose_secret()
            .parse()
            .context("DATABASE_URL cannot be parsed")?;
        let pool = pool(options)
            .await
            .context("cannot connect to DATABASE_URL")?;
        return Ok(Database {
            pool,
            cluster: None,
        });
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
    Ok(Database {
        pool,
        cluster: Some(cluster),
    })
}

async fn pool(options: PgConnectOptions) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.log_statements(tracing::log::LevelFilter::Debug))
        .await
}

/// Everything the application needs once the database is there: migrations run, catalogue loaded.
pub async fn state(pool: PgPool, mode: SiteMode) -> anyhow::Result<AppState> {
    MIGRATOR
        .run(&pool)
        .await
        .context("database migrations failed")?;
    let catalogue = CatalogueStore::load_and_follow(pool.clone())
        .await
        .context("cannot load the catalogue")?;
    Ok(AppState {
        pool,
        catalogue,
        mode,
    })
}

/// Serves the app on `listener` until `shutdown` completes, then drains connections.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, http::app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The whole server, as `cargo run` starts it.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let Database { pool, cluster } = database(&config).await?;
    let result = async {
        let state = state(pool.clone(), SiteMode::default()).await?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("TERN_ADDR: cannot listen on {}", config.addr))?;
        let addr = listener.local_addr()?;
        tracing::info!(http.addr = %addr, "Tern is serving on http://{addr}");
        serve(listener, state, shutdown_signal())
            .await
            .context("the HTTP server failed")
    }
    .await;
    pool.close().await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .ok();
    }
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
