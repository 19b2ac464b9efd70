//! cxkpi as a service: the JSON API under `/api/v1` over the application layer.
//!
//! - [`AppState`]: the workspace's store, the snapshot served (taken again whenever
//!   the manifest changes), tokens, the durable intake, the result cache, metrics.
//! - [`app`]: the [`Router`]; tests drive it with `oneshot` requests, no socket.
//! - [`serve`]: listens until a shutdown signal, lets requests in flight finish, then
//!   folds every acknowledged answer into the store.
//!
//! Every endpoint but `/api/v1/healthz` needs `Authorization: Bearer TOKEN`; the
//! OpenAPI 3.1 document at `/api/v1/openapi.json` is generated from the handlers.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = cxkpi_store::Store::open(std::path::Path::new("acme"))?;
//! let state = cxkpi_server::AppState::open(store, cxkpi_server::Options::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! cxkpi_server::serve(listener, state, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod auth;
mod cache;
mod error;
mod metrics;
mod openapi;
mod params;
mod routes;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use cxkpi_app::intake::Intake;
use cxkpi_core::config::Config;
use cxkpi_store::{Snapshot, Store};

pub use auth::Caller;
pub use error::{ApiError, ApiResult};
pub use openapi::openapi_json;

/// How a server runs, beyond `cxkpi.toml`'s `[server]` section.
#[derive(Debug, Clone)]
pub struct Options {
    /// How often acknowledged answers are folded from the log into the store.
    pub fold_every: Duration,
    /// The most bytes the result cache holds.
    pub cache_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fold_every: Duration::from_secs(1),
            cache_bytes: 64 << 20,
        }
    }
}

/// A file's modification time, length and inode: it changes when the file is
/// replaced (renamed over), which is how the manifest and the token file change.
pub(crate) type Stamp = Option<(SystemTime, u64, u64)>;

pub(crate) fn file_stamp(path: &std::path::Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok()?, meta.len(), inode))
}

/// The snapshot served, with the manifest's metadata when it was taken.
struct Current {
    stamp: Stamp,
    snapshot: Arc<Snapshot>,
    span: Option<Arc<cxkpi_engine::DataSpan>>,
}

/// What every request shares.
pub(crate) struct Shared {
    pub(crate) store: Store,
    current: RwLock<Current>,
    pub(crate) tokens: auth::Tokens,
    pub(crate) limiter: auth::RateLimiter,
    pub(crate) intake: Intake,
    pub(crate) cache: cache::Cache,
    pub(crate) metrics: metrics::Metrics,
    shutting_down: AtomicBool,
    refresh: Mutex<()>,
}

/// The server's state: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Shared>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("workspace", &self.0.store.root())
            .finish_non_exhaustive()
    }
}

fn manifest_stamp(store: &Store) -> Stamp {
    file_stamp(&store.manifest_path())
}

impl AppState {
    /// Opens the workspace for serving: takes a snapshot, and opens the intake log
    /// (folding what an earlier run left in it).
    pub fn open(store: Store, options: Options) -> cxkpi_app::Result<AppState> {
        // The intake imports every second: each table's id index stays in memory, so a
        // fold costs what it holds rather than what the table holds.
        let store = store.keep_id_indexes();
        let stamp = manifest_stamp(&store);
        let snapshot = Arc::new(store.snapshot()?);
        let server = &store.config().server;
        let limiter = auth::RateLimiter::new(server.rate_limit_per_second, server.rate_limit_burst);
        let intake = Intake::open(store.clone(), options.fold_every, Box::new(|| {}))?;
        Ok(AppState(Arc::new(Shared {
            store,
            current: RwLock::new(Current {
                stamp,
                snapshot,
                span: None,
            }),
            tokens: auth::Tokens::default(),
            limiter,
            intake,
            cache: cache::Cache::new(options.cache_bytes),
            metrics: metrics::Metrics::new(),
            shutting_down: AtomicBool::new(false),
            refresh: Mutex::new(()),
        })))
    }

    /// Refuses new requests (503) from now on.
    pub fn begin_shutdown(&self) {
        self.0.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Stops the intake after folding every acknowledged answer into the store.
    pub fn close(&self) {
        self.0.intake.close();
    }
}

impl Shared {
    pub(crate) fn config(&self) -> &Config {
        self.store.config()
    }

    /// The current snapshot: taken again when the manifest changed (an import, a
    /// fold of the intake, a compaction), and then the cache drops what changed.
    pub(crate) fn snapshot(&self) -> ApiResult<Arc<Snapshot>> {
        let stamp = manifest_stamp(&self.store);
        {
            let current = self.current.read().expect("not poisoned");
            if current.stamp == stamp {
                return Ok(Arc::clone(&current.snapshot));
            }
        }
        let _one_at_a_time = self.refresh.lock().expect("not poisoned");
        let stamp = manifest_stamp(&self.store);
        {
            let current = self.current.read().expect("not poisoned");
            if current.stamp == stamp {
                return Ok(Arc::clone(&current.snapshot));
            }
        }
        let snapshot = Arc::new(self.store.snapshot().map_err(cxkpi_app::AppError::from)?);
        self.cache.invalidate(&snapshot);
        *self.current.write().expect("not poisoned") = Current {
            stamp,
            snapshot: Arc::clone(&snapshot),
            span: None,
        };
        Ok(snapshot)
    }

    /// Where the data in `snapshot` begins and ends (the default periods are cut from
    /// its end), asked of the engine once per snapshot.
    pub(crate) async fn data_span(
        &self,
        snapshot: &Snapshot,
    ) -> ApiResult<Arc<cxkpi_engine::DataSpan>> {
        {
            let current = self.current.read().expect("not poisoned");
            if current.snapshot.version() == snapshot.version()
                && let Some(span) = &current.span
            {
                return Ok(Arc::clone(span));
            }
        }
        let span = cxkpi_engine::data_span(snapshot, &self.config().time_zone)
            .await
            .map_err(cxkpi_app::AppError::from)?;
        let span = Arc::new(span);
        let mut current = self.current.write().expect("not poisoned");
        if current.snapshot.version() == snapshot.version() {
            current.span = Some(Arc::clone(&span));
        }
        Ok(span)
    }
}

/// Counts and times every request; refuses new ones once shutting down.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.0.shutting_down.load(Ordering::SeqCst) {
        return ApiError::shutting_down().into_response();
    }
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.0.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The API's router.
pub fn app(state: AppState) -> Router {
    let limit = usize::try_from(state.0.config().server.body_limit_bytes).unwrap_or(usize::MAX);
    Router::new()
        .nest("/api/v1", routes::router())
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(state.clone(), auth::cors))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes: then it stops accepting,
/// answers 503 to new requests on open connections, lets requests in flight finish,
/// and folds every acknowledged answer into the store before returning.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state.clone());
    let draining = state.clone();
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            draining.begin_shutdown();
        })
        .await;
    let closing = state.clone();
    tokio::task::spawn_blocking(move || closing.close())
        .await
        .map_err(std::io::Error::other)?;
    result
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
