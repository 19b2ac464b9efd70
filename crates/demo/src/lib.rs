//! The demo company: a deterministic synthetic business written as CSV files.
//!
//! "Northwind Analytics" sells a subscription product (plans basic, pro and enterprise)
//! plus shop orders, in four regions, through five acquisition channels. Three years of
//! history end at [`DemoOptions::end`]; every customer is generated from its own random
//! stream (ChaCha8, stream = customer number), so the output depends only on the seed,
//! the customer count and the end date.
//!
//! What the data shows, on purpose:
//! - growth (about 40% more customers won each year) and seasonality: sign-ups peak in
//!   January and September, orders in November and December;
//! - churn that depends on plan, channel and campaign; usage falls off and NPS answers
//!   sour in the two months before a customer churns;
//! - **an NPS drop in Europe** from June to August 2025 (a price change; its comments
//!   say so);
//! - **a month of slow support** in February 2026 (first responses five times slower,
//!   resolutions three times);
//! - a paid social campaign, `summer-blast`, in July 2025: heavy spend, customers who
//!   churn twice as fast.
//!
//! ```no_run
//! use cxkpi_demo::{DemoOptions, generate};
//!
//! let summary = generate(std::path::Path::new("demo-data"), &DemoOptions::default())?;
//! println!("{} orders", summary.rows("orders"));
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Poisson};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of customers.
    pub customers: u64,
    /// Random seed.
    pub seed: u64,
    /// First day after the data (the data covers the 36 months before it).
    pub end: Date,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            customers: 20_000,
            seed: 42,
            end: Date::constant(2026, 11, 1),
        }
    }
}

/// The files written and their row counts.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// `(entity name, file, rows)` in the contract's order.
    pub files: Vec<(&'static str, PathBuf, u64)>,
}

impl DemoSummary {
    /// Rows written for an entity.
    pub fn rows(&self, entity: &str) -> u64 {
        self.files
            .iter()
            .find(|(e, _, _)| *e == entity)
            .map_or(0, |f| f.2)
    }
}

const DAY: i64 = 86_400;
const MONTH_DAYS: f64 = 30.4375;
const MONTHS: usize = 36;

const PLANS: [(&str, f64); 3] = [("basic", 0.55), ("pro", 0.35), ("enterprise", 0.10)];
const REGIONS: [(&str, f64); 4] = [
    ("north_america", 0.40),
    ("europe", 0.30),
    ("apac", 0.20),
    ("latam", 0.10),
];
const CHANNELS: [(&str, f64); 5] = [
    ("organic", 0.30),
    ("paid_search", 0.25),
    ("social", 0.15),
    ("referral", 0.15),
    ("partner", 0.15),
];
const INDUSTRIES: [(&str, f64); 5] = [
    ("retail", 0.3),
    ("software", 0.25),
    ("finance", 0.15),
    ("health", 0.15),
    ("education", 0.15),
];
const SIZES: [(&str, f64); 4] = [
    ("1-10", 0.4),
    ("11-50", 0.3),
    ("51-200", 0.2),
    ("201+", 0.1),
];
const TICKET_CHANNELS: [(&str, f64); 3] = [("email", 0.5), ("chat", 0.35), ("phone", 0.15)];

const USAGE_EVENTS: &[&str] = &[
    "login",
    "login",
    "create_report",
    "export_report",
    "invite_user",
];
const SELF_SERVICE_EVENTS: &[&str] = &[
    "help_article_view",
    "faq_view",
    "chatbot_session",
    "community_post",
];
const PROMOTER_COMMENTS: &[&str] = &[
    "Great service, fast delivery!",
    "Love the new dashboard, it saves me hours every week.",
    "Support was really helpful and quick.",
    "Easy to use and very reliable.",
    "Excellent product. I recommend it to everyone.",
    "The reports are exactly what our team needed :)",
    "Best tool we have bought this year!",
];
const PASSIVE_COMMENTS: &[&str] = &[
    "It's okay, does the job.",
    "Good overall, but the mobile app could be better.",
    "Decent value for the price.",
    "Fine, although setup took a while.",
];
const DETRACTOR_COMMENTS: &[&str] = &[
    "Terrible support, I waited days for a reply.",
    "The app keeps crashing, very frustrating!",
    "Too expensive for what it does.",
    "Delivery was late again and nobody told me.",
    "Not happy with the billing changes.",
    "Confusing interface, I can't find anything.",
];
const PRICE_COMMENTS: &[&str] = &[
    "The price increase is not worth it.",
    "Why did the price go up so much? Disappointed.",
    "New pricing is unfair for small teams.",
];

