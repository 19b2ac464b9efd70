//! `cxkpi-bench serve --workspace DIR --binary PATH`: the server's goal cases, against a
//! `cxkpi serve` child process on a loopback port.
//!
//! - Latency of `GET /api/v1/kpis/nps?by=region` (the last 12 complete months) and of
//!   `GET /api/v1/report` (the last complete month): cold (the first request after a
//!   start, at 1 client and at 16 clients sending it at once) and warm (repeated
//!   requests at 1 and at 16 clients, each on a keep-alive connection), p50 and p99.
//! - Sustained `POST /api/v1/responses` of single answers from 64 clients, each on a
//!   keep-alive connection, for `--seconds`: answers per second, p50 and p99.
//! - The server's resident memory (VmRSS) at idle and its peak (VmHWM) after each load.
//!
//! Every answer checks its status (and the slice its body's first bytes), so an error
//! cannot pass for a fast answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

/// A keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(addr: &str) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Sends one request and reads the whole answer; the status and the body.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.writer.write_all(request.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("status line {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(binary: &Path, workspace: &Path) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .arg("--workspace")
            .arg(workspace)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting cxkpi serve")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .with_context(|| format!("first line {line:?}"))?
            .to_string();
        Ok(Server { child, addr })
    }

    /// (VmRSS, VmHWM) in MiB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

fn token(binary: &Path, workspace: &Path, scope: &str) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .arg("--workspace")
        .arg(workspace)
        .args(["token", "create", "--scope", scope])
        .output()?;
    ensure!(output.status.success(), "token create failed");
    Ok(String::from_utf8(output.stdout)?.trim().to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "n {:>6}  p50 {:>9.2} ms  p99 {:>9.2} ms  max {:>9.2} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        ms.last().copied().unwrap_or(f64::NAN)
    )
}

