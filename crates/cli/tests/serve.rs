//! `cxkpi serve` as a process: on a real port (port 0), answering the same JSON as the
//! CLI, and keeping every acknowledged answer across `kill -9`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{cxkpi, run, stderr, stdout};

struct Running {
    child: Child,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cxkpi serve --addr 127.0.0.1:0` and reads the address from its first line.
fn serve(workspace: &Path) -> Running {
    let mut child = cxkpi(workspace)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    Running { child, addr }
}

fn token(workspace: &Path, scope: &str) -> String {
    let output = run(cxkpi(workspace).args(["token", "create", "--scope", scope]));
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output);
    assert_eq!(
        token.lines().count(),
        1,
        "the token alone on standard output"
    );
    token.trim().to_string()
}

/// One HTTP/1.1 request; the status and the body.
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, body.to_string())
}

/// Issue 16: the API's JSON is the CLI's `--format json`.
#[test]
fn the_api_answers_what_the_cli_prints() {
    let dir = common::demo(2000);
    let workspace = dir.path();
    let read = token(workspace, "read");
    let server = serve(workspace);
    let (status, _) = http(&server.addr, "GET", "/api/v1/healthz", "", "");
    assert_eq!(status, 200);
    for (query, args) in [
        (
            "/api/v1/kpis/nps?by=region",
            vec!["kpi", "nps", "--by", "region"],
        ),
        (
            "/api/v1/kpis/first_response_time?from=2026-01-01&to=2026-07-01&grain=month&compare=true",
            vec![
                "kpi",
                "first_response_time",
                "--from",
                "2026-01-01",
                "--to",
                "2026-07-01",
                "--grain",
                "month",
                "--compare",
            ],
        ),
        (
            "/api/v1/kpis/csat?grain=quarter&where=plan%3Dpro",
            vec!["kpi", "csat", "--grain", "quarter", "--where", "plan=pro"],
        ),
        ("/api/v1/report", vec!["report"]),
        ("/api/v1/report?by=plan", vec!["report", "--by", "plan"]),
        (
            "/api/v1/report?period=2026-06",
            vec!["report", "--period", "2026-06"],
        ),
    ] {
        let (status, body) = http(&server.addr, "GET", query, &read, "");
        assert_eq!(status, 200, "{query}: {body}");
        let cli = run(cxkpi(workspace).args(&args).args(["--format", "json"]));
        assert!(cli.status.success(), "{}", stderr(&cli));
        // The same keys, strings and rows in the same order; the same numbers but for
        // the last bits of sums over record batches, whose order varies from run to run
        // (two runs of the CLI differ there too).
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&body).unwrap(),
            serde_json::from_str(&stdout(&cli)).unwrap(),
        );
        let mut differences = Vec::new();
        diff(&a, &b, String::new(), &mut differences);
        assert!(
            differences.is_empty(),
            "{query}: the API and the CLI differ: {differences:#?}"
        );
        // Asked again, it comes from the cache: the same bytes.
        assert_eq!(http(&server.addr, "GET", query, &read, "").1, body);
    }
    let (status, body) = http(&server.addr, "GET", "/api/v1/kpis/nps", "cxk_wrong", "");
    assert_eq!(status, 401, "{body}");
}

/// The paths at which two JSON values differ.
fn diff(a: &serde_json::Value, b: &serde_json::Value, at: String, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(v, w, format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k} only in the API")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                let label = v
                    .get("kpi")
                    .and_then(|k| k.as_str())
                    .map_or(i.to_string(), |k| format!("{i}:{k}"));
                diff(v, w, format!("{at}[{label}]"), out);
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(1.0) {
                out.push(format!("{at}: {x} vs {y}"));
            }
        }
        (x, y) if x != y => out.push(format!("{at}: {x} vs {y}")),
        _ => {}
    }
}

/// Issue 16: a 2xx to `POST /responses` means the answer survives `kill -9`: after a
/// restart every acknowledged answer is stored, each once, and no answer twice.
#[test]
fn acknowledged_answers_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path();
    assert!(run(cxkpi(workspace).arg("init")).status.success());
    let write = token(workspace, "write");
    let server = serve(workspace);
    // The clients post until the server dies under them.
    let clients = 16;
    let per_client = 1_000_000;
    let addr = server.addr.clone();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, write) = (addr.clone(), write.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0..per_client {
                    let id = format!("k{c:02}-{i:03}");
                    let body = format!(
                        r#"{{"response_id":"{id}","survey":"nps","score":{},"responded_at":"2026-10-{:02}T10:00:00Z"}}"#,
                        (c + i) % 11,
                        1 + i % 28
                    );
                    // The server may die mid-request: no answer is no acknowledgement.
                    let Ok(mut stream) = TcpStream::connect(&addr) else { break };
                    let request = format!(
                        "POST /api/v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {write}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(request.as_bytes()).is_err() {
                        break;
                    }
                    let mut response = String::new();
                    if stream.read_to_string(&mut response).is_err() {
                        break;
                    }
                    if response.starts_with("HTTP/1.1 200") {
                        acknowledged.push(id);
                    } else {
                        break;
                    }
                }
                acknowledged
            })
        })
        .collect();
    // Kill at a moment that varies from run to run, while the clients are posting.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    std::thread::sleep(Duration::from_millis(300 + u64::from(nanos % 500)));
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let acknowledged: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        !acknowledged.is_empty(),
        "no answer was acknowledged before the kill"
    );
    drop(server);

    // Restart, then stop it gracefully (SIGTERM): it folds the log left by the crash.
    let restarted = serve(workspace);
    let started = Instant::now();
    loop {
        let (status, _) = http(&restarted.addr, "GET", "/api/v1/healthz", "", "");
        if status == 200 || started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let mut restarted = restarted;
    let pid = restarted.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = restarted.child.wait().unwrap();
    assert!(status.success(), "graceful shutdown: {status:?}");

    let output = run(cxkpi(workspace).args(["export", "responses", "--format", "csv"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let stored: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&str> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "an answer was stored twice");
    for id in &acknowledged {
        assert!(unique.contains(id.as_str()), "acknowledged {id} was lost");
    }
    // Unacknowledged answers may be stored (written before the kill, not yet answered),
    // but only answers that were sent.
    assert!(stored.iter().all(|id| id.starts_with('k')));
    eprintln!(
        "{} acknowledged, {} stored after kill -9 and restart",
        acknowledged.len(),
        stored.len()
    );
}
