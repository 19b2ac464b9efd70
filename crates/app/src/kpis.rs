//! KPI slices and the scorecard: which periods a request means, which KPIs a
//! scorecard shows and why the others are left out.

use cxkpi_core::config::Config;
use cxkpi_core::filter::{Filter, Op};
use cxkpi_core::kpi::{CATALOGUE, KpiDef};
use cxkpi_core::period::{Grain, Period, parse_period, periods};
use cxkpi_engine::{DataSpan, KpiRow};
use cxkpi_store::Snapshot;
use jiff::civil::Date;

use crate::error::{AppError, Result};

/// Which periods a request names, as given (`--period`, or `--from`/`--to` with an
/// optional `--grain`, or a grain alone re-cutting the default range).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodChoice {
    /// One period: 2024-06-03, 2024-W23, 2024-06, 2024-Q2 or 2024.
    pub period: Option<String>,
    /// First day (YYYY-MM-DD) of a range.
    pub from: Option<String>,
    /// Day after the range (exclusive).
    pub to: Option<String>,
    /// Period length: day, week, month, quarter, year.
    pub grain: Option<String>,
}

/// A `YYYY-MM-DD` argument; a usage error naming `flag` otherwise.
pub fn date(text: &str, flag: &str) -> Result<Date> {
    Date::strptime("%Y-%m-%d", text)
        .map_err(|_| AppError::usage(format!("{flag} `{text}` is not a date YYYY-MM-DD")))
}

fn grain(text: &str) -> Result<Grain> {
    text.parse::<Grain>().map_err(AppError::usage)
}

/// The default: the last `months` complete months of the data. A month counts as
/// complete when the data reaches its last day (data ending on 31 October completes
/// October; data ending on 15 October leaves September the last complete month).
pub fn last_complete_months(
    end: Option<jiff::Timestamp>,
    months: i64,
    config: &Config,
) -> Vec<Period> {
    let tz = &config.time_zone;
    let to = Grain::Month.floor(covered_until(
        end.unwrap_or_else(jiff::Timestamp::now),
        config,
    ));
    let from = to
        .checked_sub(jiff::Span::new().months(months))
        .expect("in range");
    periods(Grain::Month, from, to, tz)
}

impl PeriodChoice {
    /// The periods asked for, or `default` when none are.
    pub fn resolve(&self, config: &Config, default: Vec<Period>) -> Result<Vec<Period>> {
        let tz = &config.time_zone;
        if self.period.is_some() && (self.from.is_some() || self.to.is_some()) {
            return Err(AppError::usage(
                "--period names one period; --from and --to a range: give one or the other",
            ));
        }
        if self.from.is_some() != self.to.is_some() {
            return Err(AppError::usage(
                "--from and --to go together (--to is exclusive)",
            ));
        }
        if let Some(text) = &self.period {
            if let Some(grain) = &self.grain {
                return Err(AppError::usage(format!(
                    "--grain {grain} does not go with --period (one period); write --from DATE --to DATE --grain {grain} to cut a range"
                )));
            }
            return Ok(vec![parse_period(text, tz).map_err(AppError::usage)?]);
        }
        match (&self.from, &self.to) {
            (Some(from), Some(to)) => {
                let (from, to) = (date(from, "--from")?, date(to, "--to")?);
                if to <= from {
                    return Err(AppError::usage(
                        "--to must be after --from (it is exclusive)",
                    ));
                }
                match &self.grain {
                    Some(g) => Ok(clipped_periods(grain(g)?, from, to, tz)),
                    None => Ok(vec![Period::range(from, to, tz).map_err(AppError::usage)?]),
                }
            }
            _ => match &self.grain {
                // A grain alone re-cuts the default range.
                Some(g) if !default.is_empty() => {
                    let first = default.first().expect("non-empty").first_day;
                    let last = default.last().expect("non-empty").end_day;
                    Ok(periods(grain(g)?, first, last, tz))
                }
                _ => Ok(default),
            },
        }
    }
}

/// The grain's periods from `from` to `to`, the first and last cut at `from` and `to`
/// when these fall inside them (such a period is a range: `2026-09-01..2026-09-07`):
/// they were widened to whole periods, so `--to 2024-06-15` reported all of June
/// (issue 17).
fn clipped_periods(grain: Grain, from: Date, to: Date, tz: &jiff::tz::TimeZone) -> Vec<Period> {
    periods(grain, from, to, tz)
        .into_iter()
        .map(|p| {
            if p.first_day < from || p.end_day > to {
                Period::range(p.first_day.max(from), p.end_day.min(to), tz)
                    .expect("a non-empty part of a period")
            } else {
                p
            }
        })
        .collect()
}

