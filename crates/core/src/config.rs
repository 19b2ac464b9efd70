//! Workspace configuration: `cxkpi.toml`.
//!
//! Two stages, as in ripgrep's flags: the TOML text is read into plain `Raw*` structs
//! that mirror the file, then validated into [`Config`], whose fields are typed (a
//! resolved time zone, checked scales and weights). [`DEFAULT_TOML`] is the file `cxkpi
//! init` writes: every setting with its default and a comment, so the file documents
//! itself. A test keeps it equal to `Config::default()`.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;

/// The file `cxkpi init` writes.
pub const DEFAULT_TOML: &str = include_str!("default_config.toml");

/// A validated workspace configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The IANA name of the workspace time zone.
    pub time_zone_name: String,
    /// The workspace time zone: periods and naive timestamps are read in it.
    pub time_zone: TimeZone,
    /// ISO 4217 code of the currency of every amount.
    pub currency: String,
    /// Gross margin (0..=1) for CLV and CAC payback.
    pub gross_margin: f64,
    /// Monthly discount rate for predictive CLV.
    pub monthly_discount_rate: f64,
    /// Survey scales by survey name (always contains nps, csat, ces and ppr).
    pub surveys: BTreeMap<String, SurveyScale>,
    /// First-response SLA target in hours.
    pub sla_first_response_hours: f64,
    /// First-response SLA targets of tickets with a value of a column (`[sla.priority]
    /// urgent = "15m"`), in the order a ticket's policy is looked up: priority first,
    /// then the other columns by name; a ticket no target matches has the default.
    pub sla_targets: Vec<SlaTarget>,
    /// The business-hours calendar, when enabled.
    pub business_hours: Option<BusinessHours>,
    /// Benchmark bands by KPI id; replaces the defaults of the KPI catalogue per KPI.
    pub benchmarks: BTreeMap<String, Vec<Band>>,
    /// Targets by KPI id.
    pub targets: BTreeMap<String, Threshold>,
    /// Health-score weights and bands.
    pub health: HealthConfig,
    /// How the store is written.
    pub store: StoreConfig,
    /// How `cxkpi serve` listens and what it allows.
    pub server: ServerConfig,
    /// Text columns and dimensions whose values are stored trimmed and in lower case
    /// (`[import] fold_case`), so `Solved`, `solved ` and `SOLVED` are one segment.
    pub fold_case: Vec<String>,
}

/// A first-response SLA target for the tickets with `column = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaTarget {
    /// A ticket column or dimension (`priority`, `channel`).
    pub column: String,
    /// Its value.
    pub value: String,
    /// The target in hours.
    pub hours: f64,
}

/// The settings of `cxkpi serve`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// The address to listen on (`--addr` overrides it).
    pub address: String,
    /// The largest request body, in bytes.
    pub body_limit_bytes: u64,
    /// Requests per second each token may make on average.
    pub rate_limit_per_second: f64,
    /// Requests a token may make at once after being idle.
    pub rate_limit_burst: f64,
    /// Origins whose web pages may call the API with a read, write or admin token.
    pub cors_origins: Vec<String>,
    /// The dimensions `/metrics` segments every KPI by.
    pub metrics_dimensions: Vec<String>,
}

/// Limits of the store's writers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreConfig {
    /// How long a writer waits for another writer's lock before giving up, in seconds.
    pub lock_timeout_seconds: f64,
    /// The longest record (a CSV row, an NDJSON line, a header) an import reads, in bytes.
    pub max_record_bytes: u64,
}

/// The scale of a survey.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurveyScale {
    /// Lowest score.
    pub min: i64,
    /// Highest score.
    pub max: i64,
    /// Scores at or above this count as satisfied (CSAT).
    pub satisfied_at: i64,
    /// Whether a higher score is better (false for effort scales that run the other way).
    pub higher_is_better: bool,
    /// The satisfaction KPI its answers count in: a built-in survey its own, a survey
    /// of the workspace the `kind` it declares (`csat`: satisfied at or above
    /// `satisfied_at`; `nps`: 0..10; `ces` or `ppr`: a mean on their scale), or none.
    pub kind: Option<&'static str>,
}

/// The kinds a survey of the workspace may declare: the satisfaction KPIs.
pub const SURVEY_KINDS: [&str; 4] = ["csat", "nps", "ces", "ppr"];

