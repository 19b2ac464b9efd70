//! The KPI catalogue: one declared definition per KPI of `shared/spec/kpis.md`.
//!
//! Every view (CLI, API, dashboard, alerts, exports) reads a KPI's meaning from here:
//! what it measures, its formula, unit, direction, source entities, how it can be
//! segmented, which interval it carries, and its default benchmark bands.
//! `docs/kpis.md` is generated from this table ([`catalogue_markdown`]); a test keeps
//! the two equal.

use std::fmt::Write;

use crate::config::{Band, Comparison, Threshold};
use crate::entity::Entity;

/// The KPI families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Survey-based satisfaction.
    Satisfaction,
    /// Customers won, kept and engaged.
    Retention,
    /// Revenue, costs and their ratios.
    Financial,
    /// Support tickets.
    Support,
    /// Order delivery and accuracy.
    Fulfilment,
}

impl Family {
    /// The family's heading.
    pub fn name(self) -> &'static str {
        match self {
            Family::Satisfaction => "Satisfaction",
            Family::Retention => "Retention and loyalty",
            Family::Financial => "Financial",
            Family::Support => "Support",
            Family::Fulfilment => "Fulfilment",
        }
    }
}

/// The unit of a KPI's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// NPS points, -100..100.
    NpsPoints,
    /// A percentage, 0..100.
    Percent,
    /// A mean score on the survey's scale.
    Score,
    /// A count of customers, tickets, ...
    Count,
    /// An amount in the workspace currency.
    Currency,
    /// Hours.
    Hours,
    /// Minutes.
    Minutes,
    /// Months of 30.4375 days.
    Months,
    /// A plain ratio.
    Ratio,
    /// Orders per ordering customer.
    OrdersPerCustomer,
    /// A 0..100 health score.
    HealthPoints,
}

impl Unit {
    /// The unit as written in tables and documentation.
    pub fn name(self) -> &'static str {
        match self {
            Unit::NpsPoints => "NPS points (-100..100)",
            Unit::Percent => "%",
            Unit::Score => "score",
            Unit::Count => "count",
            Unit::Currency => "currency",
            Unit::Hours => "hours",
            Unit::Minutes => "minutes",
            Unit::Months => "months",
            Unit::Ratio => "ratio",
            Unit::OrdersPerCustomer => "orders per customer",
            Unit::HealthPoints => "points (0..100)",
        }
    }
}

/// Whether a higher value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is better.
    Higher,
    /// Lower is better.
    Lower,
}

/// How a KPI can be segmented (`--by`) and filtered (`--where`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segmentation {
    /// By the text and boolean columns of its own entity (listed ones and dimensions),
    /// otherwise by a customer dimension through the entity's customer reference.
    Entity(Entity),
    /// By customer dimensions only (KPIs whose units are customers).
    Customer,
    /// By `acquisition_channel` (spend `channel`) and `campaign` only.
    Spend,
}

/// The confidence interval a KPI's value carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalKind {
    /// Wilson score interval of a proportion.
    Wilson,
    /// The NPS (trinomial) interval.
    Nps,
    /// The t-interval of a mean.
    Mean,
    /// None (counts, sums, medians, ratios of totals).
    None,
}

/// One KPI's declared definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiDef {
    /// Stable identifier (`nps`, `first_response_time`).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The family it belongs to.
    pub family: Family,
    /// What it measures, in one paragraph.
    pub description: &'static str,
    /// The formula, as computed.
    pub formula: &'static str,
    /// What `n` counts.
    pub n: &'static str,
    /// The unit of the value.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// The entities it is computed from.
    pub sources: &'static [Entity],
    /// How it can be segmented.
    pub segmentation: Segmentation,
    /// Its interval.
    pub interval: IntervalKind,
    /// Default benchmark bands: name, comparison, threshold (in the KPI's unit).
    pub bands: &'static [(&'static str, Comparison, f64)],
}

impl KpiDef {
    /// The entities without whose rows the KPI has no value: its sources, except for
    /// the health score, which weighs whichever components a customer has data for.
    pub fn required_sources(&self) -> &'static [Entity] {
        match self.id {
            "health_score" => &[Entity::Customers],
            _ => self.sources,
        }
    }

    /// The default benchmark bands as configuration values.
    pub fn default_bands(&self) -> Vec<Band> {
        self.bands
            .iter()
            .map(|(name, op, value)| Band {
                name: (*name).to_string(),
                threshold: Threshold {
                    op: *op,
                    value: *value,
                },
            })
            .collect()
    }
}

