//! The handlers of `/api/v1`. Each reads its parameters, checks the caller's scope,
//! calls one use case of `cxkpi_app` and answers its wire form: the same bytes the CLI
//! prints with `--format json`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use cxkpi_app::kpis::{self, last_complete_months};
use cxkpi_app::tokens::Scope;
use cxkpi_app::{render, wire};
use cxkpi_core::entity::Entity;
use cxkpi_core::health::HealthBand;

use crate::cache::deps;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::params::doc::{
    AsOfQuery, CohortsQuery, CompareQuery, DriversQuery, HealthQuery, PeriodQuery, SliceQuery,
    SurvivalQuery, ThemesQuery, TopQuery,
};
use crate::{AppState, Caller};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/kpis", get(catalogue))
        .route("/kpis/{id}", get(kpi))
        .route("/report", get(report))
        .route("/health", get(health))
        .route("/survival", get(survival))
        .route("/drivers/nps", get(drivers))
        .route("/themes", get(themes))
        .route("/cohorts", get(cohorts))
        .route("/mrr-movements", get(mrr_movements))
        .route("/customers", get(customers))
        .route("/customers/{id}", get(customer))
        .route("/responses", post(responses))
        .route("/import/{entity}", post(import))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{name}", delete(revoke_token))
        .method_not_allowed_fallback(method_not_allowed)
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; the API is described at /api/v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method (see /api/v1/openapi.json)",
    )
}

fn json(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn to_json(value: &impl serde::Serialize) -> ApiResult<Bytes> {
    let mut out = serde_json::to_vec(value).map_err(internal)?;
    out.push(b'\n');
    Ok(Bytes::from(out))
}

/// The bytes a renderer writes.
fn written(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> ApiResult<Bytes> {
    let mut out = Vec::new();
    write(&mut out).map_err(internal)?;
    Ok(Bytes::from(out))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::from(cxkpi_app::AppError::new(
        cxkpi_app::ErrorKind::Internal,
        e.to_string(),
    ))
}

/// Answers from the cache when the tables `tables` have not changed since `key` was
/// computed; computes, caches and answers otherwise. Requests for the same key that
/// arrive while it is computed wait for that computation rather than repeat it.
async fn cached<F, Fut>(
    state: &AppState,
    snapshot: &cxkpi_store::Snapshot,
    key: String,
    tables: &[Entity],
    compute: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Bytes>>,
{
    let cache = &state.0.cache;
    if let Some(body) = cache.get(&key, snapshot) {
        return Ok(json(StatusCode::OK, body));
    }
    let flight = cache.flight(&key, snapshot.version());
    let body = flight
        .get_or_try_init(|| async {
            let body = compute().await?;
            cache.put(key.clone(), deps(snapshot, tables), body.clone());
            Ok::<_, ApiError>(body)
        })
        .await;
    cache.land(&key, snapshot.version());
    Ok(json(StatusCode::OK, body?.clone()))
}

fn period_key(periods: &[cxkpi_core::period::Period]) -> String {
    periods
        .iter()
        .map(|p| format!("{}..{}", p.start, p.end))
        .collect::<Vec<_>>()
        .join(",")
}

/// Liveness: no token needed.
#[utoipa::path(get, path = "/api/v1/healthz", tag = "system",
    responses((status = 200, description = "The server is up", body = wire::Liveness)))]
async fn healthz(State(state): State<AppState>) -> ApiResult<Response> {
    let snapshot = state.0.snapshot()?;
    Ok(json(
        StatusCode::OK,
        to_json(&wire::Liveness {
            status: "ok",
            store_version: snapshot.version(),
        })?,
    ))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    security(("bearer" = [])),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi(caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    Ok(json(StatusCode::OK, Bytes::from(crate::openapi_json())))
}

/// Prometheus exposition (text format 0.0.4).
#[utoipa::path(get, path = "/api/v1/metrics", tag = "system",
    security(("bearer" = [])),
    responses((status = 200, description = "Metrics in the Prometheus text format 0.0.4", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let kpis = match shared.metrics.kpis_of(snapshot.version()) {
        Some(text) => text,
        None => {
            let samples = crate::metrics::kpi_samples(&state, &snapshot).await?;
            shared.metrics.set_kpis(snapshot.version(), &samples)
        }
    };
    let mut text = shared
        .metrics
        .encode(shared.intake.stats(), shared.cache.size());
    text.push_str(&kpis);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The KPI catalogue.
#[utoipa::path(get, path = "/api/v1/kpis", tag = "kpis",
    security(("bearer" = [])),
    responses((status = 200, description = "Every KPI's definition", body = wire::KpiList)))]
async fn catalogue(caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    Ok(json(StatusCode::OK, to_json(&wire::KpiList::catalogue())?))
}

/// One KPI by period (and segment): by default the last 12 complete months. The rows
/// are those of `cxkpi kpi ID --format json`.
#[utoipa::path(get, path = "/api/v1/kpis/{id}", tag = "kpis",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The KPI's id (`nps`, `first_response_time`)"),
        PeriodQuery, SliceQuery, CompareQuery),
    responses((status = 200, description = "The KPI's rows", body = wire::KpiRows)))]
