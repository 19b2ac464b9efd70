//! An independent cross-check: a deliberately naive implementation of twenty KPIs
//! (plain Rust over the rows of the demo company's CSV files, straight from the
//! definitions in kpis.md, no engine) must give the engine's values and n for every
//! month and segment. The workspace is in America/New_York, so months are cut at local
//! midnight (05:00 or 04:00 UTC) on both sides. Unsegmented, by region, and under two
//! filters of the `--where` grammar (`!=` and `in`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cxkpi_core::entity::Entity;
use cxkpi_core::kpi;
use cxkpi_core::parse::{parse_bool, parse_decimal, parse_integer, parse_timestamp};
use cxkpi_core::period::{Grain, Period, periods};
use cxkpi_engine::{KpiRow, Request, compute};
use cxkpi_store::{ImportOptions, Input, NoProgress, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;

const TIME_ZONE: &str = "America/New_York";

/// The rows of one CSV file as maps from column to non-empty cell.
fn rows(dir: &Path, entity: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join(format!("{entity}.csv"))).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect()
        })
        .collect()
}

struct Data {
    tz: TimeZone,
    customers: Vec<BTreeMap<String, String>>,
    orders: Vec<BTreeMap<String, String>>,
    responses: Vec<BTreeMap<String, String>>,
    tickets: Vec<BTreeMap<String, String>>,
    sessions: Vec<BTreeMap<String, String>>,
    subscriptions: Vec<BTreeMap<String, String>>,
    activity: Vec<BTreeMap<String, String>>,
    region: BTreeMap<String, String>,
}

impl Data {
    fn t(&self, row: &BTreeMap<String, String>, column: &str) -> Option<i64> {
        row.get(column)
            .map(|v| parse_timestamp(v, &self.tz).unwrap().as_microsecond())
    }

    fn region_of(&self, row: &BTreeMap<String, String>) -> String {
        row.get("customer_id")
            .and_then(|c| self.region.get(c))
            .cloned()
            .unwrap_or_else(|| "(none)".into())
    }
}

