//! The test server: one PostgreSQL server per test process (`DATABASE_URL` when set, else a
//! throwaway embedded cluster under the system temp directory), a migrated template database,
//! and for each test a fresh copy of it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tern::cluster::{Cluster, ClusterConfig};

struct TestServer {
    admin: PgConnectOptions,
    template: String,
    _cluster: Option<Cluster>,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

/// A directory the `postgres` user can reach, removed when the value is dropped.
pub fn scratch_dir(label: &str) -> tempfile::TempDir {
    sweep_stale_dirs();
    let dir = tempfile::Builder::new()
        .prefix(&format!("tern-test-{}-{label}-", std::process::id()))
        .tempdir()
        .expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Removes scratch directories of earlier test processes that are gone (their clusters died
/// with them through the parent-death signal).
fn sweep_stale_dirs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("tern-test-").and_then(|r| r.split('-').next()) else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}

fn server() -> &'static TestServer {
    // Started on a thread of its own: the tests' runtimes cannot block on another runtime.
    SERVER.get_or_init(|| std::thread::spawn(start_server).join().expect("test server start-up"))
}

fn start_server() -> TestServer {
    {
        let (admin, cluster) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => (url.parse::<PgConnectOptions>().expect("DATABASE_URL"), None),
            _ => {
                // Kept for the whole process: never dropped, removed by the next run's sweep.
                let dir: PathBuf = scratch_dir("cluster").keep();
                let cluster = Cluster::start(&ClusterConfig {
                    pgdata: dir.join("postgres"),
                    log_file: dir.join("postgres.log"),
                    durable: false,
                })
                .expect("cannot start the test cluster");
                (cluster.connect_options("postgres"), Some(cluster))
            }
        };
        let template = format!("tern_template_{}", std::process::id());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut conn = admin.connect().await.expect("connect to the test server");
            sqlx::query(&format!("drop database if exists {template}")).execute(&mut conn).await.unwrap();
            sqlx::query(&format!("create database {template}")).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            let mut conn = admin.clone().database(&template).connect().await.unwrap();
            tern::MIGRATOR.run(&mut conn).await.expect("migrations");
            conn.close().await.unwrap();
        });
        TestServer { admin, template, _cluster: cluster }
    }
}

/// A fresh, migrated and seeded database of its own.
pub async fn fresh_database() -> PgPool {
    let server = server();
    let name = format!("tern_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = server.admin.connect().await.unwrap();
    tern::db::create_database_from(&mut conn, &name, &server.template).await.unwrap();
    conn.close().await.unwrap();
    tern::db::pool_options().connect_with(server.admin.clone().database(&name)).await.unwrap()
}
