//! Files a command writes on request (`export -o`, `report -o`): never inside a
//! workspace's store nor over its configuration, and written atomically, so that a
//! killed export leaves the previous file whole.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::CONFIG_FILE;
use crate::error::{IoContext, Result, StoreError};

/// An output file being written: a temporary file beside the target, renamed over it
/// by [`OutputFile::commit`] and removed if dropped before. A target that exists and is
/// not a regular file (a FIFO, `/dev/stdout`) is written directly.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    tmp: Option<PathBuf>,
    file: io::BufWriter<File>,
}

impl OutputFile {
    /// Opens `path` for writing, refusing a path inside any workspace's `store/` or a
    /// workspace's `cxkpi.toml` (a usage error).
    pub fn create(path: &Path) -> Result<OutputFile> {
        let resolved = resolve(path)?;
        if let Some(problem) = protected(&resolved) {
            return Err(StoreError::Usage(format!(
                "refusing to write {}: {problem}; choose a file outside the store",
                path.display()
            )));
        }
        let special = fs::metadata(path).is_ok_and(|m| !m.is_file());
        if special {
            let file = File::create(path).context(|| format!("opening {}", path.display()))?;
            return Ok(OutputFile {
                target: path.to_path_buf(),
                tmp: None,
                file: io::BufWriter::new(file),
            });
        }
        let name = path
            .file_name()
            .ok_or_else(|| StoreError::Usage(format!("{} names no file", path.display())))?;
        let tmp = path.with_file_name(format!(
            ".{}.cxkpi-tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&tmp).context(|| format!("creating {}", tmp.display()))?;
        Ok(OutputFile {
            target: path.to_path_buf(),
            tmp: Some(tmp),
            file: io::BufWriter::new(file),
        })
    }

    /// Finishes the file and puts it in place of the target.
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.clone();
        self.file
            .flush()
            .and_then(|()| self.file.get_ref().sync_all())
            .context(|| format!("writing {}", target.display()))?;
        if let Some(tmp) = self.tmp.take() {
            fs::rename(&tmp, &target)
                .context(|| format!("renaming {} to {}", tmp.display(), target.display()))?;
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(tmp) = &self.tmp {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// The absolute path `path` names, through symbolic links (of the part that exists).
fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context(|| "reading the current directory".to_string())?
            .join(path)
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(resolved) = fs::canonicalize(existing) {
            return Ok(rest.iter().rev().fold(resolved, |p, c| p.join(c)));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(absolute),
        }
    }
}

/// Why writing the resolved path would damage a workspace, if it would.
fn protected(resolved: &Path) -> Option<String> {
    let is_workspace = |dir: &Path| dir.join(CONFIG_FILE).is_file() && dir.join("store").is_dir();
    if resolved.file_name().is_some_and(|n| n == CONFIG_FILE)
        && resolved.parent().is_some_and(is_workspace)
    {
        return Some("it is a workspace's configuration".into());
    }
    for dir in resolved.ancestors().skip(1) {
        if dir.file_name().is_some_and(|n| n == "store") && dir.parent().is_some_and(is_workspace) {
            return Some(format!("it is inside the store {}", dir.display()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_store_and_the_configuration_and_replaces_atomically() {
        let ws = tempfile::tempdir().unwrap();
        crate::Store::init(ws.path()).unwrap();
        for path in [
            ws.path().join("store/manifest.json"),
            ws.path().join("store/orders/x.parquet"),
            ws.path().join("store/new.csv"),
            ws.path().join("cxkpi.toml"),
            ws.path().join("store/../cxkpi.toml"),
        ] {
            let err = OutputFile::create(&path).unwrap_err();
            assert!(matches!(err, StoreError::Usage(_)), "{path:?}: {err}");
        }
        let before = fs::read_to_string(ws.path().join("cxkpi.toml")).unwrap();
        assert!(before.contains("[workspace]"));

        let out = ws.path().join("out.csv");
        fs::write(&out, "old").unwrap();
        let mut file = OutputFile::create(&out).unwrap();
        file.write_all(b"new").unwrap();
        // Until the commit the old file is whole; a dropped output leaves it.
        assert_eq!(fs::read_to_string(&out).unwrap(), "old");
        drop(file);
        assert_eq!(fs::read_to_string(&out).unwrap(), "old");
        let mut file = OutputFile::create(&out).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), "new");
        let names: Vec<_> = fs::read_dir(ws.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("cxkpi-tmp"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        // A file named cxkpi.toml outside a workspace is an ordinary output.
        let elsewhere = tempfile::tempdir().unwrap();
        OutputFile::create(&elsewhere.path().join("cxkpi.toml"))
            .unwrap()
            .commit()
            .unwrap();
    }
}
