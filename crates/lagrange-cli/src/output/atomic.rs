//! All-or-nothing output files: write to a temporary file in the target folder, then rename it
//! over the target on success. A temporary file that was not committed is removed on drop, so
//! an error (or Ctrl-C between writes) never leaves a partial output behind.

use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A temporary file that becomes `target` on [`commit`](AtomicFile::commit).
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Reserves a temporary path beside `target` (same extension, so that writers that look
    /// at it pick the right encoding) and creates it empty.
    pub fn new(target: &Path) -> Result<Self> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".to_string());
        let ext = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}-{unique}.tmp{ext}", std::process::id()));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .with_context(|| format!("cannot create '{}'", target.display()))?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
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

    /// Moves the finished file into place.
    pub fn commit(mut self) -> Result<()> {
        fs::rename(&self.temp, &self.target)
            .with_context(|| format!("cannot create '{}'", self.target.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
        f.file().unwrap().write_all(b"done").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "done");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
