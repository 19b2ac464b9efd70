//! `/metrics`: the Prometheus text exposition (format 0.0.4, via prometheus-client).
//!
//! - The server's own requests: a counter by method, route and status, and a latency
//!   histogram by route.
//! - The intake: answers acknowledged, rejected and folded, disk flushes, failed folds,
//!   and the depth of the log (answers not yet in the store).
//! - Every KPI of the last two complete months of the data, overall and segmented by
//!   each dimension of `server.metrics_dimensions`: `cxkpi_kpi_value`, `cxkpi_kpi_n`,
//!   `cxkpi_kpi_ci_low`, `cxkpi_kpi_ci_high`, labelled by KPI, period
//!   (`current`/`previous`), segment dimension and segment. They are computed once per
//!   store snapshot.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use cxkpi_app::intake::IntakeStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KpiLabels {
    kpi: String,
    period: &'static str,
    period_label: String,
    segment_dimension: String,
    segment: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    /// The KPI part of the exposition, and the snapshot version it is of.
    kpis: Mutex<Option<(u64, String)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// One KPI row for the exposition.
pub(crate) struct KpiSample {
    pub(crate) kpi: &'static str,
    pub(crate) current: bool,
    pub(crate) period_label: String,
    pub(crate) dimension: Option<String>,
    pub(crate) segment: Option<String>,
    pub(crate) value: Option<f64>,
    pub(crate) n: u64,
    pub(crate) ci: Option<(f64, f64)>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "cxkpi_http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "cxkpi_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            latency.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            kpis: Mutex::new(None),
        }
    }

    /// Counts one answered request.
    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// The KPI exposition of snapshot `version`, if it was computed.
    pub(crate) fn kpis_of(&self, version: u64) -> Option<String> {
        match &*self.kpis.lock().expect("not poisoned") {
            Some((v, text)) if *v == version => Some(text.clone()),
            _ => None,
        }
    }

    /// Encodes and keeps the KPI exposition of snapshot `version`.
    pub(crate) fn set_kpis(&self, version: u64, samples: &[KpiSample]) -> String {
        let mut registry = Registry::default();
        let family = |registry: &mut Registry, name: &str, help: &str| {
            let f = Family::<KpiLabels, Gauge<f64, AtomicU64>>::default();
            registry.register(name, help, f.clone());
            f
        };
        let value = family(
            &mut registry,
            "cxkpi_kpi_value",
            "A KPI's value (in its unit: percent, hours, currency, ...)",
        );
        let n = family(
            &mut registry,
            "cxkpi_kpi_n",
            "What a KPI's value counts (its sample size)",
        );
        let low = family(
            &mut registry,
            "cxkpi_kpi_ci_low",
            "The lower bound of a KPI's 95% interval",
        );
        let high = family(
            &mut registry,
            "cxkpi_kpi_ci_high",
            "The upper bound of a KPI's 95% interval",
        );
        for s in samples {
            let labels = KpiLabels {
                kpi: s.kpi.to_string(),
                period: if s.current { "current" } else { "previous" },
                period_label: s.period_label.clone(),
                segment_dimension: s.dimension.clone().unwrap_or_default(),
                segment: s.segment.clone().unwrap_or_default(),
            };
            n.get_or_create(&labels).set(s.n as f64);
            // No value, no sample: a gap in the series rather than an invented zero.
            if let Some(v) = s.value {
                value.get_or_create(&labels).set(v);
            }
            if let Some((lo, hi)) = s.ci {
                low.get_or_create(&labels).set(lo);
                high.get_or_create(&labels).set(hi);
            }
        }
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("writing to a String");
        *self.kpis.lock().expect("not poisoned") = Some((version, text.clone()));
        text
    }

    /// The exposition of the server's and the intake's metrics.
    pub(crate) fn encode(&self, intake: &IntakeStats, cache: (usize, usize)) -> String {
        let mut registry = Registry::default();
        let counter = |registry: &mut Registry, name: &str, help: &str, v: &AtomicU64| {
            let c = Counter::<u64>::default();
            c.inc_by(v.load(Ordering::Relaxed));
            registry.register(name, help, c);
        };
        counter(
            &mut registry,
            "cxkpi_intake_acknowledged",
            "Survey answers made durable and acknowledged",
            &intake.acknowledged,
        );
        counter(
            &mut registry,
            "cxkpi_intake_rejected",
            "Survey answers rejected by the checks",
            &intake.rejected,
        );
        counter(
            &mut registry,
            "cxkpi_intake_flushes",
            "Disk flushes of the intake log (each covers one or more requests)",
            &intake.flushes,
        );
        counter(
            &mut registry,
            "cxkpi_intake_folded",
            "Survey answers folded from the log into the store",
            &intake.folded,
        );
        counter(
            &mut registry,
            "cxkpi_intake_fold_failures",
            "Folds of the intake log that failed (the log is kept and folded again)",
            &intake.fold_failures,
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str, v: i64| {
            let g = Gauge::<i64>::default();
            g.set(v);
            registry.register(name, help, g);
        };
        gauge(
            &mut registry,
            "cxkpi_intake_wal_depth",
            "Acknowledged answers in the log, not yet in the store",
            intake.depth.load(Ordering::Relaxed) as i64,
        );
        gauge(
            &mut registry,
            "cxkpi_cache_entries",
            "Answers held in the result cache",
            cache.0 as i64,
        );
        gauge(
            &mut registry,
            "cxkpi_cache_bytes",
            "Bytes held by the result cache",
            cache.1 as i64,
        );
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .and_then(|()| {
                prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            })
            .expect("writing to a String");
        text
    }
}

/// Every KPI of the last two complete months of the data, overall and by each
/// dimension of `server.metrics_dimensions` (a dimension a KPI cannot be segmented by
/// is skipped for that KPI).
pub(crate) async fn kpi_samples(
    state: &crate::AppState,
    snapshot: &cxkpi_store::Snapshot,
) -> crate::ApiResult<Vec<KpiSample>> {
    let shared = &state.0;
    let config = shared.config();
    let span = shared.data_span(snapshot).await?;
    let periods = cxkpi_app::kpis::last_complete_months(span.end, 2, config);
    let Some(current) = periods.last().map(|p| p.start) else {
        return Ok(Vec::new());
    };
    let mut samples = Vec::new();
    let dimensions = std::iter::once(None).chain(
        config
            .server
            .metrics_dimensions
            .iter()
            .map(|d| Some(d.clone())),
    );
    for by in dimensions {
        let slice = cxkpi_app::kpis::Slice {
            by: by.clone().into_iter().collect(),
            filters: Vec::new(),
        };
        let card =
            match cxkpi_app::kpis::scorecard_of(snapshot, config, periods.clone(), &slice, &span)
                .await
            {
                Ok(card) => card,
                // A dimension no KPI can be segmented by: nothing to expose for it.
                Err(e) if e.kind == cxkpi_app::ErrorKind::Usage => continue,
                Err(e) => return Err(e.into()),
            };
        for row in &card.rows {
            samples.push(KpiSample {
                kpi: row.kpi.id,
                current: row.period.start == current,
                period_label: row.period.label(),
                dimension: by.clone(),
                segment: row.segment.clone(),
                value: row.value(),
                n: row.estimate.n(),
                ci: row.estimate.interval().map(|i| (i.low, i.high)),
            });
        }
    }
    Ok(samples)
}