use Comparison::{Above, AtLeast, AtMost};
use Direction::{Higher, Lower};
use Entity::*;
use Family as F;
use IntervalKind as I;

macro_rules! kpi {
    ($id:literal, $name:literal, $family:expr, $unit:expr, $direction:expr, $sources:expr,
     $segmentation:expr, $interval:expr, $bands:expr, $n:literal,
     description: $description:literal, formula: $formula:literal $(,)?) => {
        KpiDef {
            id: $id,
            name: $name,
            family: $family,
            description: $description,
            formula: $formula,
            n: $n,
            unit: $unit,
            direction: $direction,
            sources: $sources,
            segmentation: $segmentation,
            interval: $interval,
            bands: $bands,
        }
    };
}

const RESP: Segmentation = Segmentation::Entity(Responses);
const ORD: Segmentation = Segmentation::Entity(Orders);
const TIX: Segmentation = Segmentation::Entity(Tickets);
const CUST: Segmentation = Segmentation::Customer;

/// Every KPI, by family, in the order of kpis.md.
pub const CATALOGUE: &[KpiDef] = &[
    kpi!("nps", "Net Promoter Score", F::Satisfaction, Unit::NpsPoints, Higher, &[Responses], RESP, I::Nps,
        &[("good", Above, 0.0), ("excellent", AtLeast, 50.0), ("world_class", AtLeast, 70.0)],
        "NPS answers in the period",
        description: "How many customers would recommend you, net of those who would warn others: of the answers to the NPS survey in the period, promoters score 9 or 10, passives 7 or 8, detractors 0 to 6. The three counts are reported with the score.",
        formula: "100 * (promoters - detractors) / answers"),
    kpi!("csat", "Customer Satisfaction", F::Satisfaction, Unit::Percent, Higher, &[Responses], RESP, I::Wilson,
        &[("good", AtLeast, 80.0)],
        "CSAT answers in the period",
        description: "The share of CSAT answers in the period that are satisfied: a score at or above the configured threshold (by default the top two points, 4 and 5 on a 1-5 scale). The mean score is reported too.",
        formula: "100 * satisfied answers / answers"),
    kpi!("ces", "Customer Effort Score", F::Satisfaction, Unit::Score, Higher, &[Responses], RESP, I::Mean, &[],
        "CES answers in the period",
        description: "How easy customers found it to get what they needed: the mean of the CES answers in the period, on the configured scale (1-7 by default, higher meaning easier).",
        formula: "mean score of CES answers"),
    kpi!("ppr", "Post-Purchase Rating", F::Satisfaction, Unit::Score, Higher, &[Responses], RESP, I::Mean, &[],
        "PPR answers in the period",
        description: "How customers rate a purchase after it: the mean of the post-purchase rating answers in the period (1-5 by default).",
        formula: "mean score of PPR answers"),
    kpi!("sentiment", "Feedback Sentiment", F::Satisfaction, Unit::NpsPoints, Higher, &[Responses], RESP, I::Nps, &[],
        "answers with a non-empty comment in the period",
        description: "The tone of written feedback: every non-empty comment of any survey answered in the period is scored with VADER (as vaderSentiment 3.3.2 scores it); a compound score of 0.05 or more is positive, -0.05 or less negative, anything between neutral. Reported with the mean compound score.",
        formula: "100 * (positive - negative) / comments"),
    kpi!("customers_active", "Active Customers", F::Retention, Unit::Count, Higher, &[Customers], CUST, I::None, &[],
        "the count itself",
        description: "Customers active at the end of the period: won at or before that instant and not churned by it. The same instant is the next period's churn base.",
        formula: "count of customers with acquired_at <= end and (no churned_at or churned_at > end)"),
    kpi!("customers_new", "New Customers", F::Retention, Unit::Count, Higher, &[Customers], CUST, I::None, &[],
        "the count itself",
        description: "Customers won in the period.",
        formula: "count of customers with acquired_at in the period"),
    kpi!("customers_churned", "Churned Customers", F::Retention, Unit::Count, Lower, &[Customers], CUST, I::None, &[],
        "the count itself",
        description: "Customers lost in the period, including those won in it.",
        formula: "count of customers with churned_at in the period"),
    kpi!("churn_rate", "Churn Rate", F::Retention, Unit::Percent, Lower, &[Customers], CUST, I::Wilson, &[],
        "customers active at the start (S)",
        description: "Of the customers active at the start of the period, the share lost during it. Customers won and lost inside the period are not counted, and a customer whose churned_at equals the start is not in the base.",
        formula: "100 * C / S, S = active at start, C = those of S with churned_at in the period"),
    kpi!("retention_rate", "Retention Rate", F::Retention, Unit::Percent, Higher, &[Customers], CUST, I::Wilson, &[],
        "customers active at the start (S)",
        description: "Of the customers active at the start of the period, the share still active at its end; the complement of the churn rate.",
        formula: "100 * (S - C) / S"),
    kpi!("customer_lifetime", "Customer Lifetime", F::Retention, Unit::Months, Higher, &[Customers], CUST, I::None, &[],
        "sum of S over the 6 months",
        description: "Expected customer lifetime implied by recent churn: one over the pooled monthly churn rate of the six calendar months ending with the month that contains the day before the period's end. No value when nobody churned.",
        formula: "1 / m, m = sum of C / sum of S over the 6 months"),
    kpi!("median_lifetime", "Median Lifetime", F::Retention, Unit::Months, Higher, &[Customers], CUST, I::None, &[],
        "customers won before the end",
        description: "The Kaplan-Meier median lifetime of the customers won before the period's end: lifetimes of churned customers are events, those still active (or churning after the end) are censored at the end. The first event duration at which survival falls to 0.5 or below; no value if it never does.",
        formula: "smallest event duration t with S(t) <= 0.5 (Kaplan-Meier, ties grouped)"),
    kpi!("repeat_purchase_rate", "Repeat Purchase Rate", F::Retention, Unit::Percent, Higher, &[Orders], ORD, I::Wilson, &[],
        "customers who ordered in the period (B)",
        description: "Of the customers who ordered in the period, the share with at least two orders in all up to its end.",
        formula: "100 * R / B, B = customers ordering in the period, R = those of B with 2+ orders before the end"),
    kpi!("referral_rate", "Referral Rate", F::Retention, Unit::Percent, Higher, &[Customers, Referrals], CUST, I::Wilson, &[],
        "customers active during the period",
        description: "Of the customers active during the period, the share who referred someone in it. The number of referrals is reported too.",
        formula: "100 * active customers who are referrer_id of a referral in the period / active customers"),
    kpi!("active_rate", "Engagement (Active Rate)", F::Retention, Unit::Percent, Higher, &[Customers, Activity], CUST, I::Wilson, &[],
        "customers active during the period",
        description: "Of the customers active during the period, the share who used the product in it (an activity event of kind usage).",
        formula: "100 * customers with a usage event in the period / customers active during it"),
    kpi!("self_service_rate", "Self-Service Adoption", F::Retention, Unit::Percent, Higher, &[Customers, Activity], CUST, I::Wilson, &[],
        "customers active during the period",
        description: "Of the customers active during the period, the share who helped themselves in it (help centre, FAQ, bot or community: an activity event of kind self_service).",
        formula: "100 * customers with a self_service event in the period / customers active during it"),
    kpi!("health_score", "Customer Health Score", F::Retention, Unit::HealthPoints, Higher, &[Customers, Activity, Responses, Tickets, Orders], CUST, I::Mean, &[],
        "customers active at the end with at least one component",
        description: "The mean health score (0-100) of the customers active at the period's end, as configured: a weighted mean of activity recency, latest NPS or CSAT answer, support burden and purchase recency over the components a customer has. The shares of customers in the green, yellow and red bands are reported too.",
        formula: "mean of per-customer weighted component scores"),
    kpi!("revenue", "Revenue", F::Financial, Unit::Currency, Higher, &[Orders], ORD, I::None, &[],
        "orders in the period",
        description: "The sum of the amounts of the orders placed in the period; 0 when there are none.",
        formula: "sum of orders.amount"),
    kpi!("arpu", "Average Revenue per User", F::Financial, Unit::Currency, Higher, &[Orders, Customers], CUST, I::None, &[],
        "customers active during the period",
        description: "Revenue of the period spread over the customers active during it.",
        formula: "revenue / customers active during the period"),
    kpi!("aov", "Average Order Value", F::Financial, Unit::Currency, Higher, &[Orders], ORD, I::Mean, &[],
        "orders in the period",
        description: "The mean amount of the orders placed in the period.",
        formula: "revenue / orders"),
    kpi!("purchase_frequency", "Purchase Frequency", F::Financial, Unit::OrdersPerCustomer, Higher, &[Orders], ORD, I::Mean, &[],
        "distinct ordering customers",
        description: "How many orders an ordering customer placed in the period, on average.",
        formula: "orders / distinct ordering customers"),
    kpi!("clv", "Customer Lifetime Value", F::Financial, Unit::Currency, Higher, &[Orders, Customers], CUST, I::None, &[],
        "distinct ordering customers over 12 months",
        description: "What a customer is worth over their expected lifetime: average order value times purchases per customer per year over the 12 months ending at the period's end, times the expected lifetime in years, times the configured gross margin.",
        formula: "AOV12 * F12 * (customer_lifetime / 12) * margin"),
    kpi!("cac", "Customer Acquisition Cost", F::Financial, Unit::Currency, Lower, &[Spend, Customers], Segmentation::Spend, I::None, &[],
        "new customers",
        description: "Acquisition spend allocated to the period over the customers won in it. A spend row is spread evenly over its days; the period gets the days it overlaps. By channel or campaign, that channel's spend over the customers won through it.",
        formula: "acquisition spend in the period / customers_new"),
    kpi!("clv_cac_ratio", "CLV:CAC Ratio", F::Financial, Unit::Ratio, Higher, &[Orders, Customers, Spend], Segmentation::Spend, I::None,
        &[("good", AtLeast, 3.0)],
        "new customers",
        description: "How many times a customer's lifetime value covers what it cost to win them.",
        formula: "clv / cac"),
    kpi!("cac_payback_months", "CAC Payback", F::Financial, Unit::Months, Lower, &[Spend, Customers, Orders], Segmentation::Spend, I::None, &[],
        "new customers",
        description: "Months of margin from an average customer needed to earn back their acquisition cost.",
        formula: "cac / (arpu per month * margin), arpu per month = arpu / (days of the period / 30.4375)"),
    kpi!("retention_cost", "Retention Cost per Customer", F::Financial, Unit::Currency, Lower, &[Spend, Customers], Segmentation::Spend, I::None, &[],
        "customers active at the start",
        description: "Retention spend allocated to the period per customer active at its start.",
        formula: "retention spend in the period / customers active at the start"),
    kpi!("mrr", "Monthly Recurring Revenue", F::Financial, Unit::Currency, Higher, &[Subscriptions], Segmentation::Entity(Subscriptions), I::None, &[],
        "running subscription intervals",
        description: "The monthly amount of the subscription intervals running at the period's last second; 0 when none runs.",
        formula: "sum of mrr of intervals with started_at <= t < ended_at (or open), t = end - 1 s"),
    kpi!("arr", "Annual Recurring Revenue", F::Financial, Unit::Currency, Higher, &[Subscriptions], Segmentation::Entity(Subscriptions), I::None, &[],
        "running subscription intervals",
        description: "Twelve times the monthly recurring revenue at the period's last second.",
        formula: "12 * mrr"),
    kpi!("gross_revenue_churn", "Gross Revenue Churn", F::Financial, Unit::Percent, Lower, &[Subscriptions], CUST, I::None, &[],
        "customers with MRR at the previous period's close",
        description: "The share of the recurring revenue at the start of the period lost by its end through churn and contraction, per customer.",
        formula: "100 * sum(max(m0 - m1, 0)) / sum(m0), over customers with m0 > 0 (m0 = MRR at start - 1 s, m1 = at end - 1 s)"),
    kpi!("net_revenue_retention", "Net Revenue Retention", F::Financial, Unit::Percent, Higher, &[Subscriptions], CUST, I::None, &[],
        "customers with MRR at the previous period's close",
        description: "The recurring revenue at the period's end of the customers who had some at its start, as a share of what they had then: expansion counts, new customers do not.",
        formula: "100 * sum(m1) / sum(m0), over customers with m0 > 0"),
    kpi!("conversion_rate", "Conversion Rate", F::Financial, Unit::Percent, Higher, &[Sessions], Segmentation::Entity(Sessions), I::Wilson, &[],
        "distinct visitors with a session in the period",
        description: "Of the visitors with a session in the period, the share with a converted session (the desired action: purchase, sign-up).",
        formula: "100 * visitors with a converted session / visitors"),
    kpi!("bounce_rate", "Bounce Rate", F::Financial, Unit::Percent, Lower, &[Sessions], Segmentation::Entity(Sessions), I::Wilson, &[],
        "sessions in the period",
        description: "The share of sessions in the period that viewed a single page.",
        formula: "100 * sessions with pageviews = 1 / sessions"),
    kpi!("tickets_created", "Tickets Created", F::Support, Unit::Count, Lower, &[Tickets], TIX, I::None, &[],
        "the count itself",
        description: "Support tickets opened in the period.",
        formula: "count of tickets with created_at in the period"),
    kpi!("ticket_backlog", "Ticket Backlog", F::Support, Unit::Count, Lower, &[Tickets], TIX, I::None, &[],
        "the count itself",
        description: "Tickets open at the period's end: created before it and not resolved by it.",
        formula: "count of tickets with created_at < end and (no resolved_at or resolved_at >= end)"),
    kpi!("first_response_time", "First Response Time", F::Support, Unit::Hours, Lower, &[Tickets], TIX, I::None,
        &[("good", AtMost, 1.0)],
        "tickets created in the period with a first response",
        description: "How long customers wait for a human answer: the median time from creation to first response of the tickets created in the period that have one, with the mean and 90th percentile. With business hours configured, only time inside them counts (calendar time is reported too).",
        formula: "median(first_response_at - created_at) in hours"),
    kpi!("frt_within_sla", "First Response within SLA", F::Support, Unit::Percent, Higher, &[Tickets], TIX, I::Wilson, &[],
        "tickets created in the period, less unanswered ones whose deadline has not passed",
        description: "The share of tickets created in the period first answered within the SLA target (1 hour by default, inclusive). An unanswered ticket whose deadline passed before the period's end counts as breached; one whose deadline has not passed is left out.",
        formula: "100 * tickets answered within the SLA / tickets judged"),
    kpi!("resolution_time", "Resolution Time", F::Support, Unit::Hours, Lower, &[Tickets], TIX, I::None,
        &[("good", AtMost, 24.0)],
        "tickets resolved in the period",
        description: "How long problems take to solve: the median time from creation to resolution of the tickets resolved in the period, with the mean and 90th percentile; business hours as for first response time.",
        formula: "median(resolved_at - created_at) in hours"),
    kpi!("fcr_rate", "First Contact Resolution", F::Support, Unit::Percent, Higher, &[Tickets], TIX, I::Wilson, &[],
        "tickets resolved in the period",
        description: "The share of tickets resolved in the period that took a single customer contact (contacts defaults to 1 + reopens).",
        formula: "100 * resolved tickets with contacts = 1 / resolved tickets"),
    kpi!("one_touch_rate", "One-Touch Resolution", F::Support, Unit::Percent, Higher, &[Tickets], TIX, I::Wilson, &[],
        "tickets resolved in the period with a known reply count",
        description: "The share of tickets resolved in the period with exactly one agent reply (no reply is not one touch). The count of one-touch resolutions is reported too.",
        formula: "100 * resolved tickets with replies = 1 / resolved tickets with replies known"),
    kpi!("net_resolution_rate", "Net Resolution Rate", F::Support, Unit::Percent, Higher, &[Tickets], TIX, I::Wilson,
        &[("good", AtLeast, 85.0)],
        "tickets resolved in the period",
        description: "The share of tickets resolved in the period that stayed resolved and needed no escalation.",
        formula: "100 * resolved tickets with reopens = 0 and not escalated / resolved tickets"),
    kpi!("average_handle_time", "Average Handle Time", F::Support, Unit::Minutes, Lower, &[Tickets], TIX, I::Mean, &[],
        "tickets resolved in the period with a handle time",
        description: "The mean agent handling time of the tickets resolved in the period that record one.",
        formula: "mean(handle_seconds) / 60"),
    kpi!("on_time_delivery_rate", "On-Time Delivery", F::Fulfilment, Unit::Percent, Higher, &[Orders], ORD, I::Wilson, &[],
        "orders delivered in the period with a promise",
        description: "The share of orders delivered in the period, that had a promised time, delivered at or before it (a bare-date promise means the start of that day).",
        formula: "100 * orders with delivered_at <= promised_at / orders delivered with a promise"),
    kpi!("order_accuracy_rate", "Order Accuracy", F::Fulfilment, Unit::Percent, Higher, &[Orders], ORD, I::Wilson, &[],
        "orders placed in the period with accuracy known",
        description: "The share of orders placed in the period, whose accuracy is recorded, fulfilled without errors or missing items.",
        formula: "100 * accurate orders / orders with accurate known"),
];