async fn kpi(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let params = Params::parse(
        query.as_deref(),
        &["period", "from", "to", "grain", "by", "where", "compare"],
    )?;
    let kpi = kpis::lookup(&id).map_err(|e| ApiError::not_found(e.message))?;
    let shared = &state.0;
    let config = shared.config();
    let snapshot = shared.snapshot()?;
    let compare = params.flag("compare")?;
    let slice = params.slice();
    kpis::check_by(kpi, &slice.by, &snapshot)?;
    let span = shared.data_span(&snapshot).await?;
    let end = span.end;
    let periods = params
        .periods()
        .resolve(config, last_complete_months(end, 12, config))?;
    // The data's span decides which periods are partial or outside it; its parts for
    // the KPI's tables change only with them, so the end and the tags key it.
    let key = format!(
        "kpi/{}?{}#{}#{end:?}",
        kpi.id,
        params.canonical(),
        period_key(&periods)
    );
    let mut tables = kpi.sources.to_vec();
    tables.push(Entity::Customers);
    cached(&state, &snapshot, key, &tables, || async {
        let slice = kpis::kpi_rows(&snapshot, config, kpi, periods, &slice, compare, &span).await?;
        let mut out = Vec::new();
        let rows = &slice.rows;
        render::kpis::write_rows(&mut out, rows, "json", config, &[], &slice.warnings, false)?;
        Ok(Bytes::from(out))
    })
    .await
}

/// The scorecard: every KPI with data (default: the last complete month of the data),
/// each compared with the period before. The rows are those of
/// `cxkpi report --format json`.
#[utoipa::path(get, path = "/api/v1/report", tag = "kpis",
    security(("bearer" = [])),
    params(PeriodQuery, SliceQuery),
    responses((status = 200, description = "The scorecard, and the KPIs left out with why", body = wire::KpiRows)))]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(
        query.as_deref(),
        &["period", "from", "to", "grain", "by", "where"],
    )?;
    let shared = &state.0;
    let config = shared.config();
    let snapshot = shared.snapshot()?;
    let span = shared.data_span(&snapshot).await?;
    let end = span.end;
    let periods = params
        .periods()
        .resolve(config, last_complete_months(end, 1, config))?;
    let key = format!(
        "report?{}#{}#{end:?}",
        params.canonical(),
        period_key(&periods)
    );
    let slice = params.slice();
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let card = kpis::scorecard_of(&snapshot, config, periods, &slice, &span).await?;
        let mut out = Vec::new();
        render::kpis::write_rows(
            &mut out,
            &card.rows,
            "json",
            config,
            &card.left_out,
            &card.warnings,
            true,
        )?;
        Ok(Bytes::from(out))
    })
    .await
}

/// Customer health scores at an instant, worst first (`cxkpi health --format json`).
#[utoipa::path(get, path = "/api/v1/health", tag = "customers",
    security(("bearer" = [])),
    params(AsOfQuery, HealthQuery, SliceQuery),
    responses((status = 200, description = "Scored customers, worst first", body = wire::HealthRows)))]
async fn health(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(query.as_deref(), &["as_of", "band", "by", "where"])?;
    let band = band(&params)?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("health?{}", params.canonical());
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let list = cxkpi_app::health::health(
            &snapshot,
            shared.config(),
            params.get("as_of"),
            &params.slice(),
            band,
        )
        .await?;
        written(|out| render::health::write_json(out, &list))
    })
    .await
}

