//! Golden outputs of every command on the demo company (2,000 customers, seed 42), in
//! every format, pinned before the service issue moves the use cases out of the binary
//! into a library: the move must not change what a user sees.
//!
//! `UPDATE_GOLDEN=1 cargo test --release -p cxkpi --test golden` rewrites the files in
//! `tests/golden/`. Numbers are compared to the precision they are printed with (one
//! unit in the last printed place, or 1e-9 relative): sums over rows that arrive in a
//! varying order differ in their last bits between runs. The workspace path and
//! timings are replaced by placeholders.

mod common;

use std::path::{Path, PathBuf};

use common::cxkpi;

/// (file name, arguments, standard input): in order, since `churn train` and `clv fit`
/// save the models later commands use.
const CASES: &[(&str, &[&str], &str)] = &[
    ("tables.txt", &["tables"], ""),
    ("tables.json", &["tables", "--format", "json"], ""),
    ("kpi-list.txt", &["kpi", "list"], ""),
    ("kpi-list.json", &["kpi", "list", "--format", "json"], ""),
    (
        "kpi-nps-region.txt",
        &["kpi", "nps", "--by", "region", "--compare"],
        "",
    ),
    (
        "kpi-nps-region.json",
        &[
            "kpi",
            "nps",
            "--by",
            "region",
            "--compare",
            "--format",
            "json",
        ],
        "",
    ),
    (
        "kpi-nps-region.csv",
        &[
            "kpi",
            "nps",
            "--by",
            "region",
            "--compare",
            "--format",
            "csv",
        ],
        "",
    ),
    (
        "kpi-frt-weekly.json",
        &[
            "kpi",
            "first_response_time",
            "--by",
            "channel",
            "--from",
            "2026-09-01",
            "--to",
            "2026-11-01",
            "--grain",
            "week",
            "--format",
            "json",
        ],
        "",
    ),
    (
        "kpi-revenue-europe.csv",
        &[
            "kpi",
            "revenue",
            "--where",
            "region=europe",
            "--format",
            "csv",
        ],
        "",
    ),
    (
        "kpi-churn-quarter.txt",
        &[
            "kpi",
            "churn_rate",
            "--period",
            "2026-Q3",
            "--by",
            "plan",
            "--compare",
        ],
        "",
    ),
    ("report.txt", &["report"], ""),
    ("report.json", &["report", "--format", "json"], ""),
    ("report.csv", &["report", "--format", "csv"], ""),
    ("report.html", &["report", "--format", "html"], ""),
    (
        "report-plan.json",
        &["report", "--by", "plan", "--format", "json"],
        "",
    ),
    ("health.txt", &["health"], ""),
    (
        "health.json",
        &["health", "--format", "json", "--band", "red"],
        "",
    ),
    ("health.csv", &["health", "--format", "csv"], ""),
    ("health-backtest.txt", &["health", "--backtest", "90d"], ""),
    (
        "health-backtest.json",
        &["health", "--backtest", "90d", "--format", "json"],
        "",
    ),
    ("survival-plan.txt", &["survival", "--by", "plan"], ""),
    (
        "survival-plan.json",
        &[
            "survival", "--by", "plan", "--format", "json", "--unit", "months",
        ],
        "",
    ),
    ("drivers.txt", &["drivers", "nps"], ""),
    ("drivers.json", &["drivers", "nps", "--format", "json"], ""),
    (
        "drivers-region.json",
        &["drivers", "nps", "--by", "region", "--format", "json"],
        "",
    ),
    ("themes.txt", &["themes", "--top", "5"], ""),
    (
        "themes.json",
        &[
            "themes",
            "--top",
            "5",
            "--by",
            "touchpoint",
            "--format",
            "json",
        ],
        "",
    ),
    ("churn-train.txt", &["churn", "train"], ""),
    (
        "churn-train.json",
        &["churn", "train", "--format", "json"],
        "",
    ),
    ("churn-score.csv", &["churn", "score", "--top", "50"], ""),
    (
        "churn-score.json",
        &["churn", "score", "--top", "20", "--format", "json"],
        "",
    ),
    ("churn-explain.txt", &["churn", "explain", "C0001532"], ""),
    ("clv-fit.txt", &["clv", "fit"], ""),
    ("clv-fit.json", &["clv", "fit", "--format", "json"], ""),
    (
        "clv-predict.csv",
        &["clv", "predict", "--horizon", "12m"],
        "",
    ),
    ("clv-customer.txt", &["clv", "customer", "C0001532"], ""),
    (
        "sentiment.csv",
        &["sentiment"],
        "The support was great!\n=HYPERLINK(\"x\") terrible, slow and rude\nok\n",
    ),
    (
        "sentiment.json",
        &["sentiment", "--format", "json"],
        "Not bad at all.\nI hate waiting.\n",
    ),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The output with the workspace path and durations in seconds made stable.
fn normalise(text: &str, workspace: &Path) -> String {
    let text = text.replace(&workspace.display().to_string(), "$WS");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&mask_seconds(line));
    }
    out
}