/// Sends `path` from `clients` connections at once, `each` times per client; the
/// latencies in ms.
fn get_from(
    addr: &str,
    token: &str,
    path: &str,
    clients: usize,
    each: usize,
) -> anyhow::Result<Vec<f64>> {
    let start = Arc::new(std::sync::Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (addr, token, path, start) = (
                addr.to_string(),
                token.to_string(),
                path.to_string(),
                Arc::clone(&start),
            );
            std::thread::spawn(move || -> anyhow::Result<Vec<f64>> {
                let mut connection = Connection::open(&addr)?;
                start.wait();
                let mut times = Vec::with_capacity(each);
                for _ in 0..each {
                    let started = Instant::now();
                    let (status, body) = connection.request("GET", &path, &token, "")?;
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                    if status != 200 || !body.starts_with(b"{\"left_out\"") {
                        bail!(
                            "{path}: status {status}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                }
                Ok(times)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        all.extend(t.join().expect("no panic")?);
    }
    Ok(all)
}

/// Runs the server benchmark.
pub fn run(binary: &Path, workspace: &Path, seconds: u64) -> anyhow::Result<()> {
    let read = token(binary, workspace, "read")?;
    let write = token(binary, workspace, "write")?;
    // A limit the benchmark cannot reach: it measures the server, not the throttle.
    let config = workspace.join("cxkpi.toml");
    let text = std::fs::read_to_string(&config)?;
    let limited = text
        .replace(
            "rate_limit_per_second = 1000\n",
            "rate_limit_per_second = 10000000\n",
        )
        .replace("rate_limit_burst = 2000\n", "rate_limit_burst = 10000000\n");
    std::fs::write(&config, &limited)?;
    let result = measure(binary, workspace, &read, &write, seconds);
    std::fs::write(&config, text)?;
    result
}

fn measure(
    binary: &Path,
    workspace: &Path,
    read: &str,
    write: &str,
    seconds: u64,
) -> anyhow::Result<()> {
    let cases = [
        ("GET /kpis/nps?by=region", "/api/v1/kpis/nps?by=region"),
        ("GET /report", "/api/v1/report"),
    ];
    for (name, path) in cases {
        for clients in [1usize, 16] {
            let server = Server::start(binary, workspace)?;
            std::thread::sleep(Duration::from_millis(300));
            let idle = server.memory();
            let cold = get_from(&server.addr, read, path, clients, 1)?;
            let warm = get_from(&server.addr, read, path, clients, 200 / clients.max(1) * 5)?;
            let after = server.memory();
            println!("{name:<26} {clients:>2} client(s)  cold: {}", summary(cold));
            println!("{:<26} {clients:>2} client(s)  warm: {}", "", summary(warm));
            println!(
                "{:<26} memory: idle {:.0} MiB, peak {:.0} MiB",
                "", idle.0, after.1
            );
        }
    }

    // Intake: 64 clients posting single answers, into a copy of the workspace (hard
    // links: part files are immutable, and a change renames a new manifest into place)
    // so the demo stays as it was.
    let copy = std::env::temp_dir().join(format!("cxkpi-bench-intake-{}", std::process::id()));
    std::fs::create_dir_all(&copy)?;
    let status = Command::new("cp")
        .arg("-al")
        .arg(workspace.join("store"))
        .arg(workspace.join("cxkpi.toml"))
        .arg(workspace.join("tokens.json"))
        .arg(&copy)
        .status()?;
    ensure!(status.success(), "copying the workspace");
    // The lock file holds a lock per inode: the copy needs its own.
    std::fs::remove_file(copy.join("store").join("LOCK")).ok();
    let result = intake(binary, &copy, write, seconds);
    std::fs::remove_dir_all(&copy).ok();
    result
}

fn intake(binary: &Path, workspace: &Path, write: &str, seconds: u64) -> anyhow::Result<()> {
    let server = Server::start(binary, workspace)?;
    std::thread::sleep(Duration::from_millis(300));
    let idle = server.memory();
    let clients = 64;
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let run_id = jiff::Timestamp::now().as_second();
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, write, stop, counter) = (
                server.addr.clone(),
                write.to_string(),
                Arc::clone(&stop),
                Arc::clone(&counter),
            );
            std::thread::spawn(move || -> anyhow::Result<Vec<f64>> {
                let mut connection = Connection::open(&addr)?;
                let mut times = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(
                        r#"{{"response_id":"bench-{run_id}-{c}-{i}","survey":"nps","score":{},"customer_id":"C{:07}","responded_at":"2026-10-{:02}T12:00:00Z","touchpoint":"bench"}}"#,
                        i % 11,
                        1 + (i * 64 + c as u64) % 1_000_000,
                        1 + i % 28
                    );
                    let sent = Instant::now();
                    let (status, answer) =
                        connection.request("POST", "/api/v1/responses", &write, &body)?;
                    times.push(sent.elapsed().as_secs_f64() * 1e3);
                    if status != 200 || !answer.starts_with(b"{\"accepted\":1") {
                        bail!("status {status}: {}", String::from_utf8_lossy(&answer));
                    }
                    counter.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok(times)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut times = Vec::new();
    for t in threads {
        times.extend(t.join().expect("no panic")?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak = server.memory();
    let answers = counter.load(Ordering::Relaxed);
    println!(
        "POST /responses            64 clients  {:.0} answers/s over {elapsed:.1} s: {}",
        answers as f64 / elapsed,
        summary(times)
    );
    println!(
        "{:<26} memory: idle {:.0} MiB, peak {:.0} MiB",
        "", idle.0, peak.1
    );
    // Wait for the fold, then check the answers are in the store.
    drop(server);
    let output = Command::new(binary)
        .arg("--workspace")
        .arg(workspace)
        .args(["tables", "--format", "json"])
        .output()?;
    println!(
        "after the run: {}",
        String::from_utf8_lossy(&output.stdout).trim()
    );
    Ok(())
}

/// The default binary: `cxkpi` beside this one.
pub fn default_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    Ok(me.with_file_name("cxkpi"))
}
