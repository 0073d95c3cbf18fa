//! Reading `postmaster.pid`: readiness, and stale files left by a server that was killed.

use std::path::Path;
use std::time::Duration;

use super::ClusterError;

fn lines(pgdata: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    Some(text.lines().map(|l| l.trim().to_string()).collect())
}

/// True once the server with `pid` has written "ready" as its status (line 8).
pub fn is_ready(pgdata: &Path, pid: i32) -> bool {
    lines(pgdata).is_some_and(|l| l.len() >= 8 && l[0] == pid.to_string() && l[7] == "ready")
}

/// Whether `pid` is a live process: a zombie nobody has reaped yet is dead (it answers
/// signal 0, which is what makes PostgreSQL's own check refuse to start).
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM));
    exists && !zombie(pid)
}

fn zombie(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    stat.rsplit_once(')').and_then(|(_, after)| after.split_whitespace().next()) == Some("Z")
}

/// The socket lock files (`.s.PGSQL.<port>.lock`) in `dir` whose server is gone: PostgreSQL
/// refuses to start while one names a pid that still answers (a zombie does), so they go.
pub fn clear_stale_socket_locks(dir: &Path) -> Result<(), ClusterError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(".s.PGSQL.") && name.ends_with(".lock")) {
            continue;
        }
        let pid: i32 = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            .unwrap_or(0);
        if !alive(pid) {
            tracing::warn!(pid, file = %name, "removing a stale socket lock left by a server that is gone");
            std::fs::remove_file(entry.path())
                .map_err(|source| ClusterError::Io { context: format!("removing {name}"), source })?;
            let _ = std::fs::remove_file(dir.join(name.trim_end_matches(".lock")));
        }
    }
    Ok(())
}

/// Whether `pid` is a postgres server for this data directory, and its parent pid.
fn postgres_serving(pid: i32, pgdata: &Path) -> Option<i32> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let is_postgres = args.first().is_some_and(|a| a.ends_with("postgres"));
    let same_dir = args.iter().any(|a| Path::new(a) == pgdata);
    if !(is_postgres && same_dir) {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses: state, ppid, ...
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// A ready server of this data directory whose parent (another Tern) is alive: where to reach it.
pub fn running_server(pgdata: &Path) -> Option<super::Endpoint> {
    let lines = lines(pgdata)?;
    let pid: i32 = lines.first()?.parse().ok()?;
    if !alive(pid) || lines.get(7).map(String::as_str) != Some("ready") {
        return None;
    }
    let parent = postgres_serving(pid, pgdata)?;
    if parent <= 1 {
        return None;
    }
    let port: u16 = lines.get(3)?.parse().ok()?;
    let socket_dir = lines.get(4).filter(|d| !d.is_empty());
    Some(match socket_dir {
        Some(dir) => super::Endpoint::Socket { dir: dir.into(), port },
        None => super::Endpoint::Tcp { port },
    })
}

/// Makes a start possible after a crash: a pid file whose process is gone, or is now some
/// other program (pids are reused after a reboot), is removed; an orphaned server of this
/// data directory (its Tern was killed without the usual parent-death signal) is shut down;
/// stale socket locks are removed.
pub fn clear_stale(pgdata: &Path) -> Result<(), ClusterError> {
    clear_stale_pid_file(pgdata)?;
    clear_stale_socket_locks(pgdata)
}

fn clear_stale_pid_file(pgdata: &Path) -> Result<(), ClusterError> {
    let Some(lines) = lines(pgdata) else {
        return Ok(());
    };
    let pid: i32 = lines.first().and_then(|l| l.parse().ok()).unwrap_or(0);
    if alive(pid) {
        match postgres_serving(pid, pgdata) {
            Some(1) => {
                tracing::warn!(pid, "shutting down an orphaned PostgreSQL server of this data directory");
                // SAFETY: kill(2) on a process we identified as our orphaned server.
                unsafe { libc::kill(pid, libc::SIGINT) };
                for _ in 0..600 {
                    if !alive(pid) {
                        return Ok(());
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                return Err(ClusterError::InUse { pid, path: pgdata.to_path_buf() });
            }
            Some(_) => {
                return Err(ClusterError::InUse { pid, path: pgdata.to_path_buf() });
            }
            // Some other program now has that pid (a killed server is a zombie, not alive).
            None => {}
        }
    }
    if let Some(segment) = shared_memory(&lines) {
        wait_until_detached(segment, pid, pgdata)?;
    }
    tracing::warn!(pid, "removing a stale postmaster.pid left by a server that is no longer running");
    std::fs::remove_file(pgdata.join("postmaster.pid"))
        .map_err(|source| ClusterError::Io { context: "removing a stale postmaster.pid".into(), source })
}

/// The System V shared memory segment a server's pid file names (line 7: its key and id).
fn shared_memory(lines: &[String]) -> Option<(i32, i32)> {
    let mut fields = lines.get(6)?.split_whitespace();
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// How many processes are still attached to segment `(key, id)`: 0 once it is gone (or the id
/// now names another key's segment).
fn attached((key, id): (i32, i32)) -> u64 {
    // SAFETY: a zeroed shmid_ds is valid; IPC_STAT only fills it in.
    let mut info: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: IPC_STAT on an id we only read about; a wrong id fails with EINVAL.
    if unsafe { libc::shmctl(id, libc::IPC_STAT, &mut info) } != 0 || info.shm_perm.__key != key {
        return 0;
    }
    info.shm_nattch as u64
}

/// Waits (up to 60 s) for the processes of a killed postmaster to leave its shared memory.
/// Its backends and helpers outlive it until each notices it is gone, and PostgreSQL refuses
/// to start while any is still attached ("pre-existing shared memory block ... is still in
/// use"), which a start right after a crash would otherwise run into.
fn wait_until_detached(segment: (i32, i32), pid: i32, pgdata: &Path) -> Result<(), ClusterError> {
    for wait in 0..600 {
        let left = attached(segment);
        if left == 0 {
            return Ok(());
        }
        if wait == 0 {
            tracing::warn!(pid, processes = left, "waiting for the killed server's processes to exit");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(ClusterError::InUse { pid, path: pgdata.to_path_buf() })
}