/// The filters of `--where` (or the API's `where`) in the grammar of
/// [`cxkpi_core::filter`], dates read in the workspace time zone. Two equalities on one
/// dimension are an error: a row has one value, so both could never hold.
pub fn filters(given: &[String], config: &Config) -> Result<Vec<Filter>> {
    let mut filters: Vec<Filter> = given
        .iter()
        .map(|f| Filter::parse(f).map_err(|e| AppError::usage(format!("--where {e}"))))
        .collect::<Result<_>>()?;
    for f in &mut filters {
        f.bind_times(&config.time_zone);
    }
    let equality = |f: &Filter| matches!(f.op, Op::Eq | Op::EqFold);
    for (i, filter) in filters.iter().enumerate() {
        if let Some(other) = filters[..i].iter().find(|o| {
            equality(o) && equality(filter) && o.dimension.eq_ignore_ascii_case(&filter.dimension)
        }) {
            return Err(AppError::usage(format!(
                "--where names `{}` twice (`{other}` and `{filter}`): a row has one value, so no row would match; for either value write {} in ({}, {})",
                filter.dimension, filter.dimension, other.values[0], filter.values[0]
            )));
        }
    }
    Ok(filters)
}

/// Warnings for filters that match nothing because a value is not one the dimension
/// takes (`plan=Pro` where the plans are `pro` and `basic`), naming the closest value
/// and the ones there are. The dimension's values are read for the first of `kpis`
/// that has it as a text or boolean dimension.
pub async fn filter_warnings(
    snapshot: &Snapshot,
    kpis: &[&'static KpiDef],
    filters: &[Filter],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for filter in filters {
        if !matches!(filter.op, Op::Eq | Op::EqFold | Op::In) {
            continue;
        }
        let mut known = None;
        for kpi in kpis {
            if let Some(values) =
                cxkpi_engine::dimension_values(snapshot, kpi, &filter.dimension).await?
            {
                known = Some(values);
                break;
            }
        }
        let Some(values) = known else { continue };
        let boolean = values
            .iter()
            .all(|v| matches!(v.as_str(), "true" | "false" | "(none)"));
        let fold = |v: &str| v.trim().to_lowercase();
        for value in &filter.values {
            let found = match filter.op {
                Op::EqFold => values.iter().any(|v| fold(v) == fold(value)),
                _ if boolean => cxkpi_core::parse::parse_bool(value.trim())
                    .map(|b| b.to_string())
                    .is_ok_and(|b| values.contains(&b)),
                _ => values.contains(value),
            };
            if found {
                continue;
            }
            let hint = match cxkpi_core::filter::closest(value, &values) {
                Some(close) if fold(close) == fold(value) => format!(
                    " (did you mean `{close}`? `{}~={value}` ignores case)",
                    filter.dimension
                ),
                Some(close) => format!(" (did you mean `{close}`?)"),
                None => String::new(),
            };
            let shown: Vec<&str> = values.iter().take(12).map(String::as_str).collect();
            let more = match values.len().saturating_sub(shown.len()) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            warnings.push(format!(
                "--where `{filter}` matches no row for `{value}`{hint}; `{}` has {}{more}",
                filter.dimension,
                shown.join(", ")
            ));
        }
    }
    Ok(warnings)
}

/// The instant of `--as-of DATE` (midnight starting it in the workspace time zone),
/// or by default the end of the data's last complete month.
pub async fn as_of(
    text: Option<&str>,
    snapshot: &Snapshot,
    config: &Config,
) -> Result<jiff::Timestamp> {
    match text {
        Some(text) => Ok(date(text, "--as-of")?
            .to_zoned(config.time_zone.clone())
            .map_err(|e| AppError::usage(format!("--as-of `{text}`: {e}")))?
            .timestamp()),
        None => {
            let end = cxkpi_engine::data_end(snapshot).await?;
            match last_complete_months(end, 1, config).first() {
                Some(month) => Ok(month.end),
                None => Err(AppError::new(
                    crate::ErrorKind::NotFound,
                    "the store has no data",
                )),
            }
        }
    }
}

/// Checks `--by` for `kpi`: a usage error naming the dimensions it can be segmented by.
pub fn check_by(kpi: &'static KpiDef, by: &[String], snapshot: &Snapshot) -> Result<()> {
    for (i, dimension) in by.iter().enumerate() {
        if by[..i].contains(dimension) {
            return Err(AppError::usage(format!("--by names `{dimension}` twice")));
        }
        cxkpi_engine::check_dimension(kpi, dimension, snapshot)?;
    }
    Ok(())
}

/// A request for `kpi` segmented and filtered as `slice` says, with no periods (the
/// per-customer views), after checking `--by`.
pub fn customer_request(
    kpi: &'static KpiDef,
    slice: &Slice,
    snapshot: &Snapshot,
    config: &Config,
) -> Result<cxkpi_engine::Request> {
    slice.one_by("this view")?;
    check_by(kpi, &slice.by, snapshot)?;
    Ok(cxkpi_engine::Request {
        kpis: vec![kpi],
        periods: Vec::new(),
        by: slice.by.clone(),
        filters: filters(&slice.filters, config)?,
        compare: false,
    })
}

/// Segments and filters of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slice {
    /// The dimensions to segment by (`kpi` and `report` take several: a segment is
    /// then a combination of values).
    pub by: Vec<String>,
    /// `DIM=VALUE` filters as given.
    pub filters: Vec<String>,
}

