//! The embedded cluster: first start, stop, restart with its data, stale pid files, and the
//! server binary's own start and orderly stop.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};
use tern::cluster::{Cluster, ClusterConfig};

use crate::helpers::scratch_dir;

fn config(dir: &Path) -> ClusterConfig {
    ClusterConfig { pgdata: dir.join("postgres"), log_file: dir.join("postgres.log"), durable: false }
}

async fn query_one(cluster: &Cluster, sql: &str) -> i64 {
    let mut conn = cluster.connect_options("postgres").connect().await.unwrap();
    let v: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    v
}

async fn start(dir: &Path) -> Cluster {
    let config = config(dir);
    tokio::task::spawn_blocking(move || Cluster::start(&config)).await.unwrap().expect("cluster starts")
}

async fn stop(cluster: Cluster) {
    tokio::task::spawn_blocking(move || cluster.stop()).await.unwrap();
}

#[tokio::test]
async fn a_cluster_keeps_its_data_across_a_stop_and_restart() {
    let dir = scratch_dir("restart");
    let cluster = start(dir.path()).await;
    let mut conn = cluster.connect_options("postgres").connect().await.unwrap();
    sqlx::query("create table kept (n bigint)").execute(&mut conn).await.unwrap();
    sqlx::query("insert into kept values (42)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    stop(cluster).await;
    assert!(!dir.path().join("postgres/postmaster.pid").exists(), "a clean stop removes the pid file");

    let cluster = start(dir.path()).await;
    assert_eq!(query_one(&cluster, "select n from kept").await, 42);
    stop(cluster).await;
}

#[tokio::test]
async fn a_stale_pid_file_does_not_block_the_start() {
    let dir = scratch_dir("stale");
    stop(start(dir.path()).await).await;
    let pid_file = dir.path().join("postgres/postmaster.pid");
    // A pid that is alive but not a postgres server (pids are reused after a crash), then one
    // that no longer exists.
    for stale_pid in ["1", "4194300"] {
        std::fs::write(
            &pid_file,
            format!("{stale_pid}\n{}\n1700000000\n5432\n\n\n  0  0\nready\n", dir.path().join("postgres").display()),
        )
        .unwrap();
        let cluster = start(dir.path()).await;
        assert_eq!(query_one(&cluster, "select 1::bigint").await, 1, "started over a stale pid {stale_pid}");
        stop(cluster).await;
    }
}

#[tokio::test]
async fn a_data_directory_that_is_not_a_cluster_is_refused() {
    let dir = scratch_dir("notpg");
    std::fs::create_dir_all(dir.path().join("postgres")).unwrap();
    std::fs::write(dir.path().join("postgres/notes.txt"), "mine").unwrap();
    let config = config(dir.path());
    let err = tokio::task::spawn_blocking(move || Cluster::start(&config)).await.unwrap().unwrap_err();
    assert!(err.to_string().contains("not a PostgreSQL data directory"), "{err}");
    assert!(dir.path().join("postgres/notes.txt").exists(), "nothing was touched");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn_server(data_dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .env_remove("DATABASE_URL")
        .env("TERN_DATA_DIR", data_dir)
        .env("TERN_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tern binary starts")
}

async fn wait_ready(port: u16, server: &mut Child) {
    // reqwest is built without a default TLS provider; this test may run before any other.
    tern::startup::install_crypto_provider();
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(server.try_wait().unwrap().is_none(), "the server exited during start-up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

fn signal(server: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(server.id() as i32, sig) }, 0);
}

async fn wait_exit(server: &mut Child) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = server.try_wait().unwrap() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not exit");
}

async fn wait_gone(pid_file: &Path) {
    for _ in 0..600 {
        if !pid_file.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the cluster did not stop");
}

#[tokio::test]
async fn the_server_runs_its_own_cluster_stops_it_on_sigterm_and_survives_being_killed() {
    let dir = scratch_dir("server");
    let pid_file = dir.path().join("postgres/postmaster.pid");
    let port = free_port();

    let mut server = spawn_server(dir.path(), port);
    wait_ready(port, &mut server).await;
    let plans: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{port}/api/v1/plans?per_page=1")).await.unwrap().json().await.unwrap();
    assert!(plans["meta"]["total"].as_u64().unwrap() >= 200, "migrated and seeded");
    let socket =
        sqlx::postgres::PgConnectOptions::new().socket(dir.path().join("postgres")).username("tern").database("tern");
    let mut conn = socket.connect().await.expect("the cluster listens on a socket in the data directory");
    sqlx::raw_sql("create table marker (n int); insert into marker values (7)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    signal(&server, libc::SIGTERM);
    assert!(wait_exit(&mut server).await.success(), "a clean exit on SIGTERM");
    assert!(!pid_file.exists(), "the cluster was stopped cleanly");

    // Restart: the same cluster, with its data; then a SIGKILL, after which the cluster
    // shuts itself down and the next start works.
    let mut server = spawn_server(dir.path(), port);
    wait_ready(port, &mut server).await;
    let mut conn = socket.connect().await.unwrap();
    let n: i32 = sqlx::query_scalar("select n from marker").fetch_one(&mut conn).await.unwrap();
    assert_eq!(n, 7, "data kept across restarts");
    conn.close().await.unwrap();
    signal(&server, libc::SIGKILL);
    wait_exit(&mut server).await;
    wait_gone(&pid_file).await;

    let mut server = spawn_server(dir.path(), port);
    wait_ready(port, &mut server).await;
    signal(&server, libc::SIGINT);
    assert!(wait_exit(&mut server).await.success(), "a clean exit on SIGINT");
    assert!(!pid_file.exists());
}

#[tokio::test]
async fn bad_configuration_stops_the_start_naming_the_variable() {
    for (var, value) in [("TERN_ADDR", "not-an-address"), ("TERN_ENV", "staging"), ("RUST_LOG", "[[[")] {
        let out = Command::new(env!("CARGO_BIN_EXE_tern")).env(var, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
}

/// The tern binary serving on `port` from `data_dir`, and the pid of its postmaster.
async fn serving(data_dir: &Path, port: u16) -> (Child, i32) {
    let mut server = spawn_server(data_dir, port);
    wait_ready(port, &mut server).await;
    let pid_file = std::fs::read_to_string(data_dir.join("postgres/postmaster.pid")).unwrap();
    (server, pid_file.lines().next().unwrap().trim().parse().unwrap())
}

#[tokio::test]
async fn a_start_right_after_tern_and_its_postmaster_were_killed_works_the_first_time() {
    let dir = scratch_dir("crash");
    let pid_file = dir.path().join("postgres/postmaster.pid");
    let port = free_port();
    let (mut server, postmaster) = serving(dir.path(), port).await;

    // A hard crash of both at once: neither can clean up its pid file or socket lock.
    signal(&server, libc::SIGKILL);
    // SAFETY: kill(2) on the postmaster our child started.
    assert_eq!(unsafe { libc::kill(postmaster, libc::SIGKILL) }, 0);
    wait_exit(&mut server).await;
    assert!(pid_file.exists(), "the killed postmaster left its pid file");

    // `wait_ready` fails if this start exits: it has to work at once, not on a second try.
    let mut server = spawn_server(dir.path(), port);
    wait_ready(port, &mut server).await;
    signal(&server, libc::SIGINT);
    assert!(wait_exit(&mut server).await.success(), "a clean exit on SIGINT");
    assert!(!pid_file.exists());
}

/// A process of `parent`'s (any one).
fn a_child_of(parent: i32) -> i32 {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit_once(')').and_then(|(_, after)| after.split_whitespace().nth(1)?.parse::<i32>().ok())
                == Some(parent)
        })
        .expect("the postmaster has processes")
}

/// A killed postmaster's processes outlive it until each notices, attached to its shared
/// memory, and PostgreSQL refuses to start beside them. One held up here (stopped) keeps the
/// next start waiting, not failing, until it is gone.
#[tokio::test]
async fn a_start_after_a_crash_waits_for_the_old_servers_processes_to_go() {
    let dir = scratch_dir("crash-children");
    let port = free_port();
    let (mut server, postmaster) = serving(dir.path(), port).await;
    let lingering = a_child_of(postmaster);
    // SAFETY: kill(2) on the postmaster and its process, which our child started.
    unsafe {
        assert_eq!(libc::kill(lingering, libc::SIGSTOP), 0);
        signal(&server, libc::SIGKILL);
        assert_eq!(libc::kill(postmaster, libc::SIGKILL), 0);
    }
    wait_exit(&mut server).await;

    let mut server = spawn_server(dir.path(), port);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(server.try_wait().unwrap().is_none(), "the start waits while the old process is attached");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(lingering, libc::SIGKILL) }, 0);
    wait_ready(port, &mut server).await;
    signal(&server, libc::SIGINT);
    assert!(wait_exit(&mut server).await.success(), "a clean exit on SIGINT");
}

/// A pooled connection that sat idle longer than `PING_AFTER_IDLE` is checked before it is
/// handed out (sqlx's own check on every acquire is off): one the server closed meanwhile is
/// replaced, and the query runs on a new connection instead of failing.
#[tokio::test]
async fn a_pooled_connection_the_server_closed_while_idle_is_replaced_not_used() {
    let pool = crate::helpers::fresh_database().await;
    let first: i32 = sqlx::query_scalar("select pg_backend_pid()").fetch_one(&pool).await.unwrap();
    let mut other = pool.connect_options().connect().await.unwrap();
    let closed: bool =
        sqlx::query_scalar("select pg_terminate_backend($1)").bind(first).fetch_one(&mut other).await.unwrap();
    assert!(closed);
    other.close().await.unwrap();
    tokio::time::sleep(tern::db::PING_AFTER_IDLE + Duration::from_millis(300)).await;
    let next: i32 = sqlx::query_scalar("select pg_backend_pid()").fetch_one(&pool).await.expect("a live connection");
    assert_ne!(next, first, "the closed connection was replaced");
}