/// Kaplan-Meier customer survival by segment (`cxkpi survival --format json`).
#[utoipa::path(get, path = "/api/v1/survival", tag = "customers",
    security(("bearer" = [])),
    params(AsOfQuery, SliceQuery, SurvivalQuery),
    responses((status = 200, description = "Survival curves, medians and the log-rank test", body = wire::Survival)))]
async fn survival(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(query.as_deref(), &["as_of", "by", "where", "unit"])?;
    let unit = cxkpi_app::survival::DurationUnit::parse(params.get("unit").unwrap_or("months"))?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("survival?{}", params.canonical());
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let survival = cxkpi_app::survival::survival(
            &snapshot,
            shared.config(),
            params.get("as_of"),
            &params.slice(),
            unit,
        )
        .await?;
        written(|out| render::survival::write_json(out, &survival))
    })
    .await
}

/// What drives NPS (`cxkpi drivers nps --format json`).
#[utoipa::path(get, path = "/api/v1/drivers/nps", tag = "kpis",
    security(("bearer" = [])),
    params(PeriodQuery, DriversQuery),
    responses((status = 200, description = "Shapley shares of R² and the change by segment", body = wire::NpsDrivers)))]
async fn drivers(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(query.as_deref(), &["period", "from", "to", "grain", "by"])?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("drivers/nps?{}", params.canonical());
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let drivers = cxkpi_app::drivers::nps_drivers(
            &snapshot,
            shared.config(),
            &params.periods(),
            params.get("by"),
        )
        .await?;
        written(|out| render::drivers::write_json(out, &drivers))
    })
    .await
}

/// What negative comments are about (`cxkpi themes --format json`).
#[utoipa::path(get, path = "/api/v1/themes", tag = "kpis",
    security(("bearer" = [])),
    params(PeriodQuery, SliceQuery, ThemesQuery),
    responses((status = 200, description = "Frequent and distinctive terms of negative comments", body = wire::ThemesRows)))]
async fn themes(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(
        query.as_deref(),
        &["period", "from", "to", "grain", "by", "where", "top"],
    )?;
    let top = params.number("top", 10, 1..=1000)?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("themes?{}", params.canonical());
    cached(
        &state,
        &snapshot,
        key,
        &[Entity::Responses, Entity::Customers],
        || async {
            let rows = cxkpi_app::themes::themes(
                &snapshot,
                shared.config(),
                &params.periods(),
                &params.slice(),
                top,
            )
            .await?;
            written(|out| render::themes::write_json(out, &rows))
        },
    )
    .await
}

/// Cohort retention (`cxkpi cohorts --format json`).
#[utoipa::path(get, path = "/api/v1/cohorts", tag = "kpis",
    security(("bearer" = [])),
    params(CohortsQuery, SliceQuery),
    responses((status = 200, description = "The retention triangle: per cohort its size, base and the measure at each age", body = wire::Cohorts)))]
async fn cohorts(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(
        query.as_deref(),
        &["by_acquisition", "measure", "from", "to", "by", "where"],
    )?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("cohorts?{}", params.canonical());
    let grain = params.get("by_acquisition").unwrap_or("month").to_string();
    let measure = params.get("measure").unwrap_or("customers").to_string();
    let choice = cxkpi_app::kpis::PeriodChoice {
        from: params.get("from").map(String::from),
        to: params.get("to").map(String::from),
        ..Default::default()
    };
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let cohorts = cxkpi_app::cohorts::cohorts(
            &snapshot,
            shared.config(),
            &grain,
            &measure,
            &choice,
            &params.slice(),
        )
        .await?;
        written(|out| render::cohorts::write_json(out, &cohorts))
    })
    .await
}

/// MRR movements (`cxkpi mrr-movements --format json`).
#[utoipa::path(get, path = "/api/v1/mrr-movements", tag = "kpis",
    security(("bearer" = [])),
    params(PeriodQuery, SliceQuery),
    responses((status = 200, description = "Per period and segment: start, new, reactivation, expansion, contraction, churned and end MRR", body = wire::MrrMovements)))]