impl Slice {
    /// The one dimension of a view that segments by one at most; a usage error naming
    /// `view` for several.
    pub fn one_by(&self, view: &str) -> Result<Option<&str>> {
        match self.by.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(AppError::usage(format!(
                "{view} segment by one dimension: give one --by (kpi and report take several)"
            ))),
        }
    }
}

/// One KPI by period (and segment): by default the last 12 complete months.
pub async fn kpi_slice(
    snapshot: &Snapshot,
    config: &Config,
    id: &str,
    periods: &PeriodChoice,
    slice: &Slice,
    compare: bool,
) -> Result<KpiSlice> {
    let kpi = lookup(id)?;
    check_by(kpi, &slice.by, snapshot)?;
    let span = cxkpi_engine::data_span(snapshot, &config.time_zone).await?;
    let periods = periods.resolve(config, last_complete_months(span.end, 12, config))?;
    kpi_rows(snapshot, config, kpi, periods, slice, compare, &span).await
}

/// The KPI of `id` (any case, `-` for `_`); an unknown id is a usage error that names
/// the closest one.
pub fn lookup(id: &str) -> Result<&'static KpiDef> {
    cxkpi_core::kpi::lookup(id).map_err(|e| AppError::usage(e.to_string()))
}

/// One KPI over periods already resolved (the server resolves them once to key its
/// cache); `span` is where the data begins and ends ([`cxkpi_engine::data_span`]).
pub async fn kpi_rows(
    snapshot: &Snapshot,
    config: &Config,
    kpi: &'static KpiDef,
    periods: Vec<Period>,
    slice: &Slice,
    compare: bool,
    span: &DataSpan,
) -> Result<KpiSlice> {
    check_by(kpi, &slice.by, snapshot)?;
    let request = cxkpi_engine::Request {
        kpis: vec![kpi],
        periods,
        by: slice.by.clone(),
        filters: filters(&slice.filters, config)?,
        compare,
    };
    let mut rows = cxkpi_engine::compute(snapshot, config, &request).await?;
    mark_data_span(&mut rows, span, config);
    let warnings = filter_warnings(snapshot, &request.kpis, &request.filters).await?;
    Ok(KpiSlice { rows, warnings })
}

/// One KPI's rows, and warnings about the request (a filter value that matches no
/// row).
#[derive(Debug)]
pub struct KpiSlice {
    /// The rows, by period and segment.
    pub rows: Vec<KpiRow>,
    /// What the user should know about the request.
    pub warnings: Vec<String>,
}

/// Why a period has no value when it starts after the end of a KPI's data.
fn after_the_end(end: jiff::Timestamp, config: &Config) -> String {
    format!(
        "after the end of the data (last row {})",
        local(end, config).strftime("%Y-%m-%d %H:%M:%S %Z")
    )
}

