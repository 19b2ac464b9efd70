//! `cxkpi churn table FILE --label COLUMN`: the churn model on a plain customer table
//! (attribute columns and a churned flag, such as IBM's Telco customer-churn sample),
//! cross-validated, with no workspace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use cxkpi_core::churn::{
    Encoder, Evaluation, Logistic, RawFeatures, cross_validate, split_columns,
};
use cxkpi_core::parse::parse_bool;
use cxkpi_core::threads::Threads;
use cxkpi_store::StoreError;
use serde_json::json;

use cxkpi_app::churn::factor_label;
use cxkpi_app::render::churn::{write_calibration, write_effects};

/// A table read from CSV: feature columns and rows, labels and ids.
struct Table {
    numeric: Vec<String>,
    categorical: Vec<String>,
    rows: Vec<RawFeatures>,
    churned: Vec<bool>,
    ids: Vec<String>,
}

pub fn run(
    file: &Path,
    label: &str,
    id: Option<&str>,
    folds: usize,
    format: &str,
    scores: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    if folds < 2 {
        return Err(StoreError::Usage(format!("--folds must be at least 2, not {folds}")).into());
    }
    let table = read(file, label, id)?;
    if table.rows.len() < folds {
        return Err(StoreError::Usage(format!(
            "{}: {} rows cannot make {folds} folds",
            file.display(),
            table.rows.len()
        ))
        .into());
    }
    let started = std::time::Instant::now();
    let cv = cross_validate(
        &table.numeric,
        &table.categorical,
        &table.rows,
        &table.churned,
        folds,
        Threads::available(),
    )
    .with_context(|| {
        format!(
            "{}: a fold's training rows are all churned or all not churned",
            file.display()
        )
    })?;
    let (_, model) = cxkpi_core::churn::train(
        &table.numeric,
        &table.categorical,
        &table.rows,
        &table.churned,
        Threads::available(),
    )
    .expect("both outcomes, as the folds had them");
    let seconds = started.elapsed().as_secs_f64();

    if let Some(path) = &scores {
        let mut out = cxkpi_app::render::SafeCsv::new(cxkpi_store::OutputFile::create(path)?);
        out.write_record(["row", "id", "churned", "fold", "probability", "top_factors"])?;
        for (i, row) in table.rows.iter().enumerate() {
            let (encoder, model, _) = &cv.folds[i % folds];
            let encoded = encoder.encode(row);
            let factors: Vec<String> = model
                .top_factors(&encoded, 3)
                .into_iter()
                .map(|(name, _)| factor_label(model, &encoded, &name))
                .collect();
            out.write_record([
                (i + 1).to_string(),
                table.ids.get(i).cloned().unwrap_or_default(),
                table.churned[i].to_string(),
                (i % folds).to_string(),
                cv.probabilities[i].to_string(),
                factors.join("; "),
            ])?;
        }
        out.into_inner()?.commit()?;
    }

    if format == "json" {
        let report = json!({
            "file": file.display().to_string(),
            "rows": table.rows.len(), "churned": table.churned.iter().filter(|c| **c).count(),
            "numeric": table.numeric, "categorical": table.categorical,
            "folds": cv.folds.iter().enumerate().map(|(k, (_, _, v))| {
                let mut fold = scores_json(v);
                fold["fold"] = json!(k);
                fold
            }).collect::<Vec<_>>(),
            "mean_auc": mean_auc(&cv.folds),
            "pooled": scores_json(&cv.pooled),
            "coefficients": model.names.iter().zip(&model.coefficients)
                .map(|(n, c)| json!({"feature": n, "coefficient": c})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} customers ({} churned); {} numeric and {} categorical columns; {folds}-fold cross-validation in {seconds:.1} s",
        file.display(),
        table.rows.len(),
        table.churned.iter().filter(|c| **c).count(),
        table.numeric.len(),
        table.categorical.len(),
    );
    for (k, (_, _, v)) in cv.folds.iter().enumerate() {
        if let Some((auc, ci)) = v.auc {
            println!(
                "  fold {k}: n {:>7}, churned {:>6}, AUC {auc:.3} (95% {:.3} .. {:.3}), Brier {:.4}",
                v.n, v.positives, ci.low, ci.high, v.brier
            );
        }
    }
    if let Some(mean) = mean_auc(&cv.folds) {
        println!("  mean AUC over folds {mean:.3}");
    }
    if let Some((auc, ci)) = cv.pooled.auc {
        println!(
            "out of fold, all rows: AUC {auc:.3} (95% {:.3} .. {:.3}); Brier {:.4}",
            ci.low, ci.high, cv.pooled.brier
        );
    }
    write_calibration(&mut std::io::stdout().lock(), &cv.pooled)?;
    write_effects(&mut std::io::stdout().lock(), &model)?;
    Ok(ExitCode::SUCCESS)
}

/// The mean of the folds' AUCs (`None` when a fold has none).
fn mean_auc(folds: &[(Encoder, Logistic, Evaluation)]) -> Option<f64> {
    let aucs: Option<Vec<f64>> = folds.iter().map(|(_, _, v)| v.auc.map(|a| a.0)).collect();
    aucs.map(|a| a.iter().sum::<f64>() / a.len() as f64)
}

/// Reads the table: every column but the label and the id is a feature.
fn read(file: &Path, label: &str, id: Option<&str>) -> anyhow::Result<Table> {
    let mut reader =
        csv::Reader::from_path(file).with_context(|| format!("opening {}", file.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: reading the header", file.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let find = |name: &str, what: &str| -> anyhow::Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            StoreError::Usage(format!(
                "{}: no {what} column `{name}`; the columns are: {}",
                file.display(),
                header.join(", ")
            ))
            .into()
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
        let record = record.with_context(|| format!("reading {}", file.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let flag = record.get(label_at).unwrap_or_default();
        churned.push(parse_bool(flag.trim()).map_err(|_| {
            StoreError::Usage(format!(
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

/// An evaluation's numbers as JSON (the wire type), to add the fold to.
fn scores_json(v: &Evaluation) -> serde_json::Value {
    serde_json::to_value(cxkpi_app::wire::Evaluation::from(v))
        .expect("numbers and strings serialise")
}
