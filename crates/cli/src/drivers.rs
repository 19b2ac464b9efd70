//! `cxkpi drivers nps`: what drives NPS (Shapley shares of R² of touchpoint CSAT,
//! CES, ticket and delivery experience) and, with `--by`, the change of NPS against
//! the previous period split into segment mix and within-segment rates.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_core::drivers::{nps_change, shapley_r2};
use cxkpi_core::period::Period;
use cxkpi_engine::{PREDICTORS, Request};
use cxkpi_store::{Store, StoreError};
use serde_json::json;

use crate::views::PeriodArgs;

/// Predictors known for fewer of the respondents than this share are left out.
const MIN_COVERAGE: f64 = 0.2;

/// Arguments of `cxkpi drivers`.
#[derive(Debug, clap::Args)]
pub struct DriversArgs {
    /// The score to explain (only `nps` for now).
    #[arg(value_parser = ["nps"])]
    target: String,
    #[command(flatten)]
    periods: PeriodArgs,
    /// Split the change of NPS against the previous period into mix and rate effects
    /// of the segments of this dimension.
    #[arg(long)]
    by: Option<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(workspace: &Path, args: DriversArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let config = store.config();
    let tz = &config.time_zone;
    let runtime = crate::runtime()?;
    let end = runtime.block_on(cxkpi_engine::data_end(&snapshot))?;
    // Default: the last 12 complete months as one period.
    let months = crate::views::last_complete_months(end, 12, config);
    let default = match (months.first(), months.last()) {
        (Some(first), Some(last)) => {
            vec![Period::range(first.first_day, last.end_day, tz).map_err(StoreError::Usage)?]
        }
        _ => anyhow::bail!("the store has no data"),
    };
    let periods = args.periods.resolve(config, default)?;
    let [period] = periods.as_slice() else {
        return Err(StoreError::Usage("drivers take one period (no --grain)".into()).into());
    };
    let nps = cxkpi_core::kpi::lookup("nps").expect("in the catalogue");
    crate::views::check_by(nps, args.by.as_deref(), &snapshot)?;

    let table = runtime.block_on(cxkpi_engine::nps_driver_table(&snapshot, period))?;
    let respondents = table.len();
    let coverage: Vec<f64> = (0..PREDICTORS.len())
        .map(|i| {
            let known = table.iter().filter(|r| r.x[i].is_finite()).count();
            if respondents == 0 {
                0.0
            } else {
                known as f64 / respondents as f64
            }
        })
        .collect();
    let used: Vec<usize> = (0..PREDICTORS.len())
        .filter(|&i| coverage[i] >= MIN_COVERAGE)
        .collect();
    let names: Vec<&str> = used.iter().map(|&i| PREDICTORS[i]).collect();
    let x: Vec<Vec<f64>> = table
        .iter()
        .map(|r| used.iter().map(|&i| r.x[i]).collect())
        .collect();
    let y: Vec<f64> = table.iter().map(|r| r.nps).collect();
    let drivers = shapley_r2(&names, &x, &y);

    let change = match &args.by {
        Some(by) => {
            let previous = period.previous(tz);
            let request = Request {
                kpis: vec![nps],
                periods: vec![previous.clone(), period.clone()],
                by: Some(by.clone()),
                filters: Vec::new(),
                compare: false,
            };
            let rows = runtime.block_on(cxkpi_engine::compute(&snapshot, config, &request))?;
            let counts = |row: &cxkpi_engine::KpiRow| {
                let get = |name: &str| {
                    row.components
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map_or(0, |(_, v)| *v as u64)
                };
                (get("promoters"), get("detractors"), row.estimate.n())
            };
            let mut segments: std::collections::BTreeMap<
                String,
                cxkpi_core::drivers::SegmentCounts,
            > = Default::default();
            for row in &rows {
                let entry = segments
                    .entry(row.segment.clone().unwrap_or_default())
                    .or_default();
                if row.period.first_day == previous.first_day {
                    entry.0 = counts(row);
                } else {
                    entry.1 = counts(row);
                }
            }
            let segments: Vec<_> = segments.into_iter().collect();
            nps_change(&segments).map(|c| (previous, c.mix, c.rate, c.segments))
        }
        None => None,
    };

    let report = json!({
        "target": args.target,
        "period": period.label(),
        "respondents": respondents,
        "n": drivers.as_ref().map(|d| d.n),
        "r2": drivers.as_ref().map(|d| d.r2),
        "drivers": drivers.as_ref().map(|d| d.importance.iter().map(|i| json!({
            "predictor": i.name, "shapley_r2": i.shapley_r2, "percent_of_r2": i.percent,
        })).collect::<Vec<_>>()),
        "coverage": PREDICTORS.iter().zip(&coverage).map(|(p, c)| json!({"predictor": p, "share": c})).collect::<Vec<_>>(),
        "change": change.as_ref().map(|(previous, mix, rate, parts)| json!({
            "from": previous.label(), "to": period.label(), "by": args.by,
            "total": mix + rate, "mix": mix, "rate": rate,
            "segments": parts.iter().map(|(s, m, r)| json!({"segment": s, "mix": m, "rate": r})).collect::<Vec<_>>(),
        })),
    });
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "What drives NPS in {} ({respondents} customers answered)",
        period.label()
    );
    for (p, c) in PREDICTORS.iter().zip(&coverage) {
        if *c < MIN_COVERAGE {
            println!(
                "  left out: {p} (known for {:.0}% of them, under {:.0}%)",
                100.0 * c,
                100.0 * MIN_COVERAGE
            );
        }
    }
    match &drivers {
        Some(d) => {
            println!(
                "\nn = {} customers with every predictor; R² = {:.3}\n",
                d.n, d.r2
            );
            println!(
                "{:<22} {:>12} {:>12}",
                "predictor", "share of R²", "% of R²"
            );
            for i in &d.importance {
                println!("{:<22} {:>12.4} {:>11.1}%", i.name, i.shapley_r2, i.percent);
            }
        }
        None => println!("\nToo few customers with every predictor for a regression."),
    }
    if let Some((previous, mix, rate, parts)) = &change {
        println!(
            "\nNPS change {} -> {}: {:+.2} = mix {:+.2} + rate {:+.2} (by {})",
            previous.label(),
            period.label(),
            mix + rate,
            mix,
            rate,
            args.by.as_deref().unwrap_or("")
        );
        for (s, m, r) in parts {
            println!("  {s:<20} mix {m:+.2}  rate {r:+.2}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