fn pick<'a, R: RngExt>(rng: &mut R, table: &[(&'a str, f64)]) -> &'a str {
    let mut x: f64 = rng.random();
    for (name, p) in table {
        if x < *p {
            return name;
        }
        x -= p;
    }
    table[table.len() - 1].0
}

fn choose<'a, R: RngExt>(rng: &mut R, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn poisson<R: RngExt>(rng: &mut R, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    Poisson::new(lambda).map_or(0, |d| d.sample(rng) as u64)
}

fn lognormal<R: RngExt>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    LogNormal::new(median.ln(), sigma).map_or(median, |d| d.sample(rng))
}

fn ts(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .expect("demo times are in range")
        .to_string()
}

fn epoch_seconds(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC)
        .expect("demo dates are in range")
        .timestamp()
        .as_second()
}

/// Month number (0 = January) of an instant.
fn month_of(seconds: i64) -> i8 {
    Timestamp::from_second(seconds)
        .expect("in range")
        .to_zoned(TimeZone::UTC)
        .month()
        - 1
}

fn in_range(seconds: i64, from: Date, to: Date) -> bool {
    (epoch_seconds(from)..epoch_seconds(to)).contains(&seconds)
}

struct Writers {
    dir: PathBuf,
    names: Vec<&'static str>,
    writers: Vec<csv::Writer<BufWriter<File>>>,
    rows: Vec<u64>,
}

const CUSTOMERS: usize = 0;
const ORDERS: usize = 1;
const SUBSCRIPTIONS: usize = 2;
const RESPONSES: usize = 3;
const TICKETS: usize = 4;
const SPEND: usize = 5;
const SESSIONS: usize = 6;
const REFERRALS: usize = 7;
const ACTIVITY: usize = 8;

impl Writers {
    fn create(dir: &Path) -> io::Result<Writers> {
        fs::create_dir_all(dir)?;
        let headers: [(&str, &[&str]); 9] = [
            (
                "customers",
                &[
                    "customer_id",
                    "acquired_at",
                    "churned_at",
                    "acquisition_channel",
                    "campaign",
                    "plan",
                    "region",
                    "industry",
                    "company_size",
                ],
            ),
            (
                "orders",
                &[
                    "order_id",
                    "customer_id",
                    "ordered_at",
                    "amount",
                    "promised_at",
                    "delivered_at",
                    "accurate",
                ],
            ),
            (
                "subscriptions",
                &[
                    "subscription_id",
                    "customer_id",
                    "started_at",
                    "ended_at",
                    "mrr",
                    "plan",
                ],
            ),
            (
                "responses",
                &[
                    "response_id",
                    "customer_id",
                    "survey",
                    "score",
                    "responded_at",
                    "touchpoint",
                    "comment",
                ],
            ),
            (
                "tickets",
                &[
                    "ticket_id",
                    "customer_id",
                    "created_at",
                    "first_response_at",
                    "resolved_at",
                    "channel",
                    "replies",
                    "reopens",
                    "escalated",
                    "contacts",
                    "handle_seconds",
                    "priority",
                ],
            ),
            (
                "spend",
                &[
                    "spend_id",
                    "channel",
                    "campaign",
                    "purpose",
                    "period_start",
                    "period_end",
                    "amount",
                ],
            ),
            (
                "sessions",
                &[
                    "session_id",
                    "visitor_id",
                    "customer_id",
                    "started_at",
                    "pageviews",
                    "converted",
                    "device",
                ],
            ),
            (
                "referrals",
                &[
                    "referral_id",
                    "referrer_id",
                    "referred_customer_id",
                    "referred_at",
                ],
            ),
            (
                "activity",
                &["event_id", "customer_id", "occurred_at", "event", "kind"],
            ),
        ];
        let mut writers = Vec::new();
        let mut names = Vec::new();
        for (name, header) in headers {
            let file = File::create(dir.join(format!("{name}.csv")))?;
            let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
            w.write_record(header)?;
            writers.push(w);
            names.push(name);
        }
        Ok(Writers {
            dir: dir.to_path_buf(),
            names,
            writers,
            rows: vec![0; 9],
        })
    }