/// `fits 0.0 s`, `in 0.01 s`, `"seconds":0.123` -> `<t> s`, `"seconds":"<t>"`.
fn mask_seconds(line: &str) -> String {
    let mut out = String::new();
    let tokens = tokens(line);
    for (i, (token, is_number)) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(|(t, _)| t.as_str()).unwrap_or("");
        let before = out.trim_end_matches('"');
        // Timings print with a decimal point; `end - 1 s` in a formula is no timing.
        let timing = *is_number
            && (token.contains('.')
                && next.starts_with(" s")
                && !next[2..].starts_with(|c: char| c.is_alphanumeric())
                || before.ends_with("seconds\":")
                || before.ends_with("_seconds\": "));
        out.push_str(if timing { "<t>" } else { token });
    }
    out
}

/// The text cut into numbers and what lies between them.
fn tokens(text: &str) -> Vec<(String, bool)> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let signed = bytes[i] == b'-'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        let starts_number = bytes[i].is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphabetic() || bytes[i - 1] == b'_'));
        if signed || starts_number {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i + 1 < bytes.len()
                && matches!(bytes[i], b'e' | b'E')
                && (bytes[i + 1].is_ascii_digit()
                    || (matches!(bytes[i + 1], b'-' | b'+')
                        && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)))
            {
                i += 2;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push((text[start..i].to_string(), true));
        } else {
            i += 1;
            while i < bytes.len()
                && !bytes[i].is_ascii_digit()
                && !(bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
            {
                i += 1;
            }
            match tokens.last_mut() {
                Some((t, false)) => t.push_str(&text[start..i]),
                _ => tokens.push((text[start..i].to_string(), false)),
            }
        }
    }
    tokens
}

fn decimals(number: &str) -> i32 {
    let mantissa = number.split(['e', 'E']).next().unwrap_or("");
    let places = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i32);
    let exponent: i32 = number
        .split_once(['e', 'E'])
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    places - exponent
}

/// Where `actual` differs from `expected` beyond the printed precision, if anywhere.
fn difference(expected: &str, actual: &str) -> Option<String> {
    let (e, a) = (tokens(expected), tokens(actual));
    for (i, (x, y)) in e.iter().zip(&a).enumerate() {
        let same = match (x, y) {
            ((x, true), (y, true)) => {
                let (p, q): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                // Counts, dates and ids are exact; numbers rounded for print may
                // differ in their last place; full-precision ones (of differing
                // lengths) by 1e-9 relative.
                let places = decimals(x);
                let unit = if places > 0 && places == decimals(y) {
                    10f64.powi(-places)
                } else {
                    0.0
                };
                p == q || (p - q).abs() <= (1e-9 * p.abs().max(q.abs())).max(1.01 * unit)
            }
            ((x, false), (y, false)) => x == y,
            _ => false,
        };
        if !same {
            let context: String = e[i.saturating_sub(6)..i]
                .iter()
                .map(|t| t.0.as_str())
                .collect();
            return Some(format!(
                "after {:?}: expected {:?}, got {:?}",
                context
                    .chars()
                    .rev()
                    .take(120)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect::<String>(),
                x.0,
                y.0
            ));
        }
    }
    (e.len() != a.len()).then(|| format!("{} tokens expected, {} got", e.len(), a.len()))
}

#[test]
fn the_tolerant_comparison_sees_real_differences() {
    assert_eq!(difference("nps 25.6 n 2015", "nps 25.7 n 2015"), None);
    assert!(difference("nps 25.6 n 2015", "nps 25.8 n 2015").is_some());
    assert!(difference("n 2015", "n 2016").is_some());
    assert!(difference("n 2015", "n 2017").is_some());
    assert_eq!(difference("0.30000000000000004", "0.3"), None);
    assert!(difference("0.3000001", "0.3").is_some());
    assert!(difference("0.3001", "0.3").is_some());
    assert!(difference("good", "bad").is_some());
    assert!(difference("C0001532 -0.5", "C0001532 -0.7").is_some());
    assert!(difference("C0001532 -0.5", "C0001533 -0.5").is_some());
    assert_eq!(mask_seconds("fits 0.01 s; saved\n"), "fits <t> s; saved\n");
    assert_eq!(
        mask_seconds("{\"seconds\":0.25,\"n\":3}"),
        "{\"seconds\":<t>,\"n\":3}"
    );
    assert_eq!(mask_seconds("5 sessions"), "5 sessions");
    assert_eq!(mask_seconds("t = end - 1 s"), "t = end - 1 s");
}

#[test]
fn every_command_prints_what_it_printed_before() {
    let dir = common::demo(2000);
    let ws = dir.path().to_path_buf();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    std::fs::create_dir_all(golden_dir()).unwrap();
    let mut failures = Vec::new();
    for (name, args, input) in CASES {
        let output = common::run_with_stdin(cxkpi(&ws).args(*args), input);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let actual = normalise(&String::from_utf8(output.stdout).unwrap(), &ws);
        let path = golden_dir().join(name);
        if update {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", path.display()));
        if let Some(diff) = difference(&expected, &actual) {
            failures.push(format!("{name}: {diff}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
