//! `cxkpi themes`: what negative feedback is about, against positive feedback, by
//! segment (touchpoint, survey, region, ...) over one period.

use std::path::Path;
use std::process::ExitCode;

use cxkpi_core::sentiment::SentimentClass;
use cxkpi_core::themes::compare;
use cxkpi_store::Store;
use serde_json::json;

use crate::views::{PeriodArgs, SliceArgs};

/// Arguments of `cxkpi themes`.
#[derive(Debug, clap::Args)]
pub struct ThemesArgs {
    #[command(flatten)]
    periods: PeriodArgs,
    #[command(flatten)]
    slice: SliceArgs,
    /// Terms per list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(workspace: &Path, args: ThemesArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let config = store.config();
    let runtime = crate::runtime()?;
    let kpi = cxkpi_core::kpi::lookup("sentiment").expect("in the catalogue");
    let end = runtime.block_on(cxkpi_engine::data_end(&snapshot))?;
    let periods = args
        .periods
        .resolve(config, crate::views::last_complete_months(end, 1, config))?;
    let request = args.slice.request(kpi, &snapshot)?;
    let mut out = Vec::new();
    for period in &periods {
        let comments =
            runtime.block_on(cxkpi_engine::scored_comments(&snapshot, &request, period))?;
        let mut segments: Vec<&str> = comments.iter().map(|(s, _, _)| s.as_str()).collect();
        segments.sort_unstable();
        segments.dedup();
        for segment in segments {
            let of = |wanted: SentimentClass| {
                comments
                    .iter()
                    .filter(move |(s, _, c)| s == segment && SentimentClass::of(*c) == wanted)
                    .map(|(_, text, _)| text.as_str())
            };
            let (negative, positive) = (
                of(SentimentClass::Negative).count(),
                of(SentimentClass::Positive).count(),
            );
            let terms = compare(of(SentimentClass::Negative), of(SentimentClass::Positive));
            let mut frequent: Vec<_> = terms.iter().filter(|t| t.negative > 0).collect();
            frequent.sort_by(|a, b| {
                b.negative
                    .cmp(&a.negative)
                    .then_with(|| a.term.cmp(&b.term))
            });
            frequent.truncate(args.top);
            let distinctive: Vec<_> = terms.iter().filter(|t| t.z > 0.0).take(args.top).collect();
            let list = |terms: &[&cxkpi_core::themes::Term]| {
                terms
                    .iter()
                    .map(|t| json!({"term": t.term, "negative": t.negative, "positive": t.positive, "z": t.z}))
                    .collect::<Vec<_>>()
            };
            out.push(json!({
                "period": period.label(),
                "segment": args.slice.by.as_ref().map(|_| segment),
                "negative_comments": negative, "positive_comments": positive,
                "frequent": list(&frequent), "distinctive": list(&distinctive),
            }));
        }
    }
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&json!({ "rows": out }))?);
        return Ok(ExitCode::SUCCESS);
    }
    for row in &out {
        println!(
            "{}{}: {} negative, {} positive comments",
            row["period"].as_str().unwrap_or(""),
            row["segment"]
                .as_str()
                .map(|s| format!(" / {s}"))
                .unwrap_or_default(),
            row["negative_comments"],
            row["positive_comments"]
        );
        let terms = |key: &str| -> Vec<String> {
            row[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|t| {
                            format!("{} ({})", t["term"].as_str().unwrap_or(""), t["negative"])
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        println!(
            "  most frequent in negative: {}",
            terms("frequent").join(", ")
        );
        println!(
            "  most distinctive of negative: {}\n",
            terms("distinctive").join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
