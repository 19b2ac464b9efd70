//! `cxkpi-bench`: measured runs for the goals of the issues, reported in their notes.
//!
//! `cxkpi-bench import --rows 10000000` writes a CSV of that many orders (deterministic,
//! realistic widths, a dimension column), imports it into a fresh workspace with the
//! library's import, checks the stored row count, and prints rows per second and the
//! process's peak resident memory (VmHWM). The file is written before the clock starts
//! and streamed, so its generation neither counts nor raises the peak.
//!
//! `cxkpi-bench serve --workspace DIR` measures the server (see the `serve` module).
//!
//! `cxkpi-bench kpis --workspace DIR` times the KPI engine on a workspace (the demo
//! company with 1,000,000 customers for the goals): the full monthly scorecard
//! of the last 12 complete months (with changes, as `cxkpi report` computes it), `nps`
//! by region by month over 3 years, and `first_response_time` by channel by month with
//! a business-hours calendar (Monday to Friday 09:00-17:00). Each case runs `--runs`
//! times in a child process of its own, whose peak resident memory (VmHWM) is the
//! case's.

mod serve;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, ensure};
use clap::{Parser, Subcommand};
use cxkpi_core::entity::Entity;
use cxkpi_store::{ImportOptions, Input, NoProgress, Store};

#[derive(Debug, Parser)]
#[command(name = "cxkpi-bench")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Import throughput and peak memory for a CSV of orders.
    Import {
        /// Orders in the file.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Working directory (default: a new one under the system temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Reuse the CSV file if it exists.
        #[arg(long)]
        keep: bool,
    },
    /// Wall time and peak memory of the KPI engine's goal cases on a workspace.
    Kpis {
        /// The workspace (e.g. one made by `cxkpi demo --customers 1000000`).
        #[arg(long)]
        workspace: PathBuf,
        /// Runs per case.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Run only this case (0, 1, 2); without it each case runs in a child process
        /// of its own, so that each peak memory reading is that case's alone.
        #[arg(long)]
        case: Option<usize>,
    },
    /// The cost of small imports into a large table: ten one-row imports of responses
    /// into a hard-linked copy of the workspace, with the id index read afresh each
    /// time (as the CLI does) and kept between imports (as the server does).
    SmallImports {
        /// The workspace (e.g. one made by `cxkpi demo --customers 1000000`).
        #[arg(long)]
        workspace: PathBuf,
    },
    /// Latency of the API's KPI slice and scorecard (cold and warm, 1 and 16 clients),
    /// intake throughput with 64 clients, and the server's memory.
    Serve {
        /// The workspace (e.g. one made by `cxkpi demo --customers 1000000`).
        #[arg(long)]
        workspace: PathBuf,
        /// The `cxkpi` binary (default: the one beside this benchmark).
        #[arg(long)]
        binary: Option<PathBuf>,
        /// Seconds of sustained intake.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Bench::SmallImports { workspace } => small_imports(&workspace),
        Bench::Serve {
            workspace,
            binary,
            seconds,
        } => {
            let binary = match binary {
                Some(b) => b,
                None => serve::default_binary()?,
            };
            serve::run(&binary, &workspace, seconds)
        }
        Bench::Import { rows, dir, keep } => import(rows, dir, keep),
        Bench::Kpis {
            workspace,
            runs,
            case: Some(case),
        } => kpis(&workspace, runs, case),
        Bench::Kpis {
            workspace,
            runs,
            case: None,
        } => {
            let store = Store::open(&workspace)?;
            let snapshot = store.snapshot()?;
            for entity in Entity::ALL {
                println!(
                    "{:<14} {:>12} rows",
                    entity.name(),
                    snapshot.table(entity).rows
                );
            }
            for case in 0..3 {
                let status = std::process::Command::new(std::env::current_exe()?)
                    .args(["kpis", "--workspace"])
                    .arg(&workspace)
                    .args(["--runs", &runs.to_string(), "--case", &case.to_string()])
                    .status()?;
                ensure!(status.success(), "case {case} failed");
            }
            Ok(())
        }
    }
}

