//! The churn model on a plain customer table (attribute columns and a churned flag,
//! such as IBM's Telco customer-churn sample), cross-validated, with no workspace.

use std::path::{Path, PathBuf};

use cxkpi_core::churn::{
    CrossValidation, Encoder, Evaluation, Logistic, RawFeatures, cross_validate, split_columns,
};
use cxkpi_core::parse::parse_bool;
use cxkpi_core::threads::Threads;

use crate::error::{AppError, ErrorKind, Result};

/// A table read from CSV: feature columns and rows, labels and ids.
#[derive(Debug, Clone)]
pub struct Table {
    /// Numeric feature columns.
    pub numeric: Vec<String>,
    /// Categorical feature columns.
    pub categorical: Vec<String>,
    /// The rows' features.
    pub rows: Vec<RawFeatures>,
    /// Whether each row churned.
    pub churned: Vec<bool>,
    /// Each row's id (with an id column).
    pub ids: Vec<String>,
}

/// The cross-validated model of a table.
#[derive(Debug)]
pub struct TableModel {
    /// The file read.
    pub file: PathBuf,
    /// The table.
    pub table: Table,
    /// Folds.
    pub folds: usize,
    /// The cross-validation: row i is held out in fold i % folds.
    pub cv: CrossValidation,
    /// The model trained on every row.
    pub model: Logistic,
    /// Seconds taken by the fits.
    pub seconds: f64,
}

impl TableModel {
    /// The mean of the folds' AUCs (`None` when a fold has none).
    pub fn mean_auc(&self) -> Option<f64> {
        mean_auc(&self.cv.folds)
    }

    /// Rows that churned.
    pub fn churned(&self) -> usize {
        self.table.churned.iter().filter(|c| **c).count()
    }
}

fn mean_auc(folds: &[(Encoder, Logistic, Evaluation)]) -> Option<f64> {
    let aucs: Option<Vec<f64>> = folds.iter().map(|(_, _, v)| v.auc.map(|a| a.0)).collect();
    aucs.map(|a| a.iter().sum::<f64>() / a.len() as f64)
}

/// Reads `file` (every column but `label` and `id` is a feature) and cross-validates
/// the churn model over `folds` folds on `threads`.
pub fn run(
    file: &Path,
    label: &str,
    id: Option<&str>,
    folds: usize,
    threads: Threads,
) -> Result<TableModel> {
    if folds < 2 {
        return Err(AppError::usage(format!(
            "--folds must be at least 2, not {folds}"
        )));
    }
    let table = read(file, label, id)?;
    if table.rows.len() < folds {
        return Err(AppError::usage(format!(
            "{}: {} rows cannot make {folds} folds",
            file.display(),
            table.rows.len()
        )));
    }
    let started = std::time::Instant::now();
    let cv = cross_validate(
        &table.numeric,
        &table.categorical,
        &table.rows,
        &table.churned,
        folds,
        threads,
    )
    .ok_or_else(|| {
        AppError::new(
            ErrorKind::Invalid,
            format!(
                "{}: a fold's training rows are all churned or all not churned",
                file.display()
            ),
        )
    })?;
    let (_, model) = cxkpi_core::churn::train(
        &table.numeric,
        &table.categorical,
        &table.rows,
        &table.churned,
        threads,
    )
    .expect("both outcomes, as the folds had them");
    Ok(TableModel {
        file: file.to_path_buf(),
        table,
        folds,
        cv,
        model,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn read(file: &Path, label: &str, id: Option<&str>) -> Result<Table> {
    let unreadable = |e: csv::Error| {
        AppError::new(
            ErrorKind::Invalid,
            format!("reading {}: {e}", file.display()),
        )
    };
    let mut reader = csv::Reader::from_path(file).map_err(|e| {
        AppError::new(
            ErrorKind::NotFound,
            format!("opening {}: {e}", file.display()),
        )
    })?;
    let header: Vec<String> = reader
        .headers()
        .map_err(unreadable)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let find = |name: &str, what: &str| -> Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            AppError::usage(format!(
                "{}: no {what} column `{name}`; the columns are: {}",
                file.display(),
                header.join(", ")
            ))
        })
    };
    let label_at = find(label, "label")?;
    let id_at = id.map(|id| find(id, "id")).transpose()?;
    let features: Vec<usize> = (0..header.len())
        .filter(|&j| j != label_at && Some(j) != id_at)
        .collect();
    let mut cells: Vec<Vec<Option<String>>> = Vec::new();
    let (mut churned, mut ids) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        let line = record.position().map_or(0, |p| p.line());
        let flag = record.get(label_at).unwrap_or_default();
        churned.push(parse_bool(flag.trim()).map_err(|_| {
            AppError::usage(format!(
                "{}:{line}: column {} (`{label}`): `{flag}` is not a churned flag (yes/no, true/false, 1/0)",
                file.display(),
                label_at + 1
            ))
        })?);
        if let Some(at) = id_at {
            ids.push(record.get(at).unwrap_or_default().to_string());
        }
        cells.push(
            features
                .iter()
                .map(|&j| record.get(j).map(|cell| cell.trim().to_string()))
                .collect(),
        );
    }
    let names: Vec<String> = features.iter().map(|&j| header[j].clone()).collect();
    let (numeric, categorical, rows) = split_columns(&names, cells);
    Ok(Table {
        numeric,
        categorical,
        rows,
        churned,
        ids,
    })
}
