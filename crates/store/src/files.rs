//! File modes of what Onramp keeps on disk: the data directory is the
//! operator's alone (0700), and so are the SQLite database, its `-wal` and
//! `-shm`, backups and the master key (0600). Modes are set when a file is
//! created, before anything is written to it, so they do not depend on the
//! umask; files and directories found looser are narrowed (and the caller
//! warns).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Read and write for the owner only.
pub const PRIVATE_FILE: u32 = 0o600;
/// Everything for the owner only.
pub const PRIVATE_DIR: u32 = 0o700;

/// Creates `path`, empty and private; fails if it exists (so it never
/// replaces a file, and two processes cannot both create it).
///
/// # Errors
/// `AlreadyExists`, or why the file cannot be created.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(PRIVATE_FILE);
    options.open(path)
}

/// Creates the directory `path` (and missing parents) private, or narrows
/// it if it exists with more rights. Returns whether it was narrowed.
///
/// # Errors
/// Why the directory cannot be created or changed.
pub fn private_dir(path: &Path) -> io::Result<bool> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(PRIVATE_DIR);
    builder.create(path)?;
    tighten(path, PRIVATE_DIR)
}

/// Narrows `path` to `mode` if it grants anything more; a missing file is
/// left alone. Returns whether the mode changed.
///
/// # Errors
/// Why the file's mode cannot be read or set.
pub fn tighten(path: &Path, mode: u32) -> io::Result<bool> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        if meta.permissions().mode() & 0o777 & !mode == 0 {
            return Ok(false);
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        Ok(true)
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, mode);
        Ok(false)
    }
}

/// Whether anyone but the owner may read `path`.
///
/// # Errors
/// Why the file's mode cannot be read.
pub fn readable_by_others(path: &Path) -> io::Result<bool> {
    let meta = fs::metadata(path)?;
    #[cfg(unix)]
    {
        Ok(meta.permissions().mode() & 0o004 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(false)
    }
}