    fn write<const N: usize>(&mut self, table: usize, record: [&str; N]) -> io::Result<()> {
        self.writers[table].write_record(record)?;
        self.rows[table] += 1;
        Ok(())
    }

    fn finish(mut self) -> io::Result<DemoSummary> {
        for w in &mut self.writers {
            w.flush()?;
        }
        Ok(DemoSummary {
            files: self
                .names
                .iter()
                .zip(&self.rows)
                .map(|(name, rows)| (*name, self.dir.join(format!("{name}.csv")), *rows))
                .collect(),
        })
    }
}

/// Generates the demo company's nine CSV files in `dir`.
pub fn generate(dir: &Path, options: &DemoOptions) -> io::Result<DemoSummary> {
    let end_date = options.end;
    let start_date = end_date
        .checked_sub(jiff::Span::new().months(MONTHS as i64))
        .map_err(io::Error::other)?;
    let start = epoch_seconds(start_date);
    let end = epoch_seconds(end_date);
    let month_starts: Vec<i64> = (0..=MONTHS)
        .map(|m| {
            epoch_seconds(
                start_date
                    .checked_add(jiff::Span::new().months(m as i64))
                    .expect("in range"),
            )
        })
        .collect();

    // How many customers are won each month: growth times seasonality.
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let weights: Vec<f64> = (0..MONTHS)
        .map(|m| {
            let growth = 1.4f64.powf(m as f64 / 12.0);
            let season = match month_of(month_starts[m]) {
                0 => 1.35,
                8 => 1.25,
                6 | 7 => 0.85,
                11 => 0.8,
                _ => 1.0,
            };
            growth * season
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut per_month = vec![0u64; MONTHS];
    for _ in 0..options.customers {
        let mut x = rng.random::<f64>() * total;
        let mut m = 0;
        while m + 1 < MONTHS && x >= weights[m] {
            x -= weights[m];
            m += 1;
        }
        per_month[m] += 1;
    }

    let mut out = Writers::create(dir)?;
    let mut acquired: Vec<i64> = Vec::with_capacity(options.customers as usize);
    // Acquisitions by (month, channel, campaign), for spend.
    let mut won: std::collections::BTreeMap<(usize, &str, &str), u64> = Default::default();
    let mut index = 0u64;
    for (m, &count) in per_month.iter().enumerate() {
        let (from, to) = (month_starts[m], month_starts[m + 1]);
        let mut times: Vec<i64> = (0..count).map(|_| rng.random_range(from..to)).collect();
        times.sort_unstable();
        for t0 in times {
            index += 1;
            let mut c = ChaCha8Rng::seed_from_u64(options.seed);
            c.set_stream(index);
            let customer = generate_customer(&mut c, index, t0, start, end, &acquired, &mut out)?;
            *won.entry((m, customer.0, customer.1)).or_default() += 1;
            acquired.push(t0);
        }
    }
    generate_anonymous_sessions(&mut rng, &per_month, &month_starts, &mut out)?;
    generate_spend(&mut rng, &won, &month_starts, &mut out)?;
    out.finish()
}

/// Writes one customer and everything they did; returns their channel and campaign.
fn generate_customer(
    rng: &mut ChaCha8Rng,
    index: u64,
    t0: i64,
    start: i64,
    end: i64,
    acquired: &[i64],
    out: &mut Writers,
) -> io::Result<(&'static str, &'static str)> {
    let id = format!("C{index:07}");
    let plan = pick(rng, &PLANS);
    let region = pick(rng, &REGIONS);
    let channel = pick(rng, &CHANNELS);
    let industry = pick(rng, &INDUSTRIES);
    let size = pick(rng, &SIZES);
    let in_summer_blast = in_range(t0, Date::constant(2025, 7, 1), Date::constant(2025, 8, 1));
    let campaign = match channel {
        "paid_search" if rng.random_bool(0.4) => "brand",
        "paid_search" => "generic",
        "social" if in_summer_blast => "summer-blast",
        "social" => "always-on",
        "partner" => "reseller",
        _ => "",
    };

    // Monthly churn hazard.
    let mut hazard: f64 = 0.025;
    hazard *= match plan {
        "basic" => 1.4,
        "pro" => 0.8,
        _ => 0.45,
    };
    hazard *= match (channel, campaign) {
        (_, "summer-blast") => 2.0,
        ("social", _) => 1.3,
        ("referral", _) => 0.75,
        _ => 1.0,
    };
    let lifetime_days = Exp::new(hazard).map_or(1e9, |d| d.sample(rng)) * MONTH_DAYS;
    let churn = t0 + (lifetime_days * DAY as f64) as i64;
    let churned_at = (churn < end).then_some(churn);
    let active_until = churned_at.unwrap_or(end);
    let churned_text = churned_at.map(ts).unwrap_or_default();
    out.write(
        CUSTOMERS,
        [
            &id,
            &ts(t0),
            &churned_text,
            channel,
            campaign,
            plan,
            region,
            industry,
            size,
        ],
    )?;
    // Days before churn: customers about to leave use less and answer worse.
    let souring = |t: i64| churned_at.is_some_and(|c| c - t < 60 * DAY);

    // Subscriptions: one interval, or two with an upgrade.
    let seats = if plan == "enterprise" {
        rng.random_range(1..=5)
    } else {
        1
    };
    let mrr = |plan: &str| match plan {
        "basic" => 29.0,
        "pro" => 99.0,
        _ => 499.0 * f64::from(seats),
    };
    let upgrade = match plan {
        "basic" if rng.random_bool(0.25) => Some("pro"),
        "pro" if rng.random_bool(0.12) => Some("enterprise"),
        _ => None,
    };
    let ended = churned_at.map(ts).unwrap_or_default();
    match upgrade {
        Some(next) if active_until - t0 > 90 * DAY => {
            let at = rng.random_range(t0 + 60 * DAY..active_until - 20 * DAY);
            out.write(
                SUBSCRIPTIONS,
                [
                    &format!("S{index:07}-1"),
                    &id,
                    &ts(t0),
                    &ts(at),
                    &format!("{:.2}", mrr(plan)),
                    plan,
                ],
            )?;
            out.write(
                SUBSCRIPTIONS,
                [
                    &format!("S{index:07}-2"),
                    &id,
                    &ts(at),
                    &ended,
                    &format!("{:.2}", mrr(next)),
                    next,
                ],
            )?;
        }
        _ => out.write(
            SUBSCRIPTIONS,
            [
                &format!("S{index:07}-1"),
                &id,
                &ts(t0),
                &ended,
                &format!("{:.2}", mrr(plan)),
                plan,
            ],
        )?,
    }

    // The sign-up visit, converted.
    let visitor = format!("V{index:07}");
    let mut session_n = 0;
    let mut session = |rng: &mut ChaCha8Rng, out: &mut Writers, at: i64, converted: bool| {
        session_n += 1;
        let pageviews = if !converted && rng.random_bool(0.35) {
            1
        } else {
            2 + poisson(rng, 3.0)
        };
        let device = if rng.random_bool(0.55) {
            "desktop"
        } else {
            "mobile"
        };
        out.write(
            SESSIONS,
            [
                &format!("W{index:07}-{session_n}"),
                &visitor,
                &id,
                &ts(at),
                &pageviews.to_string(),
                if converted { "true" } else { "false" },
                device,
            ],
        )
    };
    let signup = (t0 - rng.random_range(60..1800)).max(start);
    session(rng, out, signup, true)?;

    // Referral that brought this customer.
    if channel == "referral" {
        let limit = acquired.partition_point(|&t| t < t0 - 14 * DAY);
        if limit > 0 {
            let referrer = rng.random_range(0..limit);
            let at = t0 - rng.random_range(0..14 * DAY);
            out.write(
                REFERRALS,
                [
                    &format!("R{index:07}"),
                    &format!("C{:07}", referrer + 1),
                    &id,
                    &ts(at),
                ],
            )?;
        }
    }

    let (order_rate, median_amount) = match plan {
        "basic" => (0.35, 45.0),
        "pro" => (0.6, 80.0),
        _ => (1.0, 160.0),
    };
    let (mut order_n, mut ticket_n, mut response_n, mut event_n, mut referral_n) = (0, 0, 0, 0, 0);
    let mut first_order = true;
    let mut nps_next = t0 + 30 * DAY;
    // Walk the customer's life month by month.
    let mut month_start = t0;
    while month_start < active_until {
        let month_end = (month_start + (MONTH_DAYS * DAY as f64) as i64).min(active_until);
        let span = month_end - month_start;
        let share = span as f64 / (MONTH_DAYS * DAY as f64);
        let season = match month_of(month_start) {
            10 => 1.5,
            11 => 1.8,
            0 => 0.8,
            _ => 1.0,
        };
        let when = |rng: &mut ChaCha8Rng| month_start + rng.random_range(0..span.max(1));

        // Orders (the first at sign-up).
        let n_orders = poisson(rng, order_rate * season * share) + u64::from(first_order);
        for k in 0..n_orders {
            let at = if first_order && k == 0 {
                t0 + rng.random_range(0..3600)
            } else {
                when(rng)
            };
            if at >= end {
                continue;
            }
            order_n += 1;
            let amount = lognormal(rng, median_amount, 0.6);
            let promised = at + 5 * DAY;
            let took = Gamma::new(4.0, 1.1).map_or(4.0, |g| g.sample(rng)) * DAY as f64;
            let delivered = at + took as i64;
            let delivered_text = if delivered < end {
                ts(delivered)
            } else {
                String::new()
            };
            let accurate = match rng.random::<f64>() {
                x if x < 0.01 => "",
                x if x < 0.05 => "false",
                _ => "true",
            };
            out.write(
                ORDERS,
                [
                    &format!("O{index:07}-{order_n}"),
                    &id,
                    &ts(at),
                    &format!("{amount:.2}"),
                    &ts(promised),
                    &delivered_text,
                    accurate,
                ],
            )?;
            // Post-purchase rating after some deliveries.
            if delivered < end && rng.random_bool(0.15) {
                let late = delivered > promised;
                let mean =
                    if late { 2.6 } else { 4.3 } - if accurate == "false" { 1.0 } else { 0.0 };
                let score = (mean + rng.random_range(-1.2..1.2f64))
                    .round()
                    .clamp(1.0, 5.0);
                response_n += 1;
                let comment = if late && rng.random_bool(0.3) {
                    "Delivery was late again and nobody told me."
                } else {
                    ""
                };
                out.write(
                    RESPONSES,
                    [
                        &format!("P{index:07}-{response_n}"),
                        &id,
                        "ppr",
                        &score.to_string(),
                        &ts((delivered + DAY).min(end - 1)),
                        "purchase",
                        comment,
                    ],
                )?;
            }
        }
        first_order = false;

        // Product usage and self-service.
        let usage_rate = match plan {
            "basic" => 1.5,
            "pro" => 3.0,
            _ => 5.0,
        } * if souring(month_start) { 0.25 } else { 1.0 };
        for (rate, events, kind) in [
            (usage_rate, USAGE_EVENTS, "usage"),
            (0.5, SELF_SERVICE_EVENTS, "self_service"),
        ] {
            for _ in 0..poisson(rng, rate * share) {
                event_n += 1;
                let event = choose(rng, events);
                out.write(
                    ACTIVITY,
                    [
                        &format!("E{index:07}-{event_n}"),
                        &id,
                        &ts(when(rng)),
                        event,
                        kind,
                    ],
                )?;
            }
        }

        // Visits.
        for _ in 0..poisson(rng, 1.5 * share) {
            let at = when(rng);
            session(rng, out, at, false)?;
        }

        // Referrals of unknown people.
        if rng.random_bool((0.01 * share).min(1.0)) {
            referral_n += 1;
            out.write(
                REFERRALS,
                [
                    &format!("R{index:07}-{referral_n}"),
                    &id,
                    "",
                    &ts(when(rng)),
                ],
            )?;
        }

        // Support tickets.
        let ticket_rate = if plan == "enterprise" { 0.5 } else { 0.22 };
        for _ in 0..poisson(rng, ticket_rate * share) {
            let created = when(rng);
            ticket_n += 1;
            let ch = pick(rng, &TICKET_CHANNELS);
            let slow = in_range(
                created,
                Date::constant(2026, 2, 1),
                Date::constant(2026, 3, 1),
            );
            let (response_median, resolution_median) = match ch {
                "chat" => (180.0, 2.0 * 3600.0),
                "phone" => (60.0, 4.0 * 3600.0),
                _ => (3.0 * 3600.0, 20.0 * 3600.0),
            };
            let factor = if slow { 5.0 } else { 1.0 };
            let responded = created + (lognormal(rng, response_median, 0.9) * factor) as i64;
            let responded_text = if responded < end && rng.random_bool(0.98) {
                ts(responded)
            } else {
                String::new()
            };
            let resolution = lognormal(rng, resolution_median, 1.0) * if slow { 3.0 } else { 1.0 };
            let resolved = responded.max(created + resolution as i64);
            let resolved_text = if resolved < end {
                ts(resolved)
            } else {
                String::new()
            };
            let reopens = match rng.random::<f64>() {
                x if x < 0.02 => 2,
                x if x < 0.12 => 1,
                _ => 0,
            };
            let replies = 1 + poisson(rng, 1.0) + reopens;
            let escalated = rng.random_bool(0.08);
            let handle = lognormal(rng, 600.0, 0.7);
            let priority = if rng.random_bool(0.2) {
                "high"
            } else {
                "normal"
            };
            out.write(
                TICKETS,
                [
                    &format!("T{index:07}-{ticket_n}"),
                    &id,
                    &ts(created),
                    &responded_text,
                    &resolved_text,
                    ch,
                    &replies.to_string(),
                    &reopens.to_string(),
                    if escalated { "true" } else { "false" },
                    &(1 + reopens).to_string(),
                    &format!("{handle:.0}"),
                    priority,
                ],
            )?;
            // CSAT and CES after resolution.
            if resolved < end && rng.random_bool(0.3) {
                let hours = (resolved - created) as f64 / 3600.0;
                let mean = 4.6 - (hours / 24.0).min(2.5) - if reopens > 0 { 0.6 } else { 0.0 };
                let score = (mean + rng.random_range(-1.0..1.0f64))
                    .round()
                    .clamp(1.0, 5.0);
                response_n += 1;
                let comment = match score as i64 {
                    1 | 2 if rng.random_bool(0.5) => "Terrible support, I waited days for a reply.",
                    5 if rng.random_bool(0.3) => "Support was really helpful and quick.",
                    _ => "",
                };
                out.write(
                    RESPONSES,
                    [
                        &format!("P{index:07}-{response_n}"),
                        &id,
                        "csat",
                        &score.to_string(),
                        &ts((resolved + 3600).min(end - 1)),
                        "support",
                        comment,
                    ],
                )?;
                if rng.random_bool(0.5) {
                    let ces = (6.0 - hours / 12.0 + rng.random_range(-1.5..1.5f64))
                        .round()
                        .clamp(1.0, 7.0);
                    response_n += 1;
                    out.write(
                        RESPONSES,
                        [
                            &format!("P{index:07}-{response_n}"),
                            &id,
                            "ces",
                            &ces.to_string(),
                            &ts((resolved + 7200).min(end - 1)),
                            "support",
                            "",
                        ],
                    )?;
                }
            }
        }

        // NPS: 30 days in, then every quarter, answered by about 40%.
        while nps_next < month_end {
            let at = nps_next;
            nps_next += 91 * DAY;
            if at >= end || !rng.random_bool(0.4) {
                continue;
            }
            let price_drop = region == "europe"
                && in_range(at, Date::constant(2025, 6, 1), Date::constant(2025, 9, 1));
            let (p_promoter, p_detractor) = match (price_drop, souring(at), plan) {
                (_, true, _) => (0.15, 0.6),
                (true, _, _) => (0.22, 0.5),
                (_, _, "enterprise") => (0.55, 0.12),
                _ => (0.45, 0.2),
            };
            let x: f64 = rng.random();
            let (score, comments) = if x < p_promoter {
                (rng.random_range(9..=10), PROMOTER_COMMENTS)
            } else if x < 1.0 - p_detractor {
                (rng.random_range(7..=8), PASSIVE_COMMENTS)
            } else {
                let comments = if price_drop {
                    PRICE_COMMENTS
                } else {
                    DETRACTOR_COMMENTS
                };
                (rng.random_range(0..=6), comments)
            };
            let comment = if rng.random_bool(0.45) {
                choose(rng, comments)
            } else {
                ""
            };
            response_n += 1;
            out.write(
                RESPONSES,
                [
                    &format!("P{index:07}-{response_n}"),
                    &id,
                    "nps",
                    &score.to_string(),
                    &ts(at),
                    "relationship",
                    comment,
                ],
            )?;
        }
        month_start = month_end;
    }
    Ok((channel, campaign))
}

/// Visitors who never became customers: about four for every customer won.
fn generate_anonymous_sessions(
    rng: &mut ChaCha8Rng,
    per_month: &[u64],
    month_starts: &[i64],
    out: &mut Writers,
) -> io::Result<()> {
    let mut visitor = 0u64;
    for (m, &won) in per_month.iter().enumerate() {
        for _ in 0..won * 4 {
            visitor += 1;
            for s in 0..1 + poisson(rng, 0.5) {
                let at = rng.random_range(month_starts[m]..month_starts[m + 1]);
                let pageviews = if rng.random_bool(0.5) {
                    1
                } else {
                    2 + poisson(rng, 2.0)
                };
                let device = if rng.random_bool(0.45) {
                    "desktop"
                } else {
                    "mobile"
                };
                out.write(
                    SESSIONS,
                    [
                        &format!("A{visitor:08}-{s}"),
                        &format!("A{visitor:08}"),
                        "",
                        &ts(at),
                        &pageviews.to_string(),
                        "false",
                        device,
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// Monthly spend per channel and campaign, about proportional to what it won.
fn generate_spend(
    rng: &mut ChaCha8Rng,
    won: &std::collections::BTreeMap<(usize, &str, &str), u64>,
    month_starts: &[i64],
    out: &mut Writers,
) -> io::Result<()> {
    let date = |s: i64| {
        Timestamp::from_second(s)
            .expect("in range")
            .to_zoned(TimeZone::UTC)
            .date()
            .to_string()
    };
    let mut n = 0;
    for m in 0..month_starts.len() - 1 {
        let first = date(month_starts[m]);
        let last = date(month_starts[m + 1] - DAY);
        let mut row = |channel: &str, campaign: &str, purpose: &str, amount: f64| {
            n += 1;
            out.write(
                SPEND,
                [
                    &format!("M{n:05}"),
                    channel,
                    campaign,
                    purpose,
                    &first,
                    &last,
                    &format!("{amount:.2}"),
                ],
            )
        };
        for ((_, channel, campaign), count) in won.range((m, "", "")..(m + 1, "", "")) {
            let per_customer = match (*channel, *campaign) {
                ("organic", _) => 15.0,
                ("paid_search", "brand") => 90.0,
                ("paid_search", _) => 210.0,
                ("social", "summer-blast") => 320.0,
                ("social", _) => 140.0,
                ("partner", _) => 250.0,
                _ => 25.0,
            };
            let noise = rng.random_range(0.85..1.15);
            row(
                channel,
                campaign,
                "acquisition",
                *count as f64 * per_customer * noise,
            )?;
        }
        let retention = 4_000.0 * rng.random_range(0.9..1.1);
        row("email", "lifecycle", "retention", retention)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let options = DemoOptions {
            customers: 300,
            ..DemoOptions::default()
        };
        generate(a.path(), &options).unwrap();
        generate(b.path(), &options).unwrap();
        for name in [
            "customers",
            "orders",
            "responses",
            "tickets",
            "spend",
            "sessions",
        ] {
            let read = |d: &Path| fs::read(d.join(format!("{name}.csv"))).unwrap();
            assert_eq!(read(a.path()), read(b.path()), "{name}.csv differs");
        }
        let other = tempfile::tempdir().unwrap();
        generate(other.path(), &DemoOptions { seed: 7, ..options }).unwrap();
        let read = |d: &Path| fs::read(d.join("orders.csv")).unwrap();
        assert_ne!(read(a.path()), read(other.path()));
    }
}