/// The definition of a KPI by id.
pub fn find(id: &str) -> Option<&'static KpiDef> {
    CATALOGUE.iter().find(|k| k.id == id)
}

/// The error for an unknown KPI id, naming the closest and the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown KPI `{given}`{}; the KPIs are: {}",
    .suggestion.map_or(String::new(), |s| format!(" (did you mean `{s}`?)")),
    CATALOGUE.iter().map(|k| k.id).collect::<Vec<_>>().join(", ")
)]
pub struct UnknownKpi {
    /// What was given.
    pub given: String,
    /// The id closest to it (at most three edits away), if any.
    pub suggestion: Option<&'static str>,
}

/// The definition of a KPI by id, or an error naming the valid ids. Case and `-` for
/// `_` do not matter (`NPS`, `first-response-time`): an id has one spelling only.
pub fn lookup(id: &str) -> Result<&'static KpiDef, UnknownKpi> {
    if let Some(kpi) = find(id) {
        return Ok(kpi);
    }
    let folded = id.trim().to_ascii_lowercase().replace('-', "_");
    if let Some(kpi) = find(&folded) {
        return Ok(kpi);
    }
    let suggestion = CATALOGUE
        .iter()
        .map(|k| (edit_distance(&folded, k.id), k.id))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, id)| id);
    Err(UnknownKpi {
        given: id.to_string(),
        suggestion,
    })
}

