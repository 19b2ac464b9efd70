//! `cxkpi`: the command-line interface. Thin by design: it parses arguments, calls the
//! store and the demo library, and prints their results as a table or JSON.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use cxkpi_app::render;
use cxkpi_core::entity::Entity;
use cxkpi_store::{
    Diagnosis, ExportFormat, ImportOptions, ImportSummary, Input, InputFormat, OutputFile,
    Progress, Store, StoreError,
};
use indicatif::{ProgressBar, ProgressStyle};

mod churn;
mod churn_table;
mod clv;
mod cohorts;
mod drivers;
mod health;
mod movements;
mod serve;
mod survival;
mod themes;
mod views;

/// cxkpi: customer KPIs from your own data, on your own machine.
#[derive(Debug, Parser)]
#[command(name = "cxkpi", version, about, max_term_width = 100)]
struct Cli {
    /// The workspace directory (holds cxkpi.toml and the store).
    #[arg(
        long,
        short = 'w',
        global = true,
        env = "CXKPI_WORKSPACE",
        default_value = "."
    )]
    workspace: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Human-readable text.
    Table,
    /// One JSON object.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a workspace: DIR/cxkpi.toml (every setting, with its default) and the store.
    Init {
        /// The directory (default: the workspace, i.e. --workspace or the current one).
        dir: Option<PathBuf>,
    },
    /// Import CSV, NDJSON or Parquet files (optionally gzip-compressed; `-` is stdin).
    Import {
        /// The entity: customers, orders, subscriptions, responses, tickets, spend,
        /// sessions, referrals, activity.
        entity: String,
        /// Input files; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<String>,
        /// The input format, when the extension does not tell (csv, ndjson, parquet).
        #[arg(long)]
        input_format: Option<String>,
        /// Store nothing if any row is rejected.
        #[arg(long)]
        strict: bool,
        /// Output format of the summary.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Write the stored rows of an entity (after upserts).
    Export {
        /// The entity.
        entity: String,
        /// csv, ndjson or parquet.
        #[arg(long, default_value = "csv")]
        format: String,
        /// The output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Fold small part files into large ones (also done after every import).
    Compact {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// One KPI by period (and segment): `cxkpi kpi nps --by region`; `cxkpi kpi list`
    /// for the catalogue.
    Kpi(KpiArgs),
    /// The scorecard: every KPI with data for a period (default: the last complete
    /// month of the data), with change against the period before.
    Report {
        #[command(flatten)]
        periods: views::PeriodArgs,
        #[command(flatten)]
        slice: views::SliceArgs,
        /// Output format (html: one self-contained page with a trend chart per KPI).
        #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "html"])]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check the store: its manifest, the part files it names, files nothing names,
    /// changes that did not finish. Exit status 1 when the store is damaged.
    Doctor {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Repair a damaged store: rebuild a missing or unreadable manifest from the part
    /// files, or drop the parts a manifest names that are gone. Shows the plan and
    /// asks before changing anything.
    Repair {
        /// Apply the plan without asking (needed when standard input is no terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Show the stored tables: rows, part files, dimensions.
    Tables {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Every active customer's health score (weighted components, bands) as of a
    /// date, worst first; `--backtest 90d` checks the score against later churn.
    Health(health::HealthArgs),
    /// Churn risk: `churn train`, `churn score`, `churn explain ID`, `churn table FILE`.
    #[command(subcommand)]
    Churn(churn::ChurnCommand),
    /// Predictive CLV (BG/NBD + Gamma-Gamma): `clv fit`, `clv predict`, `clv customer ID`.
    #[command(subcommand)]
    Clv(clv::ClvCommand),
    /// What drives NPS (Shapley shares of R²) and, with --by, its change split into
    /// segment mix and rate effects.
    Drivers(drivers::DriversArgs),
    /// Customer survival (Kaplan-Meier): median lifetime with its interval, restricted
    /// mean, the curve with Greenwood intervals; `--by` adds the log-rank test.
    Survival(survival::SurvivalArgs),
    /// What negative comments are about: their most frequent and most distinctive
    /// words and two-word phrases against positive comments, by segment.
    Themes(themes::ThemesArgs),
    /// Cohort retention: the share of each acquisition cohort still active (or of its
    /// revenue or MRR) after 0, 1, 2, ... periods.
    Cohorts(cohorts::CohortsArgs),
    /// MRR movements per period: new, expansion, contraction, churned and reactivated
    /// MRR with their counts, start + movements = end.
    MrrMovements(movements::MovementsArgs),
    /// VADER sentiment of text, one text per input line (as vaderSentiment 3.3.2 scores
    /// it): neg, neu, pos (rounded to 3 decimals) and compound (4 decimals).
    Sentiment {
        /// A text file, or `-` (the default) for standard input.
        #[arg(default_value = "-")]
        input: String,
        /// Output format.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// Serve the workspace: the JSON API under /api/v1 (OpenAPI at
    /// /api/v1/openapi.json), durable survey intake, Prometheus metrics.
    Serve(serve::ServeArgs),
    /// API tokens: `token create --scope read|write|admin|survey`, `token list`,
    /// `token revoke NAME`.
    #[command(subcommand)]
    Token(serve::TokenCommand),
    /// Generate the demo company, import it, and show the result.
    Demo {
        /// The workspace to create (default: ./cxkpi-demo).
        dir: Option<PathBuf>,
        /// Number of customers.
        #[arg(long, default_value_t = 20_000)]
        customers: u64,
        /// Random seed (the same seed gives the same company).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First month after the data, YYYY-MM (the data covers the 36 months before).
        #[arg(long, default_value = "2026-11")]
        end: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct KpiArgs {
    #[command(subcommand)]
    command: Option<KpiCommand>,
    /// The KPI id (see `cxkpi kpi list`).
    id: Option<String>,
    #[command(flatten)]
    periods: views::PeriodArgs,
    #[command(flatten)]
    slice: views::SliceArgs,
    /// Compare each period with the one before (delta, p-value, significance).
    #[arg(long)]
    compare: bool,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
    format: String,
}

#[derive(Debug, Subcommand)]
enum KpiCommand {
    /// List every KPI with its unit, direction and definition.
    List {
        /// Output format: table, json, or markdown (the text of docs/kpis.md).
        #[arg(long, default_value = "table", value_parser = ["table", "json", "markdown"])]
        format: String,
    },
}

/// `cxkpi sentiment`: scores each line of the input (no workspace needed).
fn sentiment(input: &str, format: &str) -> anyhow::Result<ExitCode> {
    use std::io::BufRead;
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(input).with_context(|| format!("opening {input}"))?;
        Box::new(std::io::BufReader::new(file))
    };
    let vader = cxkpi_core::sentiment::vader();
    let stdout = std::io::stdout().lock();
    let mut csv_out = (format == "csv").then(|| cxkpi_app::render::SafeCsv::new(stdout));
    if let Some(out) = csv_out.as_mut() {
        out.write_record(["text", "neg", "neu", "pos", "compound"])?;
    }
    let mut rows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{input}: line {}: not UTF-8 text", i + 1))?;
        let text = line.strip_suffix('\r').unwrap_or(&line);
        let p = vader.polarity_scores(text);
        match csv_out.as_mut() {
            Some(out) => out.write_record([
                text.to_string(),
                p.neg.to_string(),
                p.neu.to_string(),
                p.pos.to_string(),
                p.compound.to_string(),
            ])?,
            None => rows.push(cxkpi_app::wire::Sentiment {
                compound: p.compound,
                neg: p.neg,
                neu: p.neu,
                pos: p.pos,
                text: text.to_string(),
            }),
        }
    }
    match csv_out {
        Some(mut out) => out.flush()?,
        None => println!(
            "{}",
            serde_json::to_string_pretty(&cxkpi_app::wire::SentimentRows { rows })?
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit codes: 0 success, 1 nothing stored because of an error (or --strict), 2 usage.
fn main() -> ExitCode {
    // End quietly when the reader of our output goes away (`cxkpi health | head`), as
    // other Unix tools do: `println!` panics on a closed pipe.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // The reader of our output went away (`cxkpi ... | head`): nothing to report.
            let broken_pipe = e.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    || cause
                        .downcast_ref::<csv::Error>()
                        .is_some_and(|c| matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 for a usage error (whichever layer found it), 1 for any other failure.
fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(app) = e.downcast_ref::<cxkpi_app::AppError>() {
        return app.kind.exit_code();
    }
    let usage = matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Usage(_)))
        || matches!(
            e.downcast_ref::<cxkpi_engine::EngineError>(),
            Some(cxkpi_engine::EngineError::UnknownDimension { .. })
        )
        || e.downcast_ref::<cxkpi_core::entity::UnknownEntity>()
            .is_some();
    if usage { 2 } else { 1 }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { dir } => {
            let dir = dir.unwrap_or(cli.workspace);
            Store::init(&dir)?;
            println!(
                "created workspace {} (edit {} to set the time zone, currency and targets)",
                dir.display(),
                dir.join(cxkpi_store::CONFIG_FILE).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            entity,
            files,
            input_format,
            strict,
            format,
        } => {
            let entity: Entity = entity.parse()?;
            let input_format = input_format.map(|f| f.parse::<InputFormat>()).transpose()?;
            let store = Store::open(&cli.workspace)?.with_notices(|m| eprintln!("{m}"));
            let inputs: Vec<Input> = files
                .iter()
                .map(|f| Input::from_arg(f, input_format))
                .collect();
            let started = Instant::now();
            let summary = store.import(
                entity,
                &inputs,
                &ImportOptions {
                    strict,
                    ..ImportOptions::default()
                },
                &Bar::new(),
            )?;
            print_import(&summary, started.elapsed().as_secs_f64(), format, strict)?;
            let refused = summary.inputs.iter().any(|i| i.refused.is_some());
            Ok(if summary.stored && !refused {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Export {
            entity,
            format,
            output,
        } => {
            let entity: Entity = entity.parse()?;
            let format: ExportFormat = format.parse()?;
            let store = Store::open(&cli.workspace)?;
            let snapshot = store.snapshot()?;
            let runtime = runtime()?;
            match output {
                Some(path) => {
                    let mut out = OutputFile::create(&path)?;
                    let rows = runtime
                        .block_on(cxkpi_store::export(&snapshot, entity, format, &mut out))?;
                    out.commit()?;
                    eprintln!("wrote {rows} {entity} rows to {}", path.display());
                }
                None => {
                    let out = std::io::BufWriter::new(std::io::stdout());
                    runtime.block_on(cxkpi_store::export(&snapshot, entity, format, out))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sentiment { input, format } => sentiment(&input, &format),
        Command::Health(args) => health::run(&cli.workspace, args),
        Command::Survival(args) => survival::run(&cli.workspace, args),
        Command::Themes(args) => themes::run(&cli.workspace, args),
        Command::Cohorts(args) => cohorts::run(&cli.workspace, args),
        Command::MrrMovements(args) => movements::run(&cli.workspace, args),
        Command::Clv(command) => clv::run(&cli.workspace, command),
        Command::Churn(command) => churn::run(&cli.workspace, command),
        Command::Drivers(args) => drivers::run(&cli.workspace, args),
        Command::Doctor { format } => doctor(&cli.workspace, format),
        Command::Serve(args) => serve::serve(&cli.workspace, args),
        Command::Token(command) => serve::token(&cli.workspace, command),
        Command::Repair { yes } => repair(&cli.workspace, yes),
        Command::Compact { format } => {
            let store = Store::open(&cli.workspace)?.with_notices(|m| eprintln!("{m}"));
            let report = store.compact()?;
            let out = &mut std::io::stdout().lock();
            match format {
                OutputFormat::Json => render::store::write_compacted_json(out, &report)?,
                OutputFormat::Table => render::store::write_compacted_text(out, &report)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Kpi(KpiArgs {
            command: Some(KpiCommand::List { format }),
            ..
        }) => {
            let out = &mut std::io::stdout().lock();
            match format.as_str() {
                "markdown" => write!(out, "{}", cxkpi_core::kpi::catalogue_markdown())?,
                "json" => render::store::write_kpi_list_json(out)?,
                _ => render::store::write_kpi_list_text(out)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Kpi(args) => kpi_view(&cli.workspace, args),
        Command::Report {
            periods,
            slice,
            format,
            output,
        } => report(&cli.workspace, &periods, &slice, &format, output.as_deref()),
        Command::Tables { format } => {
            let store = Store::open(&cli.workspace)?;
            let snapshot = store.snapshot()?;
            let out = &mut std::io::stdout().lock();
            match format {
                OutputFormat::Json => render::store::write_tables_json(out, &snapshot)?,
                OutputFormat::Table => render::store::write_tables_text(out, &snapshot)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            dir,
            customers,
            seed,
            end,
            format,
        } => demo(dir, customers, seed, &end, format),
    }
}

fn kpi_view(workspace: &Path, args: KpiArgs) -> anyhow::Result<ExitCode> {
    let Some(id) = args.id.as_deref() else {
        return Err(cxkpi_app::AppError::usage(
            "name a KPI (`cxkpi kpi nps`) or list them (`cxkpi kpi list`)",
        )
        .into());
    };
    let store = Store::open(workspace)?;
    let config = store.config();
    let slice = runtime()?.block_on(cxkpi_app::kpis::kpi_slice(
        &store.snapshot()?,
        config,
        id,
        &args.periods.choice(),
        &args.slice.slice(),
        args.compare,
    ))?;
    warn(&slice.warnings);
    cxkpi_app::render::kpis::write_rows(
        &mut std::io::stdout().lock(),
        &slice.rows,
        &args.format,
        config,
        &[],
        &slice.warnings,
        false,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The scorecard of every computed KPI, compared with the previous period.
fn report(
    workspace: &Path,
    periods: &views::PeriodArgs,
    slice: &views::SliceArgs,
    format: &str,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let snapshot = store.snapshot()?;
    let config = store.config();
    let card = runtime()?.block_on(cxkpi_app::kpis::scorecard(
        &snapshot,
        config,
        &periods.choice(),
        &slice.slice(),
    ))?;
    warn(&card.warnings);
    let (rows, left_out) = (card.rows, card.left_out);
    if format == "html" {
        let title = format!("cxkpi report: {}", workspace.display());
        let page = cxkpi_app::render::kpis::html(&rows, config, &left_out, &title);
        match output {
            Some(path) => {
                let mut out = OutputFile::create(path)?;
                out.write_all(page.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                out.commit()?;
                eprintln!("wrote {}", path.display());
            }
            None => print!("{page}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if output.is_some() {
        return Err(StoreError::Usage("--output goes with --format html".into()).into());
    }
    cxkpi_app::render::kpis::write_rows(
        &mut std::io::stdout().lock(),
        &rows,
        format,
        config,
        &left_out,
        &card.warnings,
        true,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Prints warnings about a request on stderr, where they never mix with the output.
fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn demo(
    dir: Option<PathBuf>,
    customers: u64,
    seed: u64,
    end: &str,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let request = cxkpi_app::demo::DemoRequest {
        dir: dir.unwrap_or_else(|| PathBuf::from("cxkpi-demo")),
        customers,
        seed,
        end: end.to_string(),
    };
    eprintln!(
        "generating {customers} customers (seed {seed}) in {}",
        cxkpi_app::demo::data_dir(&request.dir).display()
    );
    let demo = runtime()?.block_on(cxkpi_app::demo::run(&request, &Bar::new()))?;
    let config = Store::open(&request.dir)?.config().clone();
    let out = &mut std::io::stdout().lock();
    match format {
        OutputFormat::Json => render::demo::write_json(out, &demo, &config)?,
        OutputFormat::Table => render::demo::write_text(out, &demo, &config)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_import(
    s: &ImportSummary,
    seconds: f64,
    format: OutputFormat,
    strict: bool,
) -> std::io::Result<()> {
    if let Some(why) = &s.compaction_failed {
        eprintln!(
            "warning: the rows are stored, but compacting {} afterwards failed ({why}); `cxkpi compact` tries again",
            s.entity.name()
        );
    }
    let out = &mut std::io::stdout().lock();
    match format {
        OutputFormat::Json => render::store::write_import_json(out, s, seconds),
        OutputFormat::Table => {
            render::store::write_import_text(out, &mut std::io::stderr(), s, seconds, strict)
        }
    }
}

/// `cxkpi doctor`: what the store holds and what is wrong with it.
fn doctor(workspace: &Path, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    let d: Diagnosis = store.diagnose()?;
    let out = &mut std::io::stdout().lock();
    match format {
        OutputFormat::Json => render::store::write_diagnosis_json(out, &d)?,
        OutputFormat::Table => render::store::write_diagnosis_text(out, &d)?,
    }
    Ok(if d.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `cxkpi repair`: shows the plan, asks, repairs.
fn repair(workspace: &Path, yes: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?.with_notices(|m| eprintln!("{m}"));
    let Some(plan) = store.plan_repair()? else {
        println!("the store needs no repair");
        return Ok(ExitCode::SUCCESS);
    };
    render::store::write_repair_plan(&mut std::io::stdout().lock(), &plan)?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("nothing changed: run `cxkpi repair --yes` to apply this plan");
            return Ok(ExitCode::from(1));
        }
        eprint!("Apply this repair? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing changed");
            return Ok(ExitCode::from(1));
        }
    }
    let done = store.repair(&plan)?;
    println!("repaired: the manifest is now version {}", done.version);
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    fn new() -> Bar {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::hidden();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar
        });
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, input: &str, total_bytes: Option<u64>) {
        let Some(bar) = &self.bar else { return };
        bar.reset();
        match total_bytes {
            Some(total) => {
                bar.set_length(total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
            }
            None => bar.set_style(
                ProgressStyle::with_template("{msg} {bytes} {bytes_per_sec}")
                    .expect("valid template"),
            ),
        }
        bar.set_message(input.to_string());
    }

    fn position(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let _ = std::io::stderr().flush();
    }
}
