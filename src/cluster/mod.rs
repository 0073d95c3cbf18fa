//! The embedded PostgreSQL cluster: Tern's default database when `DATABASE_URL` is unset.
//!
//! It runs the machine's own `initdb` and `postgres` (as the `postgres` system user when Tern
//! runs as root), initialises the data directory on first use, listens only on a unix socket
//! inside that directory (or a free loopback port when the socket path would be too long),
//! and stops with a fast shutdown when Tern stops. The server is started as our child with a
//! parent-death signal, so even a killed Tern never leaves a cluster running behind it.

pub mod binaries;
mod pidfile;
mod process;

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;

use binaries::{Binaries, RunAs};
use process::Postmaster;

/// The superuser `initdb` creates; the embedded cluster trusts local connections.
pub const SUPERUSER: &str = "tern";
/// The port number in the socket file's name (and the port in socket mode).
const SOCKET_PORT: u16 = 5432;
/// Unix socket paths longer than this do not fit `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 100;
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries (initdb, postgres) on PATH or under /usr/lib/postgresql/<version>/bin. \
         Install them (Debian/Ubuntu: `apt-get install postgresql`), or set DATABASE_URL to use an existing PostgreSQL server"
    )]
    NoBinaries,
    #[error(
        "Tern runs as root and PostgreSQL refuses to run as root, but there is no `postgres` system user to run it as. \
         Install the server package (`apt-get install postgresql` creates the user), run Tern as another user, or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error(
        "the postgres user cannot reach {dir}: {blocker} is not searchable by it. Set TERN_DATA_DIR to a directory \
         it can reach (for example /var/lib/tern), or set DATABASE_URL"
    )]
    Unreachable { dir: PathBuf, blocker: PathBuf },
    #[error("{path} exists but is not a PostgreSQL data directory; move it away or set TERN_DATA_DIR")]
    NotADataDirectory { path: PathBuf },
    #[error("another PostgreSQL server (pid {pid}) is already running on {path}; stop it or use another TERN_DATA_DIR")]
    InUse { pid: i32, path: PathBuf },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("initdb failed for {path}; its output:\n{log}")]
    InitFailed { path: PathBuf, log: String },
    #[error("the PostgreSQL server did not start; the end of {log_path}:\n{log}")]
    StartFailed { log_path: PathBuf, log: String },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

/// Where and how to run a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The data directory (`$TERN_DATA_DIR/postgres`).
    pub pgdata: PathBuf,
    /// The server's log file.
    pub log_file: PathBuf,
    /// False for throwaway test clusters: no fsync, faster, lost on a crash.
    pub durable: bool,
}

/// How clients reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Socket { dir: PathBuf, port: u16 },
    Tcp { port: u16 },
}

/// A running cluster. Stop it with [`Cluster::stop`]; dropping it stops it too.
#[derive(Debug)]
pub struct Cluster {
    pgdata: PathBuf,
    endpoint: Endpoint,
    /// `None` when attached to a server another Tern process runs (e.g. `tern admin create`
    /// while the shop is running): that one is left alone on stop.
    postmaster: Option<Postmaster>,
}

