//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `cxkpi` binary on `workspace`, with none of the environment that steers it.
pub fn cxkpi(workspace: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cxkpi"));
    command.arg("--workspace").arg(workspace);
    command.env_remove("CXKPI_WORKSPACE");
    command.env_remove("CXKPI_FAIL_POINT");
    command.env_remove("CXKPI_ABORT_AFTER_BATCHES");
    command
}

/// Runs `command` with no standard input.
pub fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

/// Runs `command` with `input` on its standard input.
pub fn run_with_stdin(command: &mut Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A workspace holding the demo company with `customers` customers (seed 42).
pub fn demo(customers: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = run(cxkpi(dir.path()).arg("demo").arg(dir.path()).args([
        "--customers",
        &customers.to_string(),
        "--format",
        "json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

/// Writes `text` as `ENTITY.csv` in the workspace and imports it; every row must be
/// stored.
pub fn import_csv(workspace: &Path, entity: &str, text: &str) {
    let path = workspace.join(format!("{entity}.csv"));
    std::fs::write(&path, text).unwrap();
    let output = run(cxkpi(workspace).args(["import", entity, path.to_str().unwrap()]));
    assert!(output.status.success(), "{}", stderr(&output));
}

/// A new empty workspace.
pub fn init() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = run(cxkpi(dir.path()).arg("init"));
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}