/// Why a period has no value when it ends before a KPI's data begins.
fn before_the_start(first: jiff::Timestamp, config: &Config) -> String {
    format!(
        "before the start of the data (first row {})",
        local(first, config).strftime("%Y-%m-%d %H:%M:%S %Z")
    )
}

fn local(t: jiff::Timestamp, config: &Config) -> jiff::Zoned {
    t.to_zoned(config.time_zone.clone())
}

/// The day after the data's last row (the data covers that row's whole day).
pub(crate) fn covered_until(end: jiff::Timestamp, config: &Config) -> Date {
    local(end, config)
        .date()
        .checked_add(jiff::Span::new().days(1))
        .expect("in range")
}

/// Where `kpi`'s data begins and ends: the first and the last row of any of its
/// sources (the survey export may end a week before the orders do). Customers and
/// subscriptions are states, not events: a customer won in March is still one in
/// October, so for them the data lasts to the store's end.
fn kpi_span(kpi: &KpiDef, span: &DataSpan) -> (Option<jiff::Timestamp>, Option<jiff::Timestamp>) {
    use cxkpi_core::entity::Entity;
    let sources = kpi.required_sources();
    let first = sources
        .iter()
        .filter_map(|e| span.source(*e))
        .map(|(first, _)| first)
        .min();
    let last = sources
        .iter()
        .filter_map(|e| match e {
            Entity::Customers | Entity::Subscriptions => span.end,
            _ => span.source(*e).map(|(_, last)| last),
        })
        .max();
    (first, last)
}

/// Rows of periods outside a KPI's data have no value (the formulas would give 0%
/// churn or an unchanged MRR after it, 0 tickets before it; issue 17), and rows of
/// periods that run past either end are marked partial. As for the default periods,
/// the data covers the whole days of its first and last rows: data ending on 31
/// October completes October.
pub fn mark_data_span(rows: &mut [KpiRow], span: &DataSpan, config: &Config) {
    for row in rows {
        let (first, last) = kpi_span(row.kpi, span);
        let starts = first.map(|t| local(t, config).date());
        let covered = last.map(|t| covered_until(t, config));
        let outside = match (first, last) {
            (_, Some(last)) if covered.is_some_and(|c| row.period.first_day >= c) => {
                Some(after_the_end(last, config))
            }
            (Some(first), _) if starts.is_some_and(|s| row.period.end_day <= s) => {
                Some(before_the_start(first, config))
            }
            _ => None,
        };
        if let Some(reason) = outside {
            row.estimate = cxkpi_core::estimate::Estimate::Plain { value: None, n: 0 };
            row.components.clear();
            row.reason = Some(reason);
            if let Some(change) = &mut row.change {
                change.delta = None;
                change.p_value = None;
                change.significant = None;
                change.no_test = None;
            }
        } else if covered.is_some_and(|c| row.period.end_day > c)
            || starts.is_some_and(|s| row.period.first_day < s)
        {
            row.partial = true;
        }
    }
}

/// A KPI a scorecard leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The KPI's id.
    pub kpi: &'static str,
    /// Why.
    pub reason: String,
}

/// The scorecard: every KPI with data for its periods, compared with the period
/// before, sorted by period; the others are left out with the reason.
#[derive(Debug)]
pub struct Scorecard {
    /// The rows, by period.
    pub rows: Vec<KpiRow>,
    /// The KPIs not shown.
    pub left_out: Vec<LeftOut>,
    /// What the user should know about the request (a filter value that matches no
    /// row).
    pub warnings: Vec<String>,
}

/// The scorecard of `periods` (by default the last complete month of the data).
pub async fn scorecard(
    snapshot: &Snapshot,
    config: &Config,
    periods: &PeriodChoice,
    slice: &Slice,
) -> Result<Scorecard> {
    let span = cxkpi_engine::data_span(snapshot, &config.time_zone).await?;
    let periods = periods.resolve(config, last_complete_months(span.end, 1, config))?;
    scorecard_of(snapshot, config, periods, slice, &span).await
}