impl SurveyScale {
    /// Whether `score` is inside the scale.
    pub fn contains(&self, score: i64) -> bool {
        (self.min..=self.max).contains(&score)
    }
}

/// A comparison such as `>= 40` or `<= 2h`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The comparison operator.
    pub op: Comparison,
    /// The number, in the KPI's unit (durations converted to hours).
    pub value: f64,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>=`
    AtLeast,
    /// `>`
    Above,
    /// `<=`
    AtMost,
    /// `<`
    Below,
}

impl Threshold {
    /// Whether `value` meets the threshold.
    pub fn is_met(&self, value: f64) -> bool {
        match self.op {
            Comparison::AtLeast => value >= self.value,
            Comparison::Above => value > self.value,
            Comparison::AtMost => value <= self.value,
            Comparison::Below => value < self.value,
        }
    }
}

/// A named benchmark band, e.g. `excellent = ">= 50"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The band's name.
    pub name: String,
    /// The condition a value meets to be in the band.
    pub threshold: Threshold,
}

/// Opening hours for one weekday: `None` when closed.
pub type DayHours = Option<Opening>;

/// The opening hours of one day, in the calendar's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// Opening time.
    pub open: Time,
    /// Closing time; `None` for midnight at the end of the day (written `24:00`).
    pub close: Option<Time>,
}

/// A business-hours calendar.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    /// The calendar's time zone.
    pub time_zone: TimeZone,
    /// Opening hours Monday (index 0) to Sunday (index 6).
    pub week: [DayHours; 7],
    /// Closed days, sorted.
    pub holidays: Vec<Date>,
}

impl BusinessHours {
    /// The opening hours of a weekday.
    pub fn hours(&self, day: Weekday) -> DayHours {
        self.week[usize::from(day.to_monday_zero_offset() as u8)]
    }
}

/// Health-score configuration (kpis.md, "Health score").
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// Weight of activity recency.
    pub weight_activity: f64,
    /// Weight of the latest NPS or CSAT answer.
    pub weight_satisfaction: f64,
    /// Weight of the support burden.
    pub weight_support: f64,
    /// Weight of purchase recency.
    pub weight_purchase: f64,
    /// Scores at or above this are green.
    pub green_at: f64,
    /// Scores at or above this (and below green) are yellow; below it, red.
    pub yellow_at: f64,
}

/// An error in `cxkpi.toml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not valid TOML, or an unknown or mistyped key.
    #[error("{0}")]
    Syntax(String),
    /// A value that is well formed but not acceptable.
    #[error("`{key}`: {reason}")]
    Invalid {
        /// The dotted key.
        key: String,
        /// Why.
        reason: String,
    },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    workspace: RawWorkspace,
    finance: RawFinance,
    surveys: BTreeMap<String, RawSurvey>,
    support: RawSupport,
    business_hours: RawBusinessHours,
    benchmarks: BTreeMap<String, BTreeMap<String, String>>,
    targets: BTreeMap<String, String>,
    health: RawHealth,
    store: RawStore,
    server: RawServer,
    import: RawImport,
    sla: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawImport {
    fold_case: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    address: String,
    body_limit_mib: u64,
    rate_limit_per_second: f64,
    rate_limit_burst: f64,
    cors_origins: Vec<String>,
    metrics_dimensions: Vec<String>,
}

