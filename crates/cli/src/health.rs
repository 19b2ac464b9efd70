//! `cxkpi health`: every active customer's health score with its breakdown, and a
//! backtest of how well the score separated the customers who churned afterwards.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cxkpi_core::health::{COMPONENTS, HealthBand};
use cxkpi_core::stats;
use cxkpi_engine::CustomerHealth;
use cxkpi_store::Store;
use serde_json::json;

use crate::views::SliceArgs;

/// Arguments of `cxkpi health`.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The instant the scores are for: midnight at the start of DATE (YYYY-MM-DD) in
    /// the workspace time zone (default: the end of the data's last complete month).
    #[arg(long)]
    as_of: Option<String>,
    /// Only customers in this band (green, yellow, red).
    #[arg(long, value_parser = ["green", "yellow", "red"])]
    band: Option<String>,
    #[command(flatten)]
    slice: SliceArgs,
    /// Backtest instead: how well the scores as of --as-of separate the customers who
    /// churned within this horizon after it (`90d`, `12w`, `6mo`): AUC with its 95%
    /// interval, and churn by band.
    #[arg(long, value_name = "HORIZON")]
    backtest: Option<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
    format: String,
}

pub fn run(workspace: &Path, args: HealthArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let config = store.config();
    let tz = &config.time_zone;
    let runtime = crate::runtime()?;
    let at = crate::views::as_of(args.as_of.as_deref(), &snapshot, config, &runtime)?;
    let kpi = cxkpi_core::kpi::lookup("health_score").expect("in the catalogue");
    let request = args.slice.request(kpi, &snapshot)?;
    let mut customers = runtime.block_on(cxkpi_engine::customer_health(
        &snapshot, config, &request, at,
    ))?;
    if let Some(horizon) = &args.backtest {
        return backtest(&customers, at, horizon, tz, &args.format);
    }
    customers.retain(|c| {
        c.health
            .is_some_and(|h| args.band.as_deref().is_none_or(|b| h.band.name() == b))
    });
    // Worst first; ties by id.
    customers.sort_by(|a, b| {
        let score = |c: &CustomerHealth| c.health.map_or(f64::NAN, |h| h.score);
        score(a)
            .total_cmp(&score(b))
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    print(&customers, at, args.slice.by.is_some(), &args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn print(
    customers: &[CustomerHealth],
    at: jiff::Timestamp,
    segmented: bool,
    format: &str,
) -> anyhow::Result<()> {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    match format {
        "json" => {
            let rows: Vec<_> = customers
                .iter()
                .filter_map(|c| {
                    let h = c.health?;
                    let components: serde_json::Map<String, serde_json::Value> = COMPONENTS
                        .iter()
                        .zip(h.components)
                        .map(|(name, v)| (name.to_string(), json!(v)))
                        .collect();
                    Some(json!({"customer_id": c.customer_id,
                        "segment": segmented.then_some(&c.segment),
                        "score": h.score, "band": h.band.name(), "components": components}))
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"as_of": at.to_string(), "rows": rows}))?
            );
        }
        "csv" => {
            let mut out = cxkpi_app::render::SafeCsv::new(std::io::stdout().lock());
            let mut header = vec!["customer_id", "segment", "score", "band"];
            header.extend(COMPONENTS);
            out.write_record(&header)?;
            for c in customers {
                let Some(h) = c.health else { continue };
                let mut record = vec![
                    c.customer_id.clone(),
                    c.segment.clone(),
                    h.score.to_string(),
                    h.band.name().to_string(),
                ];
                record.extend(
                    h.components
                        .iter()
                        .map(|v| v.map_or(String::new(), |v| v.to_string())),
                );
                out.write_record(&record)?;
            }
            out.flush()?;
        }
        _ => {
            println!(
                "Health as of {at} ({} customers, worst first)\n",
                customers.len()
            );
            let segment_header = if segmented { "segment" } else { "" };
            println!(
                "{:<16} {:<12} {:>7} {:<7} {:>9} {:>12} {:>8} {:>9}",
                "customer",
                segment_header,
                "score",
                "band",
                "activity",
                "satisfaction",
                "support",
                "purchase"
            );
            for c in customers {
                let Some(h) = c.health else { continue };
                let part =
                    |i: usize| h.components[i].map_or("-".to_string(), |v| format!("{:.0}", v));
                println!(
                    "{:<16} {:<12} {:>7.1} {:<7} {:>9} {:>12} {:>8} {:>9}",
                    c.customer_id,
                    c.segment,
                    round(h.score),
                    h.band.name(),
                    part(0),
                    part(1),
                    part(2),
                    part(3)
                );
            }
        }
    }
    Ok(())
}

/// AUC of (100 - score) for churn within the horizon, and churn by band.
fn backtest(
    customers: &[CustomerHealth],
    at: jiff::Timestamp,
    horizon: &str,
    tz: &jiff::tz::TimeZone,
    format: &str,
) -> anyhow::Result<ExitCode> {
    let span = horizon
        .parse::<cxkpi_app::duration::Horizon>()
        .map_err(|e| cxkpi_app::AppError::usage(format!("--backtest: {e}")))?
        .span();
    let until = at
        .to_zoned(tz.clone())
        .checked_add(span)
        .context("horizon out of range")?
        .timestamp();
    let (mut churned, mut stayed) = (Vec::new(), Vec::new());
    let mut by_band = [(0u64, 0u64); 3];
    for c in customers {
        let Some(h) = c.health else { continue };
        let lost = c.churned_at.is_some_and(|t| t <= until);
        // Lower health should mean more churn: score the risk as 100 - health.
        if lost {
            churned.push(100.0 - h.score);
        } else {
            stayed.push(100.0 - h.score);
        }
        let band = &mut by_band[h.band as usize];
        band.0 += 1;
        band.1 += u64::from(lost);
    }
    let auc = stats::auc(&churned, &stayed);
    let bands: Vec<_> = [HealthBand::Green, HealthBand::Yellow, HealthBand::Red]
        .iter()
        .map(|b| {
            let (n, lost) = by_band[*b as usize];
            let ci = stats::wilson(lost, n);
            json!({"band": b.name(), "n": n, "churned": lost,
                   "churn_rate": (n > 0).then(|| 100.0 * lost as f64 / n as f64),
                   "ci_low": ci.map(|i| 100.0 * i.low), "ci_high": ci.map(|i| 100.0 * i.high)})
        })
        .collect();
    let report = json!({
        "as_of": at.to_string(), "until": until.to_string(),
        "n": churned.len() + stayed.len(), "churned": churned.len(),
        "auc": auc.map(|a| a.0), "auc_ci_low": auc.map(|a| a.1.low), "auc_ci_high": auc.map(|a| a.1.high),
        "bands": bands,
    });
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Health as of {at}, churn until {until}: {} customers scored, {} churned",
        churned.len() + stayed.len(),
        churned.len()
    );
    match auc {
        Some((a, ci)) => println!(
            "AUC {a:.3} (95% {:.3} .. {:.3}): the chance a churner scored below a stayer",
            ci.low, ci.high
        ),
        None => println!("AUC: none (needs customers who churned and customers who stayed)"),
    }
    println!("\n{:<7} {:>8} {:>8} {:>10}", "band", "n", "churned", "rate");
    for b in &bands {
        println!(
            "{:<7} {:>8} {:>8} {:>10}",
            b["band"].as_str().unwrap_or(""),
            b["n"].as_u64().unwrap_or(0),
            b["churned"].as_u64().unwrap_or(0),
            b["churn_rate"]
                .as_f64()
                .map_or("-".into(), |r| format!("{r:.1}%"))
        );
    }
    Ok(ExitCode::SUCCESS)
}