async fn mrr_movements(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(
        query.as_deref(),
        &["period", "from", "to", "grain", "by", "where"],
    )?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("mrr-movements?{}", params.canonical());
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let movements = cxkpi_app::movements::mrr_movements(
            &snapshot,
            shared.config(),
            &params.periods(),
            &params.slice(),
        )
        .await?;
        written(|out| render::movements::write_json(out, &movements))
    })
    .await
}

/// The fitted models' file stamps: the customer answers use them, and a model fitted
/// again changes them without changing the store.
fn models_stamp(store: &cxkpi_store::Store) -> String {
    ["churn", "clv"]
        .iter()
        .map(|name| {
            let path = store
                .root()
                .join(cxkpi_store::MODELS_DIR)
                .join(format!("{name}.json"));
            format!("{:?}", crate::file_stamp(&path))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn band(params: &Params) -> ApiResult<Option<HealthBand>> {
    match params.get("band") {
        None => Ok(None),
        Some("green") => Ok(Some(HealthBand::Green)),
        Some("yellow") => Ok(Some(HealthBand::Yellow)),
        Some("red") => Ok(Some(HealthBand::Red)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`band` is green, yellow or red, not `{other}`"
        ))),
    }
}

/// One customer: their rows in every table, health with its components, latest NPS
/// and CSAT, open tickets, and CLV and churn risk when those models are fitted.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The customer", body = wire::Customer)))]
async fn customer(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Params::parse(query.as_deref(), &[])?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!("customer/{id}#{}", models_stamp(&shared.store));
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let view = cxkpi_app::customers::customer(&shared.store, &snapshot, &id).await?;
        to_json(&wire::Customer::from(&view))
    })
    .await
}

/// The customers in worst health (at the end of the data's last complete month),
/// optionally of one band, with their churn probability when a churn model is trained.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    security(("bearer" = [])),
    params(HealthQuery, TopQuery),
    responses((status = 200, description = "Customers, worst health first", body = wire::CustomerList)))]
async fn customers(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let params = Params::parse(query.as_deref(), &["band", "top"])?;
    let band = band(&params)?;
    let top = params.number("top", 50, 1..=10_000)?;
    let shared = &state.0;
    let snapshot = shared.snapshot()?;
    let key = format!(
        "customers?{}#{}",
        params.canonical(),
        models_stamp(&shared.store)
    );
    cached(&state, &snapshot, key, &Entity::ALL, || async {
        let list = cxkpi_app::customers::at_risk(&shared.store, &snapshot, band, top).await?;
        to_json(&wire::CustomerList::from(&list))
    })
    .await
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map_or("", str::trim)
}

fn body(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is larger than server.body_limit_mib allows",
            )
        } else {
            ApiError::bad_request(format!("the body cannot be read: {}", e.body_text()))
        }
    })
}

/// Survey answers: one JSON object or an array of up to 1,000, with the responses
/// entity's columns. A 200 means every accepted answer is on disk (it survives a
/// crash of the server) and in KPI queries within seconds; sending an answer again
/// (same `response_id`) stores it once.
#[utoipa::path(post, path = "/api/v1/responses", tag = "data",
    security(("bearer" = [])),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "An answer ({\"response_id\", \"survey\", \"score\", \"customer_id\", \"responded_at\", ...}) or an array of them"),
    responses((status = 200, description = "What happened to each answer", body = wire::IntakeReceipt)))]
async fn responses(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    caller.require(Scope::Survey)?;
    if content_type(&headers) != "application/json" {
        return Err(ApiError::unsupported_media(
            "send answers as Content-Type: application/json",
        ));
    }
    let payload = body(payload)?;
    let shared = &state.0;
    let answers = shared.intake.submit(&payload, &shared.store).await?;
    let receipt = wire::IntakeReceipt::from(answers.as_slice());
    Ok(json(StatusCode::OK, to_json(&receipt)?))
}

static UPLOADS: AtomicU64 = AtomicU64::new(0);

