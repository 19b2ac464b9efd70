//! `cxkpi serve` and `cxkpi token`: the flags of `cxkpi_server` and
//! `cxkpi_app::tokens`. The server prints the address it listens on as its first line
//! on standard output; a created token is printed alone on standard output, so
//! `TOKEN=$(cxkpi token create --scope read)` works.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cxkpi_app::tokens::{self, NewToken};
use cxkpi_store::Store;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (default: server.address of cxkpi.toml,
    /// 127.0.0.1:8080); port 0 picks a free port.
    #[arg(long)]
    addr: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints it (once: only its hash is kept) on standard output.
    Create {
        /// read, write (also posts data), admin (also manages tokens) or survey (only
        /// posts survey answers, from its origins).
        #[arg(long, value_parser = ["read", "write", "admin", "survey"])]
        scope: String,
        /// Its name (default: the scope and a number, e.g. read-1).
        #[arg(long)]
        name: Option<String>,
        /// A web origin allowed to use it from a page (https://shop.example.com);
        /// repeat for several.
        #[arg(long = "origin", value_name = "URL")]
        origins: Vec<String>,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token: it stops working at once, also in a running server.
    Revoke {
        /// The token's name.
        name: String,
    },
}

pub fn serve(workspace: &Path, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?.with_notices(|m| eprintln!("{m}"));
    let addr = args
        .addr
        .unwrap_or_else(|| store.config().server.address.clone());
    let addr: std::net::SocketAddr = addr.parse().map_err(|_| {
        cxkpi_app::AppError::usage(format!(
            "--addr `{addr}` is not an IP address and port such as 127.0.0.1:8080"
        ))
    })?;
    let runtime = crate::runtime()?;
    runtime.block_on(async move {
        let state = cxkpi_server::AppState::open(store, cxkpi_server::Options::default())?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr().context("reading the bound address")?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{local}")?;
            out.flush()?;
        }
        if tokens::list(&Store::open(workspace)?)?.is_empty() {
            eprintln!(
                "no token yet: every endpoint but /api/v1/healthz needs one (`cxkpi token create --scope read`)"
            );
        }
        cxkpi_server::serve(listener, state, cxkpi_server::shutdown_signal())
            .await
            .context("serving")?;
        eprintln!("stopped; every acknowledged answer is in the store");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token(workspace: &Path, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = Store::open(workspace)?;
    match command {
        TokenCommand::Create {
            scope,
            name,
            origins,
        } => {
            let (token, secret) = tokens::create(
                &store,
                &NewToken {
                    scope: scope.parse()?,
                    name,
                    origins,
                },
            )?;
            println!("{secret}");
            eprintln!(
                "created token `{}` ({}); it is shown this once, keep it safe",
                token.name,
                token.scope.as_str()
            );
        }
        TokenCommand::List => {
            let list = tokens::list(&store)?;
            if list.is_empty() {
                eprintln!("no tokens (`cxkpi token create --scope read`)");
            }
            for t in list {
                let origins = if t.origins.is_empty() {
                    String::new()
                } else {
                    format!("  origins: {}", t.origins.join(", "))
                };
                println!(
                    "{:<24} {:<7} created {}{origins}",
                    t.name,
                    t.scope.as_str(),
                    t.created.strftime("%Y-%m-%d %H:%M:%SZ")
                );
            }
        }
        TokenCommand::Revoke { name } => {
            let token = tokens::revoke(&store, &name)?;
            eprintln!("revoked token `{}`", token.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