/// Levenshtein distance between two ASCII-ish strings (by chars).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

fn segmentation_text(s: Segmentation) -> String {
    match s {
        Segmentation::Entity(e) => {
            let own = e.segment_columns();
            let own = if own.is_empty() {
                String::new()
            } else {
                format!("`{}`, ", own.join("`, `"))
            };
            format!("{own}{} dimensions, customer dimensions", e.name())
        }
        Segmentation::Customer => "customer dimensions".into(),
        Segmentation::Spend => "`acquisition_channel`, `campaign`".into(),
    }
}

fn interval_text(i: IntervalKind) -> &'static str {
    match i {
        IntervalKind::Wilson => "Wilson score (95%)",
        IntervalKind::Nps => "NPS interval (95%)",
        IntervalKind::Mean => "t-interval of the mean (95%)",
        IntervalKind::None => "none",
    }
}

fn comparison_text(op: Comparison) -> &'static str {
    match op {
        Comparison::AtLeast => ">=",
        Comparison::Above => ">",
        Comparison::AtMost => "<=",
        Comparison::Below => "<",
    }
}

/// The catalogue as the Markdown of `docs/kpis.md`.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# KPIs\n\n\
         <!-- Generated from crates/core/src/kpi.rs by `cxkpi kpi list --format markdown`; \
         a test keeps this file equal to the catalogue. -->\n\n\
         Every KPI has one definition, used by every view. Periods are half-open \
         `[start, end)` in the workspace time zone. Every value carries `n` (what it \
         counts is given per KPI) and is flagged *low sample* when n < 30; an empty \
         denominator gives no value (with the reason), never 0. Percentages are 0-100.\n\n\
         Changes against the previous period are tested with the pooled two-proportion \
         z-test (Wilson KPIs), the NPS z-test (NPS interval KPIs) or Welch's t-test (means); \
         other KPIs get no significance. No test runs when either period has fewer than 30 \
         units or a period's values do not vary (a standard error of 0); the row says why. \
         Across the segments of one KPI in one period, Benjamini-Hochberg at q = 0.05 \
         decides which of the tested changes are flagged.\n",
    );
    let mut family = None;
    for k in CATALOGUE {
        if family != Some(k.family) {
            family = Some(k.family);
            let _ = write!(out, "\n## {}\n", k.family.name());
        }
        let direction = match k.direction {
            Direction::Higher => "higher is better",
            Direction::Lower => "lower is better",
        };
        let sources: Vec<&str> = k.sources.iter().map(|e| e.name()).collect();
        let _ = write!(
            out,
            "\n### `{}`: {}\n\n{}\n\n\
             - Formula: {}\n\
             - Unit: {}; {}\n\
             - n: {}\n\
             - Interval: {}\n\
             - From: {}\n\
             - Segments: {}\n",
            k.id,
            k.name,
            k.description,
            k.formula,
            k.unit.name(),
            direction,
            k.n,
            interval_text(k.interval),
            sources.join(", "),
            segmentation_text(k.segmentation),
        );
        if !k.bands.is_empty() {
            let bands: Vec<String> = k
                .bands
                .iter()
                .map(|(name, op, value)| format!("{name} {} {value}", comparison_text(*op)))
                .collect();
            let _ = writeln!(out, "- Default bands: {}", bands.join(", "));
        }
    }
    out
}

