//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cxkpi_core::entity::Entity;
use cxkpi_store::{ExportFormat, ImportOptions, ImportSummary, Input, NoProgress, Store};

pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

/// A fresh workspace in the given time zone.
pub fn workspace(time_zone: &str) -> Workspace {
    let dir = tempfile::tempdir().unwrap();
    Store::init(dir.path()).unwrap();
    let config = dir.path().join(cxkpi_store::CONFIG_FILE);
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        "time_zone = \"UTC\"",
        &format!("time_zone = \"{time_zone}\""),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let store = Store::open(dir.path()).unwrap();
    Workspace { dir, store }
}

impl Workspace {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes an input file into the workspace's `inputs/` folder.
    pub fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let dir = self.path().join("inputs");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn import(&self, entity: Entity, files: &[&Path]) -> ImportSummary {
        self.import_with(entity, files, false)
    }

    /// Imports one file and returns the outcome, errors included.
    pub fn try_import(&self, entity: Entity, file: &Path) -> cxkpi_store::Result<ImportSummary> {
        let input = Input::from_arg(file.to_str().unwrap(), None);
        self.store
            .import(entity, &[input], &ImportOptions::default(), &NoProgress)
    }

    pub fn import_with(&self, entity: Entity, files: &[&Path], strict: bool) -> ImportSummary {
        let inputs: Vec<Input> = files
            .iter()
            .map(|f| Input::from_arg(f.to_str().unwrap(), None))
            .collect();
        self.store
            .import(
                entity,
                &inputs,
                &ImportOptions {
                    strict,
                    ..ImportOptions::default()
                },
                &NoProgress,
            )
            .unwrap()
    }

    /// The table as CSV (the export path).
    pub fn export(&self, entity: Entity) -> String {
        export(&self.store, entity)
    }
}

pub fn export(store: &Store, entity: Entity) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let snapshot = store.snapshot().unwrap();
    let mut out = Vec::new();
    runtime
        .block_on(cxkpi_store::export(
            &snapshot,
            entity,
            ExportFormat::Csv,
            &mut out,
        ))
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// The rows of the rejects file: (source file name, line, column, value, reason).
pub fn rejects(summary: &ImportSummary) -> Vec<(String, u64, String, String, String)> {
    let Some(path) = &summary.rejects_file else {
        return Vec::new();
    };
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let source = Path::new(&r[0])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            (
                source,
                r[1].parse().unwrap(),
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
            )
        })
        .collect()
}