/// (value, n) per (kpi, period index, segment); segment "" when not segmented.
type Expected = BTreeMap<(&'static str, usize, String), (Option<f64>, u64)>;

fn within(t: Option<i64>, p: &Period) -> bool {
    t.is_some_and(|t| p.start.as_microsecond() <= t && t < p.end.as_microsecond())
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    cxkpi_core::stats::percentile_sorted(&v, 50.0)
}

/// The naive KPIs of one period and segment (`segment(row)` of each row).
fn naive(
    d: &Data,
    p: &Period,
    segment: &dyn Fn(&BTreeMap<String, String>) -> String,
    s: &str,
    out: &mut Expected,
    i: usize,
) {
    let (start, end) = (p.start.as_microsecond(), p.end.as_microsecond());
    let mut put = |kpi: &'static str, value: Option<f64>, n: u64| {
        out.insert((kpi, i, s.to_string()), (value, n));
    };
    let rate = |x: usize, n: usize| ((n > 0).then(|| 100.0 * x as f64 / n as f64), n as u64);

    // Responses.
    let answers = |survey: &str| -> Vec<i64> {
        d.responses
            .iter()
            .filter(|r| {
                r["survey"] == survey && within(d.t(r, "responded_at"), p) && segment(r) == s
            })
            .map(|r| parse_integer(&r["score"]).unwrap())
            .collect()
    };
    let nps = answers("nps");
    let promoters = nps.iter().filter(|x| **x >= 9).count() as f64;
    let detractors = nps.iter().filter(|x| **x <= 6).count() as f64;
    let n = nps.len() as f64;
    put(
        "nps",
        (n > 0.0).then(|| 100.0 * (promoters - detractors) / n),
        nps.len() as u64,
    );
    let csat = answers("csat");
    let (v, n) = rate(csat.iter().filter(|x| **x >= 4).count(), csat.len());
    put("csat", v, n);
    let ces = answers("ces");
    let mean = |v: &[i64]| (!v.is_empty()).then(|| v.iter().sum::<i64>() as f64 / v.len() as f64);
    put("ces", mean(&ces), ces.len() as u64);

    // Customers.
    let customers: Vec<_> = d.customers.iter().filter(|c| segment(c) == s).collect();
    let active_at = |c: &BTreeMap<String, String>, t: i64| {
        d.t(c, "acquired_at").unwrap() <= t && d.t(c, "churned_at").is_none_or(|x| x > t)
    };
    let at_end = customers.iter().filter(|c| active_at(c, end)).count() as u64;
    put("customers_active", Some(at_end as f64), at_end);
    let new = customers
        .iter()
        .filter(|c| within(d.t(c, "acquired_at"), p))
        .count() as u64;
    put("customers_new", Some(new as f64), new);
    let base: Vec<_> = customers.iter().filter(|c| active_at(c, start)).collect();
    let lost = base
        .iter()
        .filter(|c| within(d.t(c, "churned_at"), p))
        .count();
    let (v, n) = rate(lost, base.len());
    put("churn_rate", v, n);
    let during: Vec<&String> = customers
        .iter()
        .filter(|c| {
            d.t(c, "acquired_at").unwrap() < end && d.t(c, "churned_at").is_none_or(|x| x >= start)
        })
        .map(|c| &c["customer_id"])
        .collect();
    let used: BTreeSet<&String> = d
        .activity
        .iter()
        .filter(|a| a["kind"] == "usage" && within(d.t(a, "occurred_at"), p))
        .map(|a| &a["customer_id"])
        .collect();
    let (v, n) = rate(
        during.iter().filter(|c| used.contains(*c)).count(),
        during.len(),
    );
    put("active_rate", v, n);

    // Orders.
    let orders: Vec<_> = d
        .orders
        .iter()
        .filter(|o| within(d.t(o, "ordered_at"), p) && segment(o) == s)
        .collect();
    let revenue: f64 = orders
        .iter()
        .map(|o| parse_decimal(&o["amount"]).unwrap())
        .sum();
    put("revenue", Some(revenue), orders.len() as u64);
    put(
        "aov",
        (!orders.is_empty()).then(|| revenue / orders.len() as f64),
        orders.len() as u64,
    );
    let buyers: BTreeSet<&String> = orders.iter().map(|o| &o["customer_id"]).collect();
    let repeat = buyers
        .iter()
        .filter(|b| {
            d.orders
                .iter()
                .filter(|o| {
                    o["customer_id"].as_str() == b.as_str()
                        && d.t(o, "ordered_at").unwrap() < end
                        && segment(o) == s
                })
                .count()
                >= 2
        })
        .count();
    let (v, n) = rate(repeat, buyers.len());
    put("repeat_purchase_rate", v, n);
    put(
        "purchase_frequency",
        (!buyers.is_empty()).then(|| orders.len() as f64 / buyers.len() as f64),
        buyers.len() as u64,
    );
    let known: Vec<bool> = orders
        .iter()
        .filter_map(|o| o.get("accurate").map(|a| parse_bool(a).unwrap()))
        .collect();
    let (v, n) = rate(known.iter().filter(|a| **a).count(), known.len());
    put("order_accuracy_rate", v, n);
    let delivered: Vec<_> = d
        .orders
        .iter()
        .filter(|o| {
            within(d.t(o, "delivered_at"), p) && o.contains_key("promised_at") && segment(o) == s
        })
        .collect();
    let on_time = delivered
        .iter()
        .filter(|o| d.t(o, "delivered_at") <= d.t(o, "promised_at"))
        .count();
    let (v, n) = rate(on_time, delivered.len());
    put("on_time_delivery_rate", v, n);

    // Tickets.
    let tickets: Vec<_> = d.tickets.iter().filter(|t| segment(t) == s).collect();
    let created: Vec<_> = tickets
        .iter()
        .filter(|t| within(d.t(t, "created_at"), p))
        .collect();
    put(
        "tickets_created",
        Some(created.len() as f64),
        created.len() as u64,
    );
    let backlog = tickets
        .iter()
        .filter(|t| {
            d.t(t, "created_at").unwrap() < end && d.t(t, "resolved_at").is_none_or(|r| r >= end)
        })
        .count() as u64;
    put("ticket_backlog", Some(backlog as f64), backlog);
    let hours = |t: &BTreeMap<String, String>, to: &str| {
        d.t(t, to)
            .map(|x| (x - d.t(t, "created_at").unwrap()) as f64 / 3.6e9)
    };
    let frt: Vec<f64> = created
        .iter()
        .filter_map(|t| hours(t, "first_response_at"))
        .collect();
    put("first_response_time", median(frt.clone()), frt.len() as u64);
    let resolved: Vec<_> = tickets
        .iter()
        .filter(|t| within(d.t(t, "resolved_at"), p))
        .collect();
    let res: Vec<f64> = resolved
        .iter()
        .filter_map(|t| hours(t, "resolved_at"))
        .collect();
    put("resolution_time", median(res), resolved.len() as u64);
    let contacts = |t: &BTreeMap<String, String>| {
        t.get("contacts").map_or_else(
            || 1 + t.get("reopens").map_or(0, |r| parse_integer(r).unwrap()),
            |c| parse_integer(c).unwrap(),
        )
    };
    let (v, n) = rate(
        resolved.iter().filter(|t| contacts(t) == 1).count(),
        resolved.len(),
    );
    put("fcr_rate", v, n);
    let clean = resolved
        .iter()
        .filter(|t| {
            t.get("reopens")
                .is_none_or(|r| parse_integer(r).unwrap() == 0)
                && !t.get("escalated").is_some_and(|e| parse_bool(e).unwrap())
        })
        .count();
    let (v, n) = rate(clean, resolved.len());
    put("net_resolution_rate", v, n);

    // Sessions.
    let visits: Vec<_> = d
        .sessions
        .iter()
        .filter(|v| within(d.t(v, "started_at"), p) && segment(v) == s)
        .collect();
    let visitors: BTreeSet<&String> = visits.iter().map(|v| &v["visitor_id"]).collect();
    let converted: BTreeSet<&String> = visits
        .iter()
        .filter(|v| v.get("converted").is_some_and(|c| parse_bool(c).unwrap()))
        .map(|v| &v["visitor_id"])
        .collect();
    let (v, n) = rate(converted.len(), visitors.len());
    put("conversion_rate", v, n);
    let bounced = visits
        .iter()
        .filter(|v| parse_integer(&v["pageviews"]).unwrap() == 1)
        .count();
    let (v, n) = rate(bounced, visits.len());
    put("bounce_rate", v, n);

    // Subscriptions: MRR at end - 1 s.
    let t = end - 1_000_000;
    let running: Vec<_> = d
        .subscriptions
        .iter()
        .filter(|x| {
            segment(x) == s
                && d.t(x, "started_at").unwrap() <= t
                && d.t(x, "ended_at").is_none_or(|e| e > t)
        })
        .collect();
    let mrr: f64 = running
        .iter()
        .map(|x| parse_decimal(&x["mrr"]).unwrap())
        .sum();
    put("mrr", Some(mrr), running.len() as u64);
}

