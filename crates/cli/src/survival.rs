//! `cxkpi survival`: Kaplan-Meier customer survival by segment with Greenwood
//! intervals, the median with its interval, the restricted mean, and the log-rank
//! test between segments.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_core::period::{DAY_MICROS, MONTH_DAYS};
use cxkpi_core::survival::{
    kaplan_meier, lifetimes_at, log_rank, median, median_interval, restricted_mean,
};
use cxkpi_store::Store;
use serde_json::json;

/// Arguments of `cxkpi survival`.
#[derive(Debug, clap::Args)]
pub struct SurvivalArgs {
    /// Customers still active are censored at midnight starting DATE (YYYY-MM-DD, the
    /// workspace time zone); customers won after it are left out (default: the end of
    /// the data's last complete month).
    #[arg(long)]
    as_of: Option<String>,
    /// Segments (customer dimensions; `--by` adds the log-rank test between them).
    #[command(flatten)]
    slice: crate::views::SliceArgs,
    /// Unit of durations: days, weeks or months (30.4375 days).
    #[arg(long, default_value = "months", value_parser = ["days", "weeks", "months"])]
    unit: String,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(workspace: &Path, args: SurvivalArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let config = store.config();
    let runtime = crate::runtime()?;
    let at = crate::views::as_of(args.as_of.as_deref(), &snapshot, config, &runtime)?;
    let kpi = cxkpi_core::kpi::lookup("median_lifetime").expect("in the catalogue");
    let request = args.slice.request(kpi, &snapshot)?;
    let lives = runtime.block_on(cxkpi_engine::customer_lives(&snapshot, &request))?;
    let unit = DAY_MICROS
        * match args.unit.as_str() {
            "days" => 1.0,
            "weeks" => 7.0,
            _ => MONTH_DAYS,
        };
    let end = at.as_microsecond();
    // Churned before the instant is an event; the others are censored at it.
    let groups: Vec<(&String, Vec<(f64, bool)>)> = lives
        .iter()
        .map(|(segment, lives)| (segment, lifetimes_at(lives, end, unit)))
        .filter(|(_, o)| !o.is_empty())
        .collect();
    // One horizon for every segment's restricted mean, so they compare: the shortest
    // of the segments' longest durations.
    let tau = groups
        .iter()
        .map(|(_, o)| o.iter().map(|o| o.0).fold(0.0, f64::max))
        .fold(f64::INFINITY, f64::min);
    let mut segments = Vec::new();
    for (segment, observations) in &groups {
        let n = observations.len();
        let steps = kaplan_meier(&mut observations.clone());
        let events: u64 = steps.iter().map(|s| s.events).sum();
        let (low, high) = median_interval(&steps);
        let table: Vec<_> = steps
            .iter()
            .map(|s| {
                let ci = s.interval();
                json!({"t": s.t, "at_risk": s.at_risk, "events": s.events, "survival": s.survival,
                       "ci_low": ci.map(|c| c.0), "ci_high": ci.map(|c| c.1)})
            })
            .collect();
        segments.push(json!({
            "segment": args.slice.by.as_ref().map(|_| segment),
            "n": n, "events": events,
            "median": median(&steps), "median_ci_low": low, "median_ci_high": high,
            "rmst": restricted_mean(&steps, tau), "rmst_tau": tau,
            "table": table,
        }));
    }
    let groups: Vec<Vec<(f64, bool)>> = groups.into_iter().map(|(_, o)| o).collect();
    let logrank = args
        .slice
        .by
        .as_ref()
        .and_then(|_| log_rank(&groups))
        .map(|(chi2, df, p)| json!({"chi2": chi2, "df": df, "p_value": p}));
    let report = json!({"as_of": at.to_string(), "unit": args.unit, "segments": segments,
                        "logrank": logrank});
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Customer survival as of {at} (durations in {}; median with 95% interval; RMST up to {tau:.1})\n",
        args.unit
    );
    println!(
        "{:<20} {:>9} {:>8} {:>8} {:>19} {:>8}",
        "segment", "n", "events", "median", "95% interval", "rmst"
    );
    let num = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    for s in &segments {
        println!(
            "{:<20} {:>9} {:>8} {:>8} {:>19} {:>8}",
            s["segment"].as_str().unwrap_or("all"),
            s["n"].as_u64().unwrap_or(0),
            s["events"].as_u64().unwrap_or(0),
            num(&s["median"]),
            format!(
                "{} .. {}",
                num(&s["median_ci_low"]),
                num(&s["median_ci_high"])
            ),
            num(&s["rmst"]),
        );
    }
    if let Some(l) = &report["logrank"].as_object() {
        println!(
            "\nlog-rank: chi-square {:.2} on {} df, p = {:.4}",
            l["chi2"].as_f64().unwrap_or(f64::NAN),
            l["df"],
            l["p_value"].as_f64().unwrap_or(f64::NAN)
        );
    }
    Ok(ExitCode::SUCCESS)
}