fn write_orders(path: &std::path::Path, rows: u64) -> anyhow::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(
        out,
        "order_id,customer_id,ordered_at,amount,promised_at,delivered_at,accurate,region"
    )?;
    const REGIONS: [&str; 4] = ["north_america", "europe", "apac", "latam"];
    for i in 0..rows {
        // A cheap deterministic scramble for varied values.
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
        let day = 1 + h % 25;
        let month = 1 + (h >> 5) % 12;
        let hour = (h >> 9) % 24;
        let minute = (h >> 14) % 60;
        write!(
            out,
            "O{i:09},C{:07},2024-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z,{}.{:02},",
            h % 1_000_003,
            h % 900,
            h % 100
        )?;
        if h % 4 != 0 {
            // Promised and delivered three days later (day 28 at most: valid every month).
            let d = day + 3;
            write!(
                out,
                "2024-{month:02}-{d:02}T{hour:02}:{minute:02}:00Z,2024-{month:02}-{d:02}T{:02}:00:00Z,",
                (hour + 1) % 24
            )?;
        } else {
            write!(out, ",,")?;
        }
        writeln!(
            out,
            "{},{}",
            if h % 25 == 0 { "false" } else { "true" },
            REGIONS[(h % 4) as usize]
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn kpis(workspace: &std::path::Path, runs: usize, case: usize) -> anyhow::Result<()> {
    use cxkpi_core::kpi::CATALOGUE;
    use cxkpi_core::period::{Grain, periods};
    use cxkpi_engine::Request;

    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let config = store.config().clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let end = runtime
        .block_on(cxkpi_engine::data_end(&snapshot))?
        .context("an empty workspace")?;
    let tz = &config.time_zone;
    // The month after the last complete one, as `cxkpi report` chooses it.
    let to = cxkpi_core::period::Grain::Month.floor(
        end.to_zoned(tz.clone())
            .date()
            .checked_add(jiff::Span::new().days(1))?,
    );
    let months_back = |n: i64| -> anyhow::Result<_> {
        Ok(periods(
            Grain::Month,
            to.checked_sub(jiff::Span::new().months(n))?,
            to,
            tz,
        ))
    };
    let mut business = config.clone();
    let calendar =
        cxkpi_core::config::Config::from_toml("[business_hours]\nenabled = true\n")?.business_hours;
    business.business_hours = calendar.map(|mut c| {
        c.time_zone = tz.clone();
        c
    });
    let request = |kpis: Vec<&'static str>, months: i64, by: Option<&str>, compare: bool| {
        anyhow::Ok(Request {
            kpis: kpis
                .into_iter()
                .map(|k| cxkpi_core::kpi::lookup(k).expect("known"))
                .collect(),
            periods: months_back(months)?,
            by: by.into_iter().map(String::from).collect(),
            filters: Vec::new(),
            compare,
        })
    };
    let cases = [
        (
            "full scorecard, 12 months by month",
            request(CATALOGUE.iter().map(|k| k.id).collect(), 12, None, true)?,
            &config,
        ),
        (
            "nps by region by month, 36 months",
            request(vec!["nps"], 36, Some("region"), false)?,
            &config,
        ),
        (
            "first_response_time by channel by month, 12 months, business hours",
            request(vec!["first_response_time"], 12, Some("channel"), false)?,
            &business,
        ),
    ];
    let (name, request, config) = cases.get(case).context("no such case")?;
    {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..runs {
            let started = Instant::now();
            rows = runtime
                .block_on(cxkpi_engine::compute(&snapshot, config, request))?
                .len();
            times.push(started.elapsed().as_secs_f64());
        }
        let list: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
        println!(
            "{name}: {rows} rows; wall {} s (best {:.3} s); peak RSS {:.0} MiB",
            list.join(", "),
            times.iter().copied().fold(f64::INFINITY, f64::min),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

fn small_imports(workspace: &std::path::Path) -> anyhow::Result<()> {
    let copy = std::env::temp_dir().join(format!("cxkpi-bench-small-{}", std::process::id()));
    std::fs::create_dir_all(&copy)?;
    let status = std::process::Command::new("cp")
        .arg("-al")
        .arg(workspace.join("store"))
        .arg(workspace.join("cxkpi.toml"))
        .arg(&copy)
        .status()?;
    ensure!(status.success(), "copying the workspace");
    std::fs::remove_file(copy.join("store").join("LOCK")).ok();
    let result = (|| -> anyhow::Result<()> {
        let rows = Store::open(&copy)?
            .snapshot()?
            .table(Entity::Responses)
            .rows;
        println!("responses: {rows} rows");
        for (label, store) in [
            ("index read afresh", Store::open(&copy)?),
            ("index kept", Store::open(&copy)?.keep_id_indexes()),
        ] {
            let mut times = Vec::new();
            for i in 0..10 {
                let path = copy.join(format!("one-{label}-{i}.ndjson").replace(' ', "-"));
                std::fs::write(
                    &path,
                    format!(
                        "{{\"response_id\":\"small-{label}-{i}\",\"survey\":\"nps\",\"score\":9,\"responded_at\":\"2026-10-01T00:00:00Z\"}}\n"
                    ),
                )?;
                let started = Instant::now();
                let summary = store.import(
                    Entity::Responses,
                    &[Input::from_arg(path.to_str().expect("UTF-8"), None)],
                    &ImportOptions::default(),
                    &NoProgress,
                )?;
                times.push(started.elapsed().as_secs_f64() * 1e3);
                ensure!(summary.new == 1, "the row was not stored");
            }
            println!(
                "{label:<18} ms per one-row import: {}",
                times
                    .iter()
                    .map(|t| format!("{t:.0}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        Ok(())
    })();
    std::fs::remove_dir_all(&copy).ok();
    result
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn import(rows: u64, dir: Option<PathBuf>, keep: bool) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("cxkpi-bench-import"));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join(format!("orders-{rows}.csv"));
    let bytes = if keep && csv.exists() {
        std::fs::metadata(&csv)?.len()
    } else {
        let started = Instant::now();
        let bytes = write_orders(&csv, rows)?;
        eprintln!(
            "wrote {} ({:.0} MB) in {:.1} s",
            csv.display(),
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        bytes
    };
    let workspace = dir.join("workspace");
    let _ = std::fs::remove_dir_all(&workspace);
    let store = Store::init(&workspace)?;
    let started = Instant::now();
    let summary = store.import(
        Entity::Orders,
        &[Input::from_arg(csv.to_str().context("UTF-8 path")?, None)],
        &ImportOptions::default(),
        &NoProgress,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    // Every generated row is valid and its id unique: all must be stored.
    ensure!(summary.read == rows, "read {} of {rows}", summary.read);
    ensure!(
        summary.new == rows && summary.rejected == 0,
        "stored {}, rejected {}",
        summary.new,
        summary.rejected
    );
    let table = store.snapshot()?.table(Entity::Orders);
    ensure!(table.rows == summary.new);
    println!(
        "import orders: {rows} rows, {:.0} MB CSV, {seconds:.2} s, {:.0} rows/s, {:.0} MB/s, stored {}, rejected {}, {} part files, peak RSS {:.0} MiB",
        bytes as f64 / 1e6,
        rows as f64 / seconds,
        bytes as f64 / 1e6 / seconds,
        summary.new,
        summary.rejected,
        table.parts,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