#[cfg(test)]
mod tests {

    /// Issue 17: KPI ids were case-sensitive and a misspelling got no suggestion.
    #[test]
    fn ids_fold_case_and_misspellings_get_a_suggestion() {
        assert_eq!(lookup("NPS").unwrap().id, "nps");
        assert_eq!(
            lookup("First-Response-Time").unwrap().id,
            "first_response_time"
        );
        let err = lookup("npss").unwrap_err();
        assert_eq!(err.suggestion, Some("nps"));
        assert!(err.to_string().contains("did you mean `nps`?"), "{err}");
        let err = lookup("churn_rat").unwrap_err();
        assert_eq!(err.suggestion, Some("churn_rate"));
        assert_eq!(lookup("quarterly_widgets").unwrap_err().suggestion, None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
    use super::*;

    #[test]
    fn every_kpi_of_the_spec_is_declared_once() {
        let ids: Vec<&str> = CATALOGUE.iter().map(|k| k.id).collect();
        let spec = [
            "nps",
            "csat",
            "ces",
            "ppr",
            "sentiment",
            "customers_active",
            "customers_new",
            "customers_churned",
            "churn_rate",
            "retention_rate",
            "customer_lifetime",
            "median_lifetime",
            "repeat_purchase_rate",
            "referral_rate",
            "active_rate",
            "self_service_rate",
            "health_score",
            "revenue",
            "arpu",
            "aov",
            "purchase_frequency",
            "clv",
            "cac",
            "clv_cac_ratio",
            "cac_payback_months",
            "retention_cost",
            "mrr",
            "arr",
            "gross_revenue_churn",
            "net_revenue_retention",
            "conversion_rate",
            "bounce_rate",
            "tickets_created",
            "ticket_backlog",
            "first_response_time",
            "frt_within_sla",
            "resolution_time",
            "fcr_rate",
            "one_touch_rate",
            "net_resolution_rate",
            "average_handle_time",
            "on_time_delivery_rate",
            "order_accuracy_rate",
        ];
        assert_eq!(ids, spec);
    }

    #[test]
    fn intervals_follow_the_spec() {
        // kpis.md, "Intervals and tests": Wilson for every *_rate KPI, csat and
        // frt_within_sla; t-intervals for the means; the NPS interval for nps and
        // sentiment.
        for k in CATALOGUE {
            if k.id.ends_with("_rate") {
                assert_eq!(k.interval, IntervalKind::Wilson, "{}", k.id);
            }
        }
        for id in [
            "ces",
            "ppr",
            "aov",
            "purchase_frequency",
            "health_score",
            "average_handle_time",
        ] {
            assert_eq!(find(id).unwrap().interval, IntervalKind::Mean, "{id}");
        }
        for id in ["nps", "sentiment"] {
            assert_eq!(find(id).unwrap().interval, IntervalKind::Nps, "{id}");
        }
    }

    #[test]
    fn default_bands_match_the_default_configuration() {
        // `cxkpi init` writes the catalogue's default bands out in full.
        let config = crate::config::Config::from_toml(crate::config::DEFAULT_TOML).unwrap();
        // The configuration reads bands into a map, so compare them by name.
        let by_name = |mut bands: Vec<Band>| {
            bands.sort_by(|a, b| a.name.cmp(&b.name));
            bands
        };
        for (kpi, bands) in &config.benchmarks {
            let catalogue = lookup(kpi).unwrap().default_bands();
            assert_eq!(by_name(catalogue), by_name(bands.clone()), "{kpi}");
        }
        let with_bands = CATALOGUE.iter().filter(|k| !k.bands.is_empty()).count();
        assert_eq!(with_bands, config.benchmarks.len());
    }

    #[test]
    fn unknown_kpis_name_the_valid_ones() {
        let err = lookup("quarterly_widgets").unwrap_err().to_string();
        assert!(
            err.starts_with("unknown KPI `quarterly_widgets`; the KPIs are: nps, csat, ces"),
            "{err}"
        );
    }
}
