//! `cxkpi churn` train, score and explain (and the shared parts `churn table` prints)
//! as text, CSV or JSON.

use std::io::{self, Write};

use cxkpi_core::churn::{Evaluation, Logistic};

use super::SafeCsv;
use crate::churn::{Explanation, Scores, Trained};
use crate::wire;

/// The model's ten largest coefficients.
pub fn write_effects(out: &mut impl Write, model: &Logistic) -> io::Result<()> {
    writeln!(
        out,
        "\nlargest effects (per standard deviation, on the log-odds):"
    )?;
    let mut effects: Vec<(&String, f64)> = model
        .names
        .iter()
        .zip(model.coefficients.iter().copied())
        .collect();
    effects.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    for (name, c) in effects.iter().take(10) {
        writeln!(out, "  {name:<36} {c:+.3}")?;
    }
    Ok(())
}

/// Predicted against observed churn by tenths of predicted risk.
pub fn write_calibration(out: &mut impl Write, v: &Evaluation) -> io::Result<()> {
    writeln!(
        out,
        "  calibration (tenths by predicted risk): predicted -> observed"
    )?;
    for (n, p, o) in &v.calibration {
        writeln!(
            out,
            "    n {n:>8}  {:>6.1}% -> {:>6.1}%",
            100.0 * p,
            100.0 * o
        )?;
    }
    Ok(())
}

/// What training found, where the model was saved, its validation and effects.
pub fn write_train_text(out: &mut impl Write, t: &Trained) -> io::Result<()> {
    writeln!(
        out,
        "Trained on {} customers active at {} ({} churned by {}); {} features; fits {:.1} s; saved to {}",
        t.n,
        t.features_at,
        t.churned,
        t.as_of,
        t.model.names.len(),
        t.seconds,
        t.path.display()
    )?;
    match &t.validation {
        Some(v) => {
            writeln!(
                out,
                "validation: trained at {}, tested on the {} customers active at {} ({} churned by {})",
                t.validated_from, v.n, t.features_at, v.positives, t.as_of
            )?;
            if let Some((auc, ci)) = v.auc {
                writeln!(
                    out,
                    "  AUC {auc:.3} (95% {:.3} .. {:.3}); Brier {:.4}",
                    ci.low, ci.high, v.brier
                )?;
            }
            write_calibration(out, v)?;
        }
        None => writeln!(
            out,
            "validation: no churn in the earlier window to learn from"
        )?,
    }
    write_effects(out, &t.model)
}

/// The training report as pretty JSON (the wire type).
pub fn write_train_json(out: &mut impl Write, t: &Trained) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::ChurnTraining::from(t))?;
    writeln!(out)
}

/// The scores as CSV (safe to open in a spreadsheet).
pub fn write_scores_csv(out: &mut impl Write, s: &Scores) -> io::Result<()> {
    let mut csv = SafeCsv::new(out);
    csv.write_record(["customer_id", "probability", "top_factors"])?;
    for r in &s.rows {
        let factors: Vec<&str> = r.top_factors.iter().map(|(n, _)| n.as_str()).collect();
        csv.write_record([
            r.customer_id.as_str(),
            &r.probability.to_string(),
            &factors.join("; "),
        ])?;
    }
    csv.flush()
}

/// The scores as one line of JSON (the wire type).
pub fn write_scores_json(out: &mut impl Write, s: &Scores) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &wire::ChurnScores::from(s))?;
    writeln!(out)
}

/// One customer's factors and their log-odds.
pub fn write_explanation(out: &mut impl Write, e: &Explanation) -> io::Result<()> {
    writeln!(
        out,
        "Customer {} at {}: churn probability {:.3}",
        e.id, e.as_of, e.probability
    )?;
    writeln!(out, "{:<36} {:>12} {:>14}", "factor", "value", "log-odds")?;
    for (name, value, c) in e.parts.iter().filter(|p| p.2 != 0.0) {
        writeln!(out, "{name:<36} {value:>12.2} {c:>+14.3}")?;
    }
    writeln!(
        out,
        "{:<36} {:>12} {:>+14.3}",
        "(baseline)", "", e.intercept
    )
}

/// `churn table`: the folds, the pooled out-of-fold evaluation, calibration and the
/// model's effects.
pub fn write_table_text(
    out: &mut impl Write,
    m: &crate::churn_table::TableModel,
) -> io::Result<()> {
    writeln!(
        out,
        "{}: {} customers ({} churned); {} numeric and {} categorical columns; {}-fold cross-validation in {:.1} s",
        m.file.display(),
        m.table.rows.len(),
        m.churned(),
        m.table.numeric.len(),
        m.table.categorical.len(),
        m.folds,
        m.seconds,
    )?;
    for (k, (_, _, v)) in m.cv.folds.iter().enumerate() {
        if let Some((auc, ci)) = v.auc {
            writeln!(
                out,
                "  fold {k}: n {:>7}, churned {:>6}, AUC {auc:.3} (95% {:.3} .. {:.3}), Brier {:.4}",
                v.n, v.positives, ci.low, ci.high, v.brier
            )?;
        }
    }
    if let Some(mean) = m.mean_auc() {
        writeln!(out, "  mean AUC over folds {mean:.3}")?;
    }
    if let Some((auc, ci)) = m.cv.pooled.auc {
        writeln!(
            out,
            "out of fold, all rows: AUC {auc:.3} (95% {:.3} .. {:.3}); Brier {:.4}",
            ci.low, ci.high, m.cv.pooled.brier
        )?;
    }
    write_calibration(out, &m.cv.pooled)?;
    write_effects(out, &m.model)
}

/// `churn table --format json` (indented).
pub fn write_table_json(
    out: &mut impl Write,
    m: &crate::churn_table::TableModel,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::ChurnTable::from(m))?;
    writeln!(out)
}

/// `churn table --scores`: every row's out-of-fold probability and top factors.
pub fn write_table_scores(
    out: &mut impl Write,
    m: &crate::churn_table::TableModel,
) -> io::Result<()> {
    let mut csv = SafeCsv::new(&mut *out);
    let csv_error = |e: csv::Error| io::Error::other(e.to_string());
    csv.write_record(["row", "id", "churned", "fold", "probability", "top_factors"])
        .map_err(csv_error)?;
    for (i, row) in m.table.rows.iter().enumerate() {
        let (encoder, model, _) = &m.cv.folds[i % m.folds];
        let encoded = encoder.encode(row);
        let factors: Vec<String> = model
            .top_factors(&encoded, 3)
            .into_iter()
            .map(|(name, _)| crate::churn::factor_label(model, &encoded, &name))
            .collect();
        csv.write_record([
            (i + 1).to_string(),
            m.table.ids.get(i).cloned().unwrap_or_default(),
            m.table.churned[i].to_string(),
            (i % m.folds).to_string(),
            m.cv.probabilities[i].to_string(),
            factors.join("; "),
        ])
        .map_err(csv_error)?;
    }
    csv.flush()
}