/// The scorecard of periods already resolved; `span` is where the data begins and
/// ends.
pub async fn scorecard_of(
    snapshot: &Snapshot,
    config: &Config,
    periods: Vec<Period>,
    slice: &Slice,
    span: &DataSpan,
) -> Result<Scorecard> {
    let filters = filters(&slice.filters, config)?;
    let mut left_out = Vec::new();
    let mut kpis = Vec::new();
    for kpi in CATALOGUE {
        let by_fails = slice
            .by
            .iter()
            .any(|d| cxkpi_engine::check_dimension(kpi, d, snapshot).is_err());
        if by_fails
            || filters
                .iter()
                .any(|f| cxkpi_engine::check_filter(kpi, f, snapshot).is_err())
        {
            left_out.push(LeftOut {
                kpi: kpi.id,
                reason: "cannot be segmented or filtered by that dimension".to_string(),
            });
        } else {
            kpis.push(kpi);
        }
    }
    let dimensions: Vec<&str> = slice
        .by
        .iter()
        .map(String::as_str)
        .chain(filters.iter().map(|f| f.dimension.as_str()))
        .collect();
    if kpis.is_empty() {
        // The first KPI's own error says what is wrong with a filter's value.
        if let Some(f) = filters.first() {
            cxkpi_engine::check_filter(CATALOGUE.first().expect("a catalogue"), f, snapshot)?;
        }
        return Err(AppError::usage(format!(
            "no KPI can be segmented or filtered by {}",
            dimensions
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        )));
    }
    let request = cxkpi_engine::Request {
        kpis,
        periods,
        by: slice.by.clone(),
        filters,
        compare: true,
    };
    let mut rows = cxkpi_engine::compute(snapshot, config, &request).await?;
    mark_data_span(&mut rows, span, config);
    // A scorecard shows the KPIs with a value, as `kpi` would show them; a KPI without
    // one in any of its rows is left out with the rows' reason when they agree.
    let empty: std::collections::BTreeSet<&'static str> = request
        .kpis
        .iter()
        .filter(|k| {
            rows.iter()
                .filter(|r| r.kpi.id == k.id)
                .all(|r| r.value().is_none())
        })
        .map(|k| k.id)
        .collect();
    for id in &empty {
        let mut reasons = rows
            .iter()
            .filter(|r| r.kpi.id == *id)
            .filter_map(|r| r.reason.as_deref());
        let first = reasons.next();
        left_out.push(LeftOut {
            kpi: id,
            reason: match first {
                Some(reason) if reasons.all(|r| r == reason) => reason.to_string(),
                _ => "no data".to_string(),
            },
        });
    }
    rows.retain(|r| !empty.contains(r.kpi.id));
    rows.sort_by_key(|r| r.period.start);
    let warnings = filter_warnings(snapshot, &request.kpis, &request.filters).await?;
    Ok(Scorecard {
        rows,
        left_out,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: `--grain` with `--period` was ignored, and two `--where` on one
    /// dimension were ANDed into nothing without a word.
    #[test]
    fn arguments_that_would_be_ignored_or_match_nothing_are_usage_errors() {
        let config = Config::default();
        let choice = PeriodChoice {
            period: Some("2024-06".into()),
            grain: Some("week".into()),
            ..PeriodChoice::default()
        };
        let err = choice.resolve(&config, Vec::new()).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Usage);
        assert!(
            err.message.contains("--from DATE --to DATE --grain week"),
            "{}",
            err.message
        );
        let month = PeriodChoice {
            period: Some("2024-06".into()),
            ..PeriodChoice::default()
        };
        assert_eq!(month.resolve(&config, Vec::new()).unwrap().len(), 1);

        // --to inside a month was widened to the month's end: 2024-06-15 reported all
        // of June. The last period is cut at --to, the first at --from.
        let range = |from: &str, to: &str, grain: &str| PeriodChoice {
            from: Some(from.into()),
            to: Some(to.into()),
            grain: Some(grain.into()),
            ..PeriodChoice::default()
        };
        let labels = |choice: PeriodChoice| -> Vec<String> {
            choice
                .resolve(&config, Vec::new())
                .unwrap()
                .iter()
                .map(Period::label)
                .collect()
        };
        assert_eq!(
            labels(range("2024-04-10", "2024-06-15", "month")),
            [
                "2024-04-10..2024-05-01",
                "2024-05",
                "2024-06-01..2024-06-15"
            ]
        );
        assert_eq!(
            labels(range("2024-01-01", "2024-03-01", "month")),
            ["2024-01", "2024-02"]
        );
        // 2024-01-01 is a Monday, 2024-01-10 a Wednesday.
        assert_eq!(
            labels(range("2024-01-01", "2024-01-10", "week")),
            ["2024-W01", "2024-01-08..2024-01-10"]
        );
    }
}
