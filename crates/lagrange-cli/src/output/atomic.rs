//! Output files that are never damaged: all-or-nothing regular files, and write-through for
//! devices, FIFOs and stdout.
//!
//! What happens depends on what the target is (decided with [`fs::metadata`], which follows
//! symbolic links):
//! - a missing path or a regular file: the bytes go to a temporary file beside it, renamed over
//!   it on [`commit`](AtomicFile::commit). A symbolic link to a regular file is resolved first,
//!   so the rename replaces the file it points to and the link survives. The replaced file's
//!   permissions are kept.
//! - a character device (`/dev/null`, a terminal) or a FIFO, and `-` (stdout): the bytes go to a
//!   temporary file in the system's temp folder, copied into the target on commit; the target is
//!   only ever opened for writing, never created, removed or replaced.
//! - a directory, a block device, a socket or a link to a missing file: an error.
//!
//! A temporary file that was not committed is removed on drop, and by the signal handler of
//! [`remove_temp_files_on_signal`] on SIGINT, SIGTERM and SIGHUP, so neither an error nor an
//! interrupted run leaves one behind.

use anyhow::{Context, Result, bail};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Temporary files that exist now and are not committed: what a signal must remove.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock must not stop the cleanup.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unregister(list: &mut Vec<PathBuf>, path: &Path) {
    list.retain(|p| p != path);
}

/// On SIGINT, SIGTERM or SIGHUP: removes every live temporary file and exits with
/// 128 + the signal number (130, 143, 129). Call once, at start.
pub fn remove_temp_files_on_signal() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("cannot install the signal handler")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until exit, so that no commit renames a file half-way through this.
                let list = live();
                for path in list.iter() {
                    let _ = fs::remove_file(path);
                }
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                let _ = writeln!(io::stderr(), "error: interrupted by {name}");
                std::process::exit(128 + signal);
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// What an output path is, as far as writing to it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// `-`: standard output.
    Stdout,
    /// Nothing there yet (its folder exists).
    Missing,
    /// A regular file, at this path after resolving symbolic links.
    Regular(PathBuf),
    /// A character device or a FIFO: written through, never replaced.
    Stream,
}

/// Classifies `path` for writing; `flag` names the option in messages (e.g. `--out`).
///
/// Fails for an empty path, a directory, a block device, a socket, a link to nothing, and a
/// path whose folder is missing or is not a folder.
pub fn check_target(path: &Path, flag: &str) -> Result<TargetKind> {
    if path.as_os_str().is_empty() {
        bail!("{flag} needs a file name");
    }
    if path == Path::new("-") {
        return Ok(TargetKind::Stdout);
    }
    let shown = path.display();
    match fs::metadata(path) {
        Ok(meta) => {
            let kind = meta.file_type();
            if kind.is_file() {
                let resolved = fs::canonicalize(path)
                    .with_context(|| format!("{flag} '{shown}': cannot resolve the path"))?;
                return Ok(TargetKind::Regular(resolved));
            }
            if kind.is_dir() {
                bail!("{flag} '{shown}' is a directory");
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if kind.is_char_device() || kind.is_fifo() {
                    return Ok(TargetKind::Stream);
                }
                if kind.is_block_device() {
                    bail!("{flag} '{shown}' is a block device (refusing to write a file onto it)");
                }
                if kind.is_socket() {
                    bail!("{flag} '{shown}' is a socket (cannot write a file to it)");
                }
            }
            bail!("{flag} '{shown}' is not a regular file, device or FIFO")
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Ok(link) = fs::read_link(path) {
                bail!(
                    "{flag} '{shown}' is a symbolic link to '{}', which does not exist",
                    link.display()
                );
            }
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            match fs::metadata(parent) {
                Ok(meta) if meta.is_dir() => Ok(TargetKind::Missing),
                Ok(_) => bail!("{flag} '{shown}': '{}' is not a folder", parent.display()),
                Err(_) => bail!(
                    "{flag} '{shown}': folder '{}' does not exist",
                    parent.display()
                ),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            // a path through a regular file ("file.txt/out.csv"): fails for root too
            let file = path
                .ancestors()
                .skip(1)
                .find(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()))
                .unwrap_or(path);
            bail!("{flag} '{shown}': '{}' is not a folder", file.display())
        }
        Err(e) => Err(e).with_context(|| format!("{flag} '{shown}'")),
    }
}

/// Where the bytes go on commit.
enum Destination {
    /// Rename the temporary file over this path.
    Rename(PathBuf),
    /// Copy the temporary file's bytes into this device or FIFO (`None`: stdout).
    Copy(Option<PathBuf>),
}

/// A temporary file that becomes `target` on [`commit`](AtomicFile::commit) (see the module
/// documentation for devices, FIFOs and stdout).
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    destination: Destination,
    committed: bool,
}

