//! Finding the machine's PostgreSQL server binaries and the system user to run them as.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use super::ClusterError;

/// The two server binaries the embedded cluster needs.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub initdb: PathBuf,
    pub postgres: PathBuf,
}

/// Looks for `initdb` and `postgres` in the directories of `path_var` (a `PATH` value),
/// then under `<lib_root>/<version>/bin`, newest version first.
pub fn find(path_var: Option<&str>, lib_root: &Path) -> Result<Binaries, ClusterError> {
    let mut dirs: Vec<PathBuf> = path_var.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir(lib_root) {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((v, e.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        dirs.extend(versions.into_iter().map(|(_, d)| d));
    }
    dirs.into_iter()
        .find(|d| is_executable(&d.join("initdb")) && is_executable(&d.join("postgres")))
        .map(|d| Binaries { initdb: d.join("initdb"), postgres: d.join("postgres") })
        .ok_or(ClusterError::NoBinaries)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The user the cluster runs as: ourselves, or the `postgres` system user when we are root
/// (PostgreSQL refuses to run as root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
    /// True when we must switch to this user to run the binaries.
    pub switch: bool,
}

pub fn run_as() -> Result<RunAs, ClusterError> {
    // SAFETY: geteuid/getegid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid != 0 {
        return Ok(RunAs { uid, gid, switch: false });
    }
    let name = CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns NULL or a pointer to a static passwd record that we read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(ClusterError::NoPostgresUser);
    }
    // SAFETY: pw is non-null and points to a valid passwd record.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(RunAs { uid, gid, switch: true })
}

/// Checks that `user` can reach `dir`: every existing ancestor must be searchable by it.
pub fn check_reachable(dir: &Path, user: RunAs) -> Result<(), ClusterError> {
    use std::os::unix::fs::MetadataExt;
    if !user.switch {
        return Ok(());
    }
    for ancestor in dir.ancestors().skip(1) {
        let Ok(meta) = ancestor.metadata() else {
            continue;
        };
        let mode = meta.mode();
        let searchable = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !searchable {
            return Err(ClusterError::Unreachable { dir: dir.to_path_buf(), blocker: ancestor.to_path_buf() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_bin(dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn prefers_path_then_the_newest_versioned_directory() {
        let root = tempfile::tempdir().unwrap();
        let lib = root.path().join("lib");
        for v in ["13", "16"] {
            fake_bin(&lib.join(v).join("bin"), "initdb");
            fake_bin(&lib.join(v).join("bin"), "postgres");
        }
        let found = find(None, &lib).unwrap();
        assert_eq!(found.postgres, lib.join("16/bin/postgres"));

        let on_path = root.path().join("path");
        fake_bin(&on_path, "initdb");
        fake_bin(&on_path, "postgres");
        let path_var = std::env::join_paths([root.path().join("nothing"), on_path.clone()]).unwrap();
        let found = find(path_var.to_str(), &lib).unwrap();
        assert_eq!(found.initdb, on_path.join("initdb"));
    }

    #[test]
    fn no_binaries_names_the_package_and_the_alternative() {
        let root = tempfile::tempdir().unwrap();
        fake_bin(root.path(), "initdb"); // postgres itself is missing
        let err = find(root.path().to_str(), &root.path().join("lib")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert!(text.contains("DATABASE_URL"), "{text}");
    }

    #[test]
    fn an_unsearchable_ancestor_is_reported() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let locked = root.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
        let user = RunAs { uid: 54321, gid: 54321, switch: true };
        let err = check_reachable(&locked.join("data/postgres"), user).unwrap_err();
        assert!(matches!(err, ClusterError::Unreachable { ref blocker, .. } if *blocker == locked), "{err}");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        check_reachable(&locked.join("data/postgres"), user).unwrap();
    }
}