/// Rows of an entity as CSV (`text/csv`) or NDJSON (`application/x-ndjson`),
/// optionally gzip-compressed (`Content-Encoding: gzip`), checked and stored as
/// `cxkpi import` does: one atomic upsert by id.
#[utoipa::path(post, path = "/api/v1/import/{entity}", tag = "data",
    security(("bearer" = [])),
    params(("entity" = String, Path, description = "customers, orders, subscriptions, responses, tickets, spend, sessions, referrals or activity")),
    request_body(content = String, content_type = "text/csv", description = "CSV with a header, or NDJSON (application/x-ndjson)"),
    responses((status = 200, description = "What was stored and what was rejected", body = wire::ImportResult)))]
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    entity: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let Path(entity) = entity.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let entity: Entity = entity.parse().map_err(|_| {
        ApiError::not_found(format!(
            "no entity `{entity}`: customers, orders, subscriptions, responses, tickets, spend, sessions, referrals, activity"
        ))
    })?;
    let format = match content_type(&headers) {
        "text/csv" => cxkpi_store::InputFormat::Csv,
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            cxkpi_store::InputFormat::Ndjson
        }
        _ => {
            return Err(ApiError::unsupported_media(
                "send rows as Content-Type: text/csv or application/x-ndjson",
            ));
        }
    };
    match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("gzip") | Some("identity") => {}
        Some(other) => {
            return Err(ApiError::unsupported_media(format!(
                "Content-Encoding {other} is not supported (gzip is)"
            )));
        }
    }
    let payload = body(payload)?;
    let store = state.0.store.clone();
    let summary = tokio::task::spawn_blocking(move || -> cxkpi_app::Result<_> {
        // The store reads files; gzip is recognised by its magic bytes.
        let dir = store.root().join(cxkpi_app::intake::INTAKE_DIR);
        let path = dir.join(format!(
            "upload-{}-{}",
            std::process::id(),
            UPLOADS.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::write(&path, &payload);
        let result = written
            .map_err(|e| {
                cxkpi_app::AppError::new(
                    cxkpi_app::ErrorKind::Internal,
                    format!("spooling the body: {e}"),
                )
            })
            .and_then(|()| {
                let input = cxkpi_store::Input {
                    source: cxkpi_store::InputSource::Path(path.clone()),
                    format: Some(format),
                };
                Ok(store.import(
                    entity,
                    &[input],
                    &cxkpi_store::ImportOptions {
                        strict: false,
                        keep_rejections: 1000,
                    },
                    &cxkpi_store::NoProgress,
                )?)
            });
        let _ = std::fs::remove_file(&path);
        result
    })
    .await
    .map_err(internal)??;
    let result = wire::ImportResult::from(&summary);
    if let Some(reason) = &result.refused {
        let details = serde_json::to_value(&result).map_err(internal)?;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            format!("the body was refused: {reason}"),
        )
        .with_details(details));
    }
    Ok(json(StatusCode::OK, to_json(&result)?))
}

/// The workspace's tokens (admin).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    security(("bearer" = [])),
    responses((status = 200, description = "The tokens, oldest first (never their secrets)", body = wire::TokenList)))]
async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let rows = cxkpi_app::tokens::list(&state.0.store)?
        .iter()
        .map(wire::TokenInfo::from)
        .collect();
    Ok(json(StatusCode::OK, to_json(&wire::TokenList { rows })?))
}

/// Creates a token (admin); its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens",
    security(("bearer" = [])),
    request_body(content = wire::NewTokenRequest, content_type = "application/json"),
    responses((status = 201, description = "The token, with its secret", body = wire::CreatedToken)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    request: Result<axum::Json<wire::NewTokenRequest>, JsonRejection>,
) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let axum::Json(request) = request.map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::unsupported_media("send Content-Type: application/json")
        }
        JsonRejection::BytesRejection(e) => body(Err(e)).expect_err("a rejection"),
        other => ApiError::bad_request(other.body_text()),
    })?;
    let new = cxkpi_app::tokens::NewToken {
        scope: request.scope.parse()?,
        name: request.name,
        origins: request.origins.unwrap_or_default(),
    };
    let (token, secret) = cxkpi_app::tokens::create(&state.0.store, &new)?;
    let created = wire::CreatedToken {
        info: wire::TokenInfo::from(&token),
        token: secret,
    };
    Ok(json(StatusCode::CREATED, to_json(&created)?))
}

/// Revokes a token (admin); it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "tokens",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 200, description = "The token revoked", body = wire::TokenInfo)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    caller.require(Scope::Admin)?;
    let Path(name) = name.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let token = cxkpi_app::tokens::revoke(&state.0.store, &name)?;
    Ok(json(
        StatusCode::OK,
        to_json(&wire::TokenInfo::from(&token))?,
    ))
}