impl AtomicFile {
    /// Reserves a temporary path (same extension as `target`, so that writers that look at it
    /// pick the right encoding) and creates it empty. `-` is stdout.
    pub fn new(target: &Path) -> Result<Self> {
        let (dir, destination) = match check_target(target, "output")? {
            TargetKind::Stdout => (std::env::temp_dir(), Destination::Copy(None)),
            TargetKind::Stream => (
                std::env::temp_dir(),
                Destination::Copy(Some(target.to_path_buf())),
            ),
            TargetKind::Missing => (folder_of(target), Destination::Rename(target.to_path_buf())),
            TargetKind::Regular(resolved) => (folder_of(&resolved), Destination::Rename(resolved)),
        };
        let name = match &destination {
            Destination::Rename(path) => path.file_name(),
            Destination::Copy(_) => None,
        }
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lagrange-output".to_string());
        let ext = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}-{unique}.tmp{ext}", std::process::id()));
        {
            // registered before it exists, so that a signal right after creation removes it
            let mut list = live();
            list.push(temp.clone());
            if let Err(e) = OpenOptions::new().write(true).create_new(true).open(&temp) {
                unregister(&mut list, &temp);
                return Err(e).with_context(|| format!("cannot create '{}'", target.display()));
            }
        }
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            destination,
            committed: false,
        })
    }

    /// The temporary path to write to.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Opens the temporary file for writing (truncating it).
    pub fn file(&self) -> Result<File> {
        File::create(&self.temp)
            .with_context(|| format!("cannot write '{}'", self.target.display()))
    }

    /// Flushes the written file to disk (before [`commit`](Self::commit)), so that a crash
    /// after the rename cannot leave an empty file in place of the output.
    pub fn sync(&self) -> Result<()> {
        File::open(&self.temp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write '{}'", self.target.display()))
    }

    /// Puts the finished file in place: renames it over a regular target, or copies its bytes
    /// into a device, FIFO or stdout.
    pub fn commit(mut self) -> Result<()> {
        let shown = self.target.display().to_string();
        match &self.destination {
            Destination::Rename(dest) => {
                if let Some(meta) = fs::metadata(dest).ok().filter(|m| m.is_file()) {
                    // the replaced file keeps its permissions
                    let _ = fs::set_permissions(&self.temp, meta.permissions());
                }
                let mut list = live();
                fs::rename(&self.temp, dest).with_context(|| format!("cannot create '{shown}'"))?;
                unregister(&mut list, &self.temp);
            }
            Destination::Copy(dest) => {
                // Not under the lock: writing into a FIFO can block, and a signal must still
                // be able to remove the temporary file meanwhile.
                let mut source =
                    File::open(&self.temp).with_context(|| format!("cannot write '{shown}'"))?;
                match dest {
                    None => {
                        let stdout = io::stdout();
                        let mut lock = stdout.lock();
                        io::copy(&mut source, &mut lock)
                            .and_then(|_| lock.flush())
                            .context("writing to stdout")?;
                    }
                    Some(path) => {
                        // write(true) without create/truncate: opens the existing node only
                        let mut sink = OpenOptions::new()
                            .write(true)
                            .open(path)
                            .with_context(|| format!("cannot write '{shown}'"))?;
                        io::copy(&mut source, &mut sink)
                            .and_then(|_| sink.flush())
                            .with_context(|| format!("cannot write '{shown}'"))?;
                    }
                }
                let mut list = live();
                let _ = fs::remove_file(&self.temp);
                unregister(&mut list, &self.temp);
            }
        }
        self.committed = true;
        Ok(())
    }
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let mut list = live();
            let _ = fs::remove_file(&self.temp);
            unregister(&mut list, &self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.csv");
        {
            let f = AtomicFile::new(&target).unwrap();
            assert!(f.temp_path().to_string_lossy().ends_with(".csv"));
            f.file().unwrap().write_all(b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let f = AtomicFile::new(&target).unwrap();
        let temp = f.temp_path().to_path_buf();
        f.file().unwrap().write_all(b"done").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "done");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // (other tests of this binary may hold temporary files of their own right now)
        assert!(!live().contains(&temp));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_survives_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let f = AtomicFile::new(&link).unwrap();
        f.file().unwrap().write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_is_written_through() {
        use std::os::unix::fs::FileTypeExt;
        let f = AtomicFile::new(Path::new("/dev/null")).unwrap();
        assert!(!f.temp_path().starts_with("/dev"));
        f.file().unwrap().write_all(b"gone").unwrap();
        let temp = f.temp_path().to_path_buf();
        f.commit().unwrap();
        assert!(!temp.exists());
        let kind = fs::symlink_metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device());
    }

    #[test]
    fn refuses_folders_and_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_target(dir.path(), "--out").is_err());
        assert!(check_target(&dir.path().join("no/x.csv"), "--out").is_err());
        let file = dir.path().join("f");
        fs::write(&file, "").unwrap();
        let e = check_target(&file.join("x.csv"), "--out").unwrap_err();
        assert!(format!("{e:#}").contains("--out"), "{e:#}");
        assert_eq!(
            check_target(Path::new("-"), "--out").unwrap(),
            TargetKind::Stdout
        );
    }
}