/// The KPIs computed both ways.
const KPIS: [&str; 22] = [
    "nps",
    "csat",
    "ces",
    "customers_active",
    "customers_new",
    "churn_rate",
    "active_rate",
    "revenue",
    "aov",
    "repeat_purchase_rate",
    "purchase_frequency",
    "order_accuracy_rate",
    "on_time_delivery_rate",
    "tickets_created",
    "ticket_backlog",
    "first_response_time",
    "resolution_time",
    "fcr_rate",
    "net_resolution_rate",
    "conversion_rate",
    "bounce_rate",
    "mrr",
];

#[test]
fn the_engine_agrees_with_a_naive_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let options = cxkpi_demo::DemoOptions {
        customers: 600,
        seed: 11,
        end: Date::constant(2026, 11, 1),
    };
    let files = cxkpi_demo::generate(&data_dir, &options).unwrap();
    Store::init(dir.path()).unwrap();
    let config_path = dir.path().join("cxkpi.toml");
    let text = std::fs::read_to_string(&config_path).unwrap().replacen(
        "time_zone = \"UTC\"",
        &format!("time_zone = \"{TIME_ZONE}\""),
        1,
    );
    std::fs::write(&config_path, text).unwrap();
    let store = Store::open(dir.path()).unwrap();
    for (entity, path, _) in &files.files {
        let entity: Entity = entity.parse().unwrap();
        let input = Input::from_arg(path.to_str().unwrap(), None);
        let summary = store
            .import(entity, &[input], &ImportOptions::default(), &NoProgress)
            .unwrap();
        assert_eq!(summary.rejected, 0);
    }
    let tz = TimeZone::get(TIME_ZONE).unwrap();
    let customers = rows(&data_dir, "customers");
    let region = customers
        .iter()
        .map(|c| (c["customer_id"].clone(), c["region"].clone()))
        .collect();
    let d = Data {
        tz: tz.clone(),
        customers,
        orders: rows(&data_dir, "orders"),
        responses: rows(&data_dir, "responses"),
        tickets: rows(&data_dir, "tickets"),
        sessions: rows(&data_dir, "sessions"),
        subscriptions: rows(&data_dir, "subscriptions"),
        activity: rows(&data_dir, "activity"),
        region,
    };
    let months = periods(
        Grain::Month,
        Date::constant(2025, 11, 1),
        Date::constant(2026, 11, 1),
        &tz,
    );
    let kpis: Vec<&'static kpi::KpiDef> = KPIS.iter().map(|k| kpi::lookup(k).unwrap()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Unsegmented, by region, and filtered by region two ways (issue 17's filter
    // grammar): the naive side keeps a row when its region passes a plain predicate.
    let regions: Vec<String> = d
        .region
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(regions.len() >= 3, "{regions:?}");
    type Keep = Box<dyn Fn(&str) -> bool>;
    let (r0, r1, r2) = (regions[0].clone(), regions[1].clone(), regions[2].clone());
    let filtered: Vec<(Vec<&str>, Option<cxkpi_core::filter::Filter>, Keep)> = vec![
        (vec![], None, Box::new(|_| true)),
        (vec!["region"], None, Box::new(|_| true)),
        // Two dimensions (issue 17): a segment is a pair of values.
        (vec!["region", "industry"], None, Box::new(|_| true)),
        (
            vec![],
            Some(cxkpi_core::filter::Filter::parse(&format!("region != '{r0}'")).unwrap()),
            Box::new(move |r| r != r0),
        ),
        (
            vec![],
            Some(
                cxkpi_core::filter::Filter::parse(&format!("region in ('{r1}', '{r2}')")).unwrap(),
            ),
            Box::new(move |r| r == r1 || r == r2),
        ),
    ];
    let industry: BTreeMap<String, String> = d
        .customers
        .iter()
        .map(|c| {
            let value = c
                .get("industry")
                .cloned()
                .unwrap_or_else(|| "(none)".into());
            (c["customer_id"].clone(), value)
        })
        .collect();
    for (by, filter, keep) in filtered {
        let request = Request {
            kpis: kpis.clone(),
            periods: months.clone(),
            by: by.iter().map(|d| d.to_string()).collect(),
            filters: filter.into_iter().collect(),
            compare: false,
        };
        let rows: Vec<KpiRow> = runtime
            .block_on(compute(
                &store.snapshot().unwrap(),
                store.config(),
                &request,
            ))
            .unwrap();
        let mut expected = Expected::new();
        let values = |map: &BTreeMap<String, String>| {
            let mut s: Vec<String> = map.values().cloned().collect();
            s.push("(none)".into());
            s.sort();
            s.dedup();
            s
        };
        let segments: Vec<String> = match by.len() {
            0 => vec![String::new()],
            1 => values(&d.region),
            _ => values(&d.region)
                .iter()
                .flat_map(|r| {
                    values(&industry)
                        .into_iter()
                        .map(move |i| format!("{r}{}{i}", cxkpi_engine::SEGMENT_SEPARATOR))
                })
                .collect(),
        };
        for (i, p) in months.iter().enumerate() {
            for s in &segments {
                let region = |row: &BTreeMap<String, String>| {
                    if row.contains_key("region") && row.contains_key("acquired_at") {
                        row["region"].clone()
                    } else {
                        d.region_of(row)
                    }
                };
                let industry_of = |row: &BTreeMap<String, String>| {
                    if row.contains_key("acquired_at") {
                        row.get("industry")
                            .cloned()
                            .unwrap_or_else(|| "(none)".into())
                    } else {
                        row.get("customer_id")
                            .and_then(|c| industry.get(c))
                            .cloned()
                            .unwrap_or_else(|| "(none)".into())
                    }
                };
                let segment = |row: &BTreeMap<String, String>| match by.len() {
                    // A row the filter drops is in a segment never asked for.
                    0 if !keep(&region(row)) => "\u{0}dropped".to_string(),
                    0 => String::new(),
                    1 => region(row),
                    _ => format!(
                        "{}{}{}",
                        region(row),
                        cxkpi_engine::SEGMENT_SEPARATOR,
                        industry_of(row)
                    ),
                };
                naive(&d, p, &segment, s, &mut expected, i);
            }
        }
        let mut compared = 0;
        for row in &rows {
            let i = months
                .iter()
                .position(|m| m.first_day == row.period.first_day)
                .unwrap();
            let s = row.segment.clone().unwrap_or_default();
            let Some(&(value, n)) = expected.get(&(row.kpi.id, i, s.clone())) else {
                continue;
            };
            let context = format!("{} {} {:?}", row.kpi.id, row.period.label(), row.segment);
            assert_eq!(row.estimate.n(), n, "n of {context}");
            match (row.value(), value) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{context}: engine {a}, naive {b}"
                ),
                (a, b) => assert_eq!(a, b, "{context}"),
            }
            compared += 1;
        }
        // Every KPI in every month (and segment) was compared.
        assert!(
            compared >= 22 * 12 * segments.len() / 2,
            "only {compared} values compared"
        );
    }
    // Cohort retention (issue 17): the engine's inputs and the core's triangle against
    // plain loops over the CSV rows, by region, for the three measures.
    let bounds: Vec<(i64, i64)> = months
        .iter()
        .map(|p| (p.start.as_microsecond(), p.end.as_microsecond()))
        .collect();
    let request = Request {
        kpis: vec![kpi::lookup("customers_new").unwrap()],
        periods: Vec::new(),
        by: vec!["region".into()],
        filters: Vec::new(),
        compare: false,
    };
    let inputs = runtime
        .block_on(cxkpi_engine::cohort_inputs(
            &store.snapshot().unwrap(),
            &request,
            true,
            true,
        ))
        .unwrap();
    let mut checked = 0;
    for measure in [
        cxkpi_core::cohort::Measure::Customers,
        cxkpi_core::cohort::Measure::Revenue,
        cxkpi_core::cohort::Measure::Mrr,
    ] {
        let triangle = cxkpi_core::cohort::triangle(
            &bounds,
            months.len(),
            &inputs.members,
            measure,
            &inputs.orders,
            &inputs.subscriptions,
        );
        for row in &triangle {
            let region = &inputs.segments[row.segment as usize];
            let members: Vec<&BTreeMap<String, String>> = d
                .customers
                .iter()
                .filter(|c| {
                    &c["region"] == region && within(d.t(c, "acquired_at"), &months[row.cohort])
                })
                .collect();
            assert_eq!(row.size, members.len() as u64, "{region} {}", row.cohort);
            let ids: BTreeSet<&str> = members.iter().map(|c| c["customer_id"].as_str()).collect();
            for (k, value) in row.values.iter().enumerate() {
                let p = &months[row.cohort + k];
                let end = p.end.as_microsecond();
                let naive = match measure {
                    cxkpi_core::cohort::Measure::Customers => members
                        .iter()
                        .filter(|c| d.t(c, "churned_at").is_none_or(|t| t > end))
                        .count()
                        as f64,
                    cxkpi_core::cohort::Measure::Revenue => d
                        .orders
                        .iter()
                        .filter(|o| ids.contains(o["customer_id"].as_str()))
                        .filter(|o| within(d.t(o, "ordered_at"), p))
                        .map(|o| parse_decimal(&o["amount"]).unwrap())
                        .sum(),
                    cxkpi_core::cohort::Measure::Mrr => {
                        let t = end - 1_000_000;
                        d.subscriptions
                            .iter()
                            .filter(|s| ids.contains(s["customer_id"].as_str()))
                            .filter(|s| {
                                d.t(s, "started_at").is_some_and(|a| a <= t)
                                    && d.t(s, "ended_at").is_none_or(|e| e > t)
                            })
                            .map(|s| parse_decimal(&s["mrr"]).unwrap())
                            .sum()
                    }
                };
                assert!(
                    (value - naive).abs() <= 1e-6 * naive.abs().max(1.0),
                    "{measure:?} {region} cohort {} age {k}: {value} vs naive {naive}",
                    row.cohort
                );
                checked += 1;
            }
        }
    }
    // 12 cohorts with 12 - c ages each, per region with customers, per measure.
    assert!(checked >= 3 * 78, "only {checked} cohort cells checked");
    // MRR movements (issue 17): the engine's intervals and the core's classification
    // against plain loops over the subscription rows, unsegmented; each period's start
    // and end are also the naive MRR at the ends of the previous period and this one.
    let request = Request {
        kpis: vec![kpi::lookup("mrr").unwrap()],
        periods: Vec::new(),
        by: Vec::new(),
        filters: Vec::new(),
        compare: false,
    };
    let (_, intervals) = runtime
        .block_on(cxkpi_engine::subscription_intervals(
            &store.snapshot().unwrap(),
            &request,
        ))
        .unwrap();
    let moved = cxkpi_core::movements::movements(&bounds, &intervals);
    // A customer's intervals: (started_at, ended_at, mrr).
    type Intervals = Vec<(i64, Option<i64>, f64)>;
    let mut by_customer: BTreeMap<&str, Intervals> = BTreeMap::new();
    for s in &d.subscriptions {
        by_customer
            .entry(s["customer_id"].as_str())
            .or_default()
            .push((
                d.t(s, "started_at").unwrap(),
                d.t(s, "ended_at"),
                parse_decimal(&s["mrr"]).unwrap(),
            ));
    }
    let mrr_at = |list: &[(i64, Option<i64>, f64)], t: i64| -> f64 {
        list.iter()
            .filter(|(a, e, _)| *a <= t && e.is_none_or(|e| e > t))
            .map(|(_, _, m)| m)
            .sum()
    };
    for (p, month) in months.iter().enumerate() {
        let (s0, e0) = (
            month.start.as_microsecond() - 1_000_000,
            month.end.as_microsecond() - 1_000_000,
        );
        // (start, end, new, reactivation, expansion, contraction, churned)
        let mut naive = [0.0f64; 7];
        let mut counts = [0u64; 5];
        for list in by_customer.values() {
            let (before, after) = (mrr_at(list, s0), mrr_at(list, e0));
            naive[0] += before;
            naive[1] += after;
            let slot = if before == 0.0 && after > 0.0 {
                if list.iter().any(|(a, _, m)| *m > 0.0 && *a <= s0) {
                    1
                } else {
                    0
                }
            } else if before > 0.0 && after == 0.0 {
                4
            } else if after > before {
                2
            } else if after < before {
                3
            } else {
                continue;
            };
            naive[2 + slot] += after - before;
            counts[slot] += 1;
        }
        let m = moved.iter().find(|m| m.period == p).unwrap();
        let engine = [
            m.start,
            m.end,
            m.new.0,
            m.reactivation.0,
            m.expansion.0,
            m.contraction.0,
            m.churned.0,
        ];
        for (a, b) in engine.iter().zip(naive) {
            assert!(
                (a - b).abs() < 1e-6,
                "MRR movements {}: {engine:?} vs naive {naive:?}",
                month.label()
            );
        }
        assert_eq!(
            [
                m.new.1,
                m.reactivation.1,
                m.expansion.1,
                m.contraction.1,
                m.churned.1
            ],
            counts,
            "{}",
            month.label()
        );
        assert!(m.balanced());
    }
}