impl Cluster {
    /// Initialises the data directory if needed and starts the server. Blocking.
    pub fn start(config: &ClusterConfig) -> Result<Self, ClusterError> {
        let binaries = binaries::find(std::env::var("PATH").ok().as_deref(), Path::new("/usr/lib/postgresql"))?;
        let user = binaries::run_as()?;
        let pgdata = absolute(&config.pgdata)?;
        if let Some(parent) = pgdata.parent() {
            fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        }
        binaries::check_reachable(&pgdata, user)?;
        if !pgdata.join("PG_VERSION").exists() {
            init(&binaries, user, &pgdata, config)?;
        }
        if let Some(endpoint) = pidfile::running_server(&pgdata) {
            tracing::info!(cluster.pgdata = %pgdata.display(), "using the PostgreSQL server another Tern process runs");
            return Ok(Cluster { pgdata, endpoint, postmaster: None });
        }
        pidfile::clear_stale(&pgdata)?;

        let socket_fits = pgdata.join(format!(".s.PGSQL.{SOCKET_PORT}")).as_os_str().len() <= MAX_SOCKET_PATH;
        let endpoint = if socket_fits {
            Endpoint::Socket { dir: pgdata.clone(), port: SOCKET_PORT }
        } else {
            Endpoint::Tcp { port: free_loopback_port()? }
        };
        let mut command = Command::new(&binaries.postgres);
        command.arg("-D").arg(&pgdata);
        match &endpoint {
            Endpoint::Socket { dir, port } => {
                command.args(["-c", "listen_addresses=", "-p", &port.to_string(), "-k"]).arg(dir);
            }
            Endpoint::Tcp { port } => {
                command.args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string(), "-k", ""]);
            }
        }
        if !config.durable {
            command.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
            command.args(["-c", "max_connections=200"]);
        }
        let log = open_log(&config.log_file)?;
        let postmaster = Postmaster::spawn(command, user, log)?;
        let cluster = Cluster { pgdata, endpoint, postmaster: Some(postmaster) };
        cluster.wait_until_ready(&config.log_file)?;
        tracing::info!(cluster.pgdata = %cluster.pgdata.display(), "embedded PostgreSQL is ready");
        Ok(cluster)
    }

    fn wait_until_ready(&self, log_path: &Path) -> Result<(), ClusterError> {
        let Some(postmaster) = &self.postmaster else { return Ok(()) };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if postmaster.has_exited() {
                break;
            }
            if pidfile::is_ready(&self.pgdata, postmaster.pid()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                postmaster.stop();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(ClusterError::StartFailed { log_path: log_path.to_path_buf(), log: tail(log_path) })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// Connection options for one database of this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        let options = PgConnectOptions::new().username(SUPERUSER).database(database);
        match &self.endpoint {
            Endpoint::Socket { dir, port } => options.socket(dir).port(*port),
            Endpoint::Tcp { port } => options.host("127.0.0.1").port(*port),
        }
    }

    /// Fast shutdown: disconnects clients, writes a checkpoint, removes the pid file. Blocking.
    pub fn stop(self) {
        let Some(postmaster) = &self.postmaster else { return };
        postmaster.stop();
        tracing::info!(cluster.pgdata = %self.pgdata.display(), "embedded PostgreSQL stopped");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(postmaster) = &self.postmaster {
            postmaster.stop();
        }
    }
}

fn absolute(path: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(path).map_err(io(format!("resolving {}", path.display())))
}

fn init(binaries: &Binaries, user: RunAs, pgdata: &Path, config: &ClusterConfig) -> Result<(), ClusterError> {
    if pgdata.exists() && fs::read_dir(pgdata).map_err(io(format!("reading {}", pgdata.display())))?.next().is_some() {
        return Err(ClusterError::NotADataDirectory { path: pgdata.to_path_buf() });
    }
    fs::create_dir_all(pgdata).map_err(io(format!("creating {}", pgdata.display())))?;
    fs::set_permissions(pgdata, fs::Permissions::from_mode(0o700)).map_err(io("setting data directory mode"))?;
    if user.switch {
        std::os::unix::fs::chown(pgdata, Some(user.uid), Some(user.gid))
            .map_err(io(format!("giving {} to the postgres user", pgdata.display())))?;
    }
    tracing::info!(cluster.pgdata = %pgdata.display(), "initialising the embedded PostgreSQL cluster");
    let mut command = Command::new(&binaries.initdb);
    command.arg("-D").arg(pgdata).args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"]);
    if !config.durable {
        command.arg("--no-sync");
    }
    let log = open_log(&config.log_file)?;
    let status = process::run(command, user, log)?;
    if !status.success() {
        return Err(ClusterError::InitFailed { path: pgdata.to_path_buf(), log: tail(&config.log_file) });
    }
    Ok(())
}

fn open_log(path: &Path) -> Result<File, ClusterError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    OpenOptions::new().create(true).append(true).open(path).map_err(io(format!("opening {}", path.display())))
}

fn free_loopback_port() -> Result<u16, ClusterError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(io("finding a free loopback port"))?;
    Ok(listener.local_addr().map_err(io("finding a free loopback port"))?.port())
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
