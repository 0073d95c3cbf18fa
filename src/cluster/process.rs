//! Running the PostgreSQL binaries as the right user, and supervising the postmaster.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use super::ClusterError;
use super::binaries::RunAs;

fn configure(command: &mut Command, user: RunAs, log: File) -> Result<(), ClusterError> {
    let err_log =
        log.try_clone().map_err(|source| ClusterError::Io { context: "duplicating the log file".into(), source })?;
    command.stdin(Stdio::null()).stdout(log).stderr(err_log);
    // Its own process group: a Ctrl-C in the terminal reaches Tern, which then stops the
    // server in order, instead of reaching the server directly.
    command.process_group(0);
    if user.switch {
        command.uid(user.uid).gid(user.gid);
    }
    Ok(())
}

/// Runs a command to completion (initdb).
pub fn run(mut command: Command, user: RunAs, log: File) -> Result<ExitStatus, ClusterError> {
    configure(&mut command, user, log)?;
    command
        .status()
        .map_err(|source| ClusterError::Io { context: format!("running {:?}", command.get_program()), source })
}

/// The running `postgres` server process.
#[derive(Debug)]
pub struct Postmaster {
    pid: i32,
    exited: Arc<(Mutex<bool>, Condvar)>,
}

impl Postmaster {
    /// Starts the server. A dedicated thread spawns it and waits for it: the parent-death
    /// signal fires when that thread ends, and it only ends once the server has exited or
    /// the whole process is gone.
    pub fn spawn(mut command: Command, user: RunAs, log: File) -> Result<Self, ClusterError> {
        configure(&mut command, user, log)?;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure only makes async-signal-safe system calls.
        unsafe {
            command.pre_exec(move || {
                // SIGINT is PostgreSQL's fast shutdown.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("parent exited before the server started"));
                }
                Ok(())
            });
        }
        let exited = Arc::new((Mutex::new(false), Condvar::new()));
        let (tx, rx) = mpsc::channel();
        let flag = exited.clone();
        std::thread::Builder::new()
            .name("postmaster".into())
            .spawn(move || match command.spawn() {
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
                Ok(mut child) => {
                    let _ = tx.send(Ok(child.id()));
                    let _ = child.wait();
                    let (lock, cv) = &*flag;
                    *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    cv.notify_all();
                }
            })
            .map_err(|source| ClusterError::Io { context: "starting the supervisor thread".into(), source })?;
        let pid = rx
            .recv()
            .map_err(|_| ClusterError::Io {
                context: "starting postgres".into(),
                source: std::io::Error::other("supervisor thread died"),
            })?
            .map_err(|source| ClusterError::Io { context: "starting postgres".into(), source })?;
        Ok(Self { pid: pid as i32, exited })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn has_exited(&self) -> bool {
        *self.exited.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.exited;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cv.wait_timeout_while(guard, timeout, |exited| !*exited).unwrap_or_else(|e| e.into_inner());
        *guard
    }

    /// Fast shutdown, escalating to immediate shutdown and then SIGKILL if it hangs.
    pub fn stop(&self) {
        for (signal, patience) in [
            (libc::SIGINT, Duration::from_secs(60)),
            (libc::SIGQUIT, Duration::from_secs(10)),
            (libc::SIGKILL, Duration::from_secs(10)),
        ] {
            if self.has_exited() {
                return;
            }
            // SAFETY: kill(2) with a pid we spawned and have not yet reaped.
            unsafe { libc::kill(self.pid, signal) };
            if self.wait(patience) {
                return;
            }
        }
    }
}