impl std::default::Default for RawServer {
    fn default() -> Self {
        RawServer {
            address: "127.0.0.1:8080".into(),
            body_limit_mib: 16,
            rate_limit_per_second: 1000.0,
            rate_limit_burst: 2000.0,
            cors_origins: Vec::new(),
            metrics_dimensions: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawStore {
    lock_timeout: String,
    max_record_mib: u64,
}

impl std::default::Default for RawStore {
    fn default() -> Self {
        RawStore {
            lock_timeout: "10m".into(),
            max_record_mib: 64,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawWorkspace {
    time_zone: String,
    currency: String,
}

impl std::default::Default for RawWorkspace {
    fn default() -> Self {
        RawWorkspace {
            time_zone: "UTC".into(),
            currency: "USD".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFinance {
    gross_margin: f64,
    monthly_discount_rate: f64,
}

impl std::default::Default for RawFinance {
    fn default() -> Self {
        RawFinance {
            gross_margin: 1.0,
            monthly_discount_rate: 0.01,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
    min: i64,
    max: i64,
    satisfied_at: Option<i64>,
    higher_is_better: Option<bool>,
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSupport {
    sla_first_response: String,
}

impl std::default::Default for RawSupport {
    fn default() -> Self {
        RawSupport {
            sla_first_response: "1h".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawBusinessHours {
    enabled: bool,
    time_zone: Option<String>,
    monday: Option<String>,
    tuesday: Option<String>,
    wednesday: Option<String>,
    thursday: Option<String>,
    friday: Option<String>,
    saturday: Option<String>,
    sunday: Option<String>,
    holidays: Vec<String>,
}

/// A weekday left out keeps the documented default: Monday to Friday 09:00-17:00.
impl std::default::Default for RawBusinessHours {
    fn default() -> Self {
        let weekday = || Some("09:00-17:00".to_string());
        RawBusinessHours {
            enabled: false,
            time_zone: None,
            monday: weekday(),
            tuesday: weekday(),
            wednesday: weekday(),
            thursday: weekday(),
            friday: weekday(),
            saturday: None,
            sunday: None,
            holidays: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHealth {
    weight_activity: f64,
    weight_satisfaction: f64,
    weight_support: f64,
    weight_purchase: f64,
    green_at: f64,
    yellow_at: f64,
}

impl std::default::Default for RawHealth {
    fn default() -> Self {
        RawHealth {
            weight_activity: 0.3,
            weight_satisfaction: 0.3,
            weight_support: 0.2,
            weight_purchase: 0.2,
            green_at: 70.0,
            yellow_at: 40.0,
        }
    }
}

/// Parses a duration such as `1h`, `90m`, `2d` or `45s` into hours; a duration is
/// never negative (nor infinite).
pub fn parse_hours(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = crate::parse::parse_decimal(number.trim()).ok()?;
    let per_hour = match unit.trim() {
        "s" => 3600.0,
        "m" | "min" => 60.0,
        "h" => 1.0,
        "d" => 1.0 / 24.0,
        _ => return None,
    };
    (number >= 0.0 && number.is_finite()).then(|| number / per_hour)
}

/// Parses `>= 40`, `> 0`, `<= 2h`, `< 5`: durations with a unit are converted to hours.
pub fn parse_threshold(text: &str) -> Option<Threshold> {
    let text = text.trim();
    let (op, rest) = if let Some(r) = text.strip_prefix(">=") {
        (Comparison::AtLeast, r)
    } else if let Some(r) = text.strip_prefix("<=") {
        (Comparison::AtMost, r)
    } else if let Some(r) = text.strip_prefix('>') {
        (Comparison::Above, r)
    } else if let Some(r) = text.strip_prefix('<') {
        (Comparison::Below, r)
    } else {
        return None;
    };
    let rest = rest.trim();
    let value = match crate::parse::parse_decimal(rest) {
        Ok(v) => v,
        Err(_) => parse_hours(rest)?,
    };
    Some(Threshold { op, value })
}

fn parse_day_hours(key: &str, text: &Option<String>) -> Result<DayHours, ConfigError> {
    let Some(text) = text else { return Ok(None) };
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("closed") {
        return Ok(None);
    }
    let bad = || {
        invalid(
            key,
            format!("`{text}` is not of the form 09:00-17:00 or closed"),
        )
    };
    let (open, close) = text.split_once('-').ok_or_else(bad)?;
    let parse = |s: &str| Time::strptime("%H:%M", s.trim()).map_err(|_| bad());
    let open = parse(open)?;
    let close = match close.trim() {
        "24:00" => None,
        close => Some(parse(close)?),
    };
    if close.is_some_and(|close| close <= open) {
        return Err(invalid(key, "closing time must be after opening time"));
    }
    Ok(Some(Opening { open, close }))
}

fn time_zone(key: &str, name: &str) -> Result<TimeZone, ConfigError> {
    TimeZone::get(name).map_err(|_| {
        invalid(
            key,
            format!("unknown time zone `{name}` (use an IANA name such as Europe/Berlin)"),
        )
    })
}

impl Config {
    /// Parses and validates the text of a `cxkpi.toml`.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        Config::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let tz = time_zone("workspace.time_zone", &raw.workspace.time_zone)?;
        if !(0.0..=1.0).contains(&raw.finance.gross_margin) {
            return Err(invalid("finance.gross_margin", "must be between 0 and 1"));
        }
        if !(0.0..1.0).contains(&raw.finance.monthly_discount_rate) {
            return Err(invalid(
                "finance.monthly_discount_rate",
                "must be at least 0 and below 1",
            ));
        }

        let mut surveys = default_surveys();
        for (name, s) in raw.surveys {
            let key = format!("surveys.{name}");
            if name == "nps" {
                return Err(invalid(key, "the NPS scale is fixed at 0..10"));
            }
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
            {
                return Err(invalid(
                    key,
                    "survey names are lower-case letters, digits and _",
                ));
            }
            if s.min >= s.max {
                return Err(invalid(key, "min must be below max"));
            }
            let satisfied_at = s.satisfied_at.unwrap_or(s.max - 1).max(s.min);
            if !(s.min..=s.max).contains(&satisfied_at) {
                return Err(invalid(key, "satisfied_at must be inside min..max"));
            }
            let builtin = SURVEY_KINDS.iter().find(|k| **k == name).copied();
            let kind = match (s.kind.as_deref(), builtin) {
                (None, builtin) => builtin,
                (Some(kind), Some(builtin)) if kind == builtin => Some(builtin),
                (Some(_), Some(builtin)) => {
                    return Err(invalid(
                        format!("{key}.kind"),
                        format!("`{builtin}` is its own kind"),
                    ));
                }
                (Some("mean"), None) => {
                    return Err(invalid(
                        format!("{key}.kind"),
                        "a mean score joins one of the two mean KPIs: write kind = \"ces\" (effort) or kind = \"ppr\" (rating)",
                    ));
                }
                (Some(kind), None) => Some(
                    SURVEY_KINDS
                        .iter()
                        .find(|k| **k == kind)
                        .copied()
                        .ok_or_else(|| {
                            invalid(
                                format!("{key}.kind"),
                                format!("`{kind}` is not a kind: csat, nps, ces or ppr"),
                            )
                        })?,
                ),
            };
            surveys.insert(
                name,
                SurveyScale {
                    min: s.min,
                    max: s.max,
                    satisfied_at,
                    higher_is_better: s.higher_is_better.unwrap_or(true),
                    kind,
                },
            );
        }
        // A survey that joins a KPI's answers must share what the KPI reads of them: NPS
        // its 0..10 scale, a mean its scale and direction.
        for (name, scale) in &surveys {
            let key = format!("surveys.{name}.kind");
            match scale.kind {
                Some("nps") if (scale.min, scale.max) != (0, 10) => {
                    return Err(invalid(key, "an nps survey is scored 0..10"));
                }
                Some(mean @ ("ces" | "ppr")) if name != mean => {
                    let own = surveys[mean];
                    if (scale.min, scale.max, scale.higher_is_better)
                        != (own.min, own.max, own.higher_is_better)
                    {
                        return Err(invalid(
                            key,
                            format!(
                                "a {mean} survey has {mean}'s scale {}..{} (a mean over two scales means nothing)",
                                own.min, own.max
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }

        let sla = parse_hours(&raw.support.sla_first_response)
            .filter(|h| *h > 0.0)
            .ok_or_else(|| {
                invalid(
                    "support.sla_first_response",
                    format!(
                        "`{}` is not a positive duration such as 1h, 30m or 2d",
                        raw.support.sla_first_response
                    ),
                )
            })?;
        let lock_timeout = parse_hours(&raw.store.lock_timeout).ok_or_else(|| {
            invalid(
                "store.lock_timeout",
                format!(
                    "`{}` is not a duration such as 30s, 10m or 1h",
                    raw.store.lock_timeout
                ),
            )
        })?;
        if raw.store.max_record_mib == 0 || raw.store.max_record_mib > 4096 {
            return Err(invalid(
                "store.max_record_mib",
                "must be between 1 and 4096",
            ));
        }

        let server = server_config(raw.server)?;

        let bh = raw.business_hours;
        let business_hours = if bh.enabled {
            let tz = match bh.time_zone.as_deref() {
                Some(name) if !name.is_empty() => time_zone("business_hours.time_zone", name)?,
                _ => tz.clone(),
            };
            let week = [
                parse_day_hours("business_hours.monday", &bh.monday)?,
                parse_day_hours("business_hours.tuesday", &bh.tuesday)?,
                parse_day_hours("business_hours.wednesday", &bh.wednesday)?,
                parse_day_hours("business_hours.thursday", &bh.thursday)?,
                parse_day_hours("business_hours.friday", &bh.friday)?,
                parse_day_hours("business_hours.saturday", &bh.saturday)?,
                parse_day_hours("business_hours.sunday", &bh.sunday)?,
            ];
            if week.iter().all(Option::is_none) {
                return Err(invalid("business_hours", "enabled but open on no day"));
            }
            let holidays = bh
                .holidays
                .iter()
                .map(|d| {
                    Date::strptime("%Y-%m-%d", d).map_err(|_| {
                        invalid(
                            "business_hours.holidays",
                            format!("`{d}` is not a YYYY-MM-DD date"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut holidays = holidays;
            holidays.sort_unstable();
            Some(BusinessHours {
                time_zone: tz,
                week,
                holidays,
            })
        } else {
            None
        };

        let mut benchmarks = BTreeMap::new();
        for (kpi, bands) in raw.benchmarks {
            let mut parsed = Vec::new();
            for (name, text) in bands {
                let threshold = parse_threshold(&text).ok_or_else(|| {
                    invalid(
                        format!("benchmarks.{kpi}.{name}"),
                        format!("`{text}` is not a comparison such as \">= 40\" or \"<= 2h\""),
                    )
                })?;
                parsed.push(Band { name, threshold });
            }
            benchmarks.insert(kpi, parsed);
        }
        let mut targets = BTreeMap::new();
        for (kpi, text) in raw.targets {
            let threshold = parse_threshold(&text).ok_or_else(|| {
                invalid(
                    format!("targets.{kpi}"),
                    format!("`{text}` is not a comparison such as \">= 40\" or \"<= 2h\""),
                )
            })?;
            targets.insert(kpi, threshold);
        }

        let h = raw.health;
        let weights = [
            h.weight_activity,
            h.weight_satisfaction,
            h.weight_support,
            h.weight_purchase,
        ];
        if weights.iter().any(|w| *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
            return Err(invalid(
                "health",
                "weights must be >= 0 and at least one above 0",
            ));
        }
        if !(0.0..=100.0).contains(&h.yellow_at) || !(h.yellow_at..=100.0).contains(&h.green_at) {
            return Err(invalid("health", "need 0 <= yellow_at <= green_at <= 100"));
        }

        let mut sla_targets = Vec::new();
        for (column, targets) in &raw.sla {
            for (value, text) in targets {
                let key = format!("sla.{column}.{value}");
                let hours = parse_hours(text).filter(|h| *h > 0.0).ok_or_else(|| {
                    invalid(
                        &key,
                        format!("`{text}` is not a positive duration such as 1h, 30m or 2d"),
                    )
                })?;
                sla_targets.push(SlaTarget {
                    column: column.clone(),
                    value: value.clone(),
                    hours,
                });
            }
        }
        sla_targets.sort_by(|a, b| {
            (a.column != "priority", &a.column, &a.value).cmp(&(
                b.column != "priority",
                &b.column,
                &b.value,
            ))
        });
        for name in &raw.import.fold_case {
            if name.ends_with("_id")
                || name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(invalid(
                    "import.fold_case",
                    format!(
                        "`{name}` is not a column to fold: name text columns or dimensions in lower case (ids are matched exactly)"
                    ),
                ));
            }
        }

        Ok(Config {
            time_zone_name: raw.workspace.time_zone,
            time_zone: tz,
            currency: raw.workspace.currency,
            gross_margin: raw.finance.gross_margin,
            monthly_discount_rate: raw.finance.monthly_discount_rate,
            surveys,
            sla_first_response_hours: sla,
            sla_targets,
            business_hours,
            benchmarks,
            targets,
            health: HealthConfig {
                weight_activity: h.weight_activity,
                weight_satisfaction: h.weight_satisfaction,
                weight_support: h.weight_support,
                weight_purchase: h.weight_purchase,
                green_at: h.green_at,
                yellow_at: h.yellow_at,
            },
            store: StoreConfig {
                lock_timeout_seconds: lock_timeout * 3600.0,
                max_record_bytes: raw.store.max_record_mib << 20,
            },
            server,
            fold_case: raw.import.fold_case,
        })
    }

    /// The configuration with every default, in the given time zone.
    pub fn with_time_zone(name: &str) -> Result<Config, ConfigError> {
        let mut raw = RawConfig::default();
        raw.workspace.time_zone = name.to_string();
        Config::from_raw(raw)
    }
}

impl std::default::Default for Config {
    fn default() -> Self {
        Config::from_raw(RawConfig::default()).expect("the defaults are valid")
    }
}

fn server_config(raw: RawServer) -> Result<ServerConfig, ConfigError> {
    if raw.address.parse::<std::net::SocketAddr>().is_err() {
        return Err(invalid(
            "server.address",
            format!(
                "`{}` is not an IP address and port such as 127.0.0.1:8080",
                raw.address
            ),
        ));
    }
    if raw.body_limit_mib == 0 || raw.body_limit_mib > 4096 {
        return Err(invalid(
            "server.body_limit_mib",
            "must be between 1 and 4096",
        ));
    }
    for (key, value) in [
        ("server.rate_limit_per_second", raw.rate_limit_per_second),
        ("server.rate_limit_burst", raw.rate_limit_burst),
    ] {
        if !(value.is_finite() && value >= 1.0) {
            return Err(invalid(key, "must be a number of at least 1"));
        }
    }
    for origin in &raw.cors_origins {
        if !valid_origin(origin) {
            return Err(invalid(
                "server.cors_origins",
                format!("`{origin}` is not an origin such as https://example.com"),
            ));
        }
    }
    Ok(ServerConfig {
        address: raw.address,
        body_limit_bytes: raw.body_limit_mib << 20,
        rate_limit_per_second: raw.rate_limit_per_second,
        rate_limit_burst: raw.rate_limit_burst,
        cors_origins: raw.cors_origins,
        metrics_dimensions: raw.metrics_dimensions,
    })
}

/// Whether `text` is a web origin as a browser sends it: `http` or `https`, a host,
/// an optional port, no path.
pub fn valid_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            if port.parse::<u16>().is_err() {
                return false;
            }
            host
        }
        _ => rest,
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
}

fn default_surveys() -> BTreeMap<String, SurveyScale> {
    let scale = |kind, min, max, satisfied_at| SurveyScale {
        min,
        max,
        satisfied_at,
        higher_is_better: true,
        kind: Some(kind),
    };
    BTreeMap::from([
        ("nps".to_string(), scale("nps", 0, 10, 9)),
        ("csat".to_string(), scale("csat", 1, 5, 4)),
        ("ces".to_string(), scale("ces", 1, 7, 6)),
        ("ppr".to_string(), scale("ppr", 1, 5, 4)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_defaults_are_the_defaults() {
        let written = Config::from_toml(DEFAULT_TOML).unwrap();
        let default = Config::default();
        assert_eq!(written.time_zone_name, default.time_zone_name);
        assert_eq!(written.currency, default.currency);
        assert_eq!(written.gross_margin, default.gross_margin);
        assert_eq!(written.monthly_discount_rate, default.monthly_discount_rate);
        assert_eq!(written.surveys, default.surveys);
        assert_eq!(written.sla_first_response_hours, 1.0);
        assert!(written.business_hours.is_none());
        assert_eq!(written.targets, default.targets);
        assert_eq!(written.health, default.health);
        assert_eq!(written.store, default.store);
        assert_eq!(written.store.lock_timeout_seconds, 600.0);
        assert_eq!(written.store.max_record_bytes, 64 << 20);
        assert_eq!(written.server, default.server);
        assert_eq!(written.server.body_limit_bytes, 16 << 20);
    }

    #[test]
    fn server_settings_are_checked() {
        for (toml, key) in [
            ("[server]\naddress = \"localhost\"\n", "server.address"),
            ("[server]\nbody_limit_mib = 0\n", "server.body_limit_mib"),
            (
                "[server]\nrate_limit_per_second = 0.5\n",
                "server.rate_limit_per_second",
            ),
            (
                "[server]\ncors_origins = [\"example.com\"]\n",
                "server.cors_origins",
            ),
            (
                "[server]\ncors_origins = [\"https://example.com/page\"]\n",
                "server.cors_origins",
            ),
        ] {
            let err = Config::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
        assert!(valid_origin("https://shop.example.com"));
        assert!(valid_origin("http://127.0.0.1:3000"));
        assert!(!valid_origin("https://example.com:99999"));
    }

    /// Issue 15: `sla_first_response = "-1h"` was accepted and made every ticket miss
    /// the SLA; every duration setting is validated.
    #[test]
    fn negative_and_zero_durations_are_refused() {
        for (toml, key) in [
            (
                "[support]\nsla_first_response = \"-1h\"\n",
                "support.sla_first_response",
            ),
            (
                "[support]\nsla_first_response = \"0m\"\n",
                "support.sla_first_response",
            ),
            (
                "[support]\nsla_first_response = \"inf h\"\n",
                "support.sla_first_response",
            ),
            ("[store]\nlock_timeout = \"-5s\"\n", "store.lock_timeout"),
            (
                "[store]\nlock_timeout = \"5 parsecs\"\n",
                "store.lock_timeout",
            ),
            ("[store]\nmax_record_mib = 0\n", "store.max_record_mib"),
            (
                "[targets]\nfirst_response_time = \"<= -2h\"\n",
                "targets.first_response_time",
            ),
        ] {
            let err = Config::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(key), "{toml}: {err}");
        }
        let config = Config::from_toml("[store]\nlock_timeout = \"0s\"\n").unwrap();
        assert_eq!(config.store.lock_timeout_seconds, 0.0);
        // A negative number without a unit is a value of the KPI's own unit.
        assert!(Config::from_toml("[targets]\nnps = \">= -10\"\n").is_ok());
    }

    #[test]
    fn durations_and_thresholds() {
        assert_eq!(parse_hours("90m"), Some(1.5));
        assert_eq!(parse_hours("2d"), Some(48.0));
        assert_eq!(parse_hours("2"), None);
        let t = parse_threshold("<= 2h").unwrap();
        assert_eq!((t.op, t.value), (Comparison::AtMost, 2.0));
        assert!(t.is_met(2.0) && !t.is_met(2.01));
        let t = parse_threshold(">40").unwrap();
        assert!(!t.is_met(40.0) && t.is_met(40.5));
        assert!(parse_threshold("= 4").is_none());
    }

    #[test]
    fn errors_name_the_key() {
        let err = Config::from_toml("[workspace]\ntime_zone = \"Mars/Base\"\n").unwrap_err();
        assert!(err.to_string().contains("workspace.time_zone"), "{err}");
        let err = Config::from_toml("[surveys.nps]\nmin = 1\nmax = 5\n").unwrap_err();
        assert!(err.to_string().contains("fixed"), "{err}");
        let err = Config::from_toml("[workspace]\ntimezone = \"UTC\"\n").unwrap_err();
        assert!(err.to_string().contains("timezone"), "{err}");
    }

    #[test]
    fn business_hours_and_custom_surveys() {
        let config = Config::from_toml(
            r#"
[workspace]
time_zone = "Europe/Berlin"
[surveys.onboarding]
min = 0
max = 4
[business_hours]
enabled = true
monday = "09:00-17:00"
saturday = "closed"
sunday = "08:00-24:00"
holidays = ["2024-12-25"]
[targets]
nps = ">= 40"
"#,
        )
        .unwrap();
        let onboarding = config.surveys["onboarding"];
        assert_eq!(
            (onboarding.min, onboarding.max, onboarding.satisfied_at),
            (0, 4, 3)
        );
        let bh = config.business_hours.unwrap();
        assert_eq!(
            bh.hours(Weekday::Monday),
            Some(Opening {
                open: Time::constant(9, 0, 0, 0),
                close: Some(Time::constant(17, 0, 0, 0))
            })
        );
        assert_eq!(bh.hours(Weekday::Saturday), None);
        assert_eq!(
            bh.hours(Weekday::Sunday).map(|o| (o.open.hour(), o.close)),
            Some((8, None))
        );
        assert_eq!(bh.holidays, vec![Date::constant(2024, 12, 25)]);
        assert!(config.targets["nps"].is_met(40.0));
    }
}
