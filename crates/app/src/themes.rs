//! What negative feedback is about: per period and segment, the words and two-word
//! phrases most frequent in negative comments and the most distinctive of them
//! against positive ones (`cxkpi_core::themes`).

use cxkpi_core::config::Config;
use cxkpi_core::sentiment::SentimentClass;
use cxkpi_core::themes::{Term, compare};
use cxkpi_store::Snapshot;

use crate::error::Result;
use crate::kpis::{PeriodChoice, Slice, customer_request, last_complete_months};

/// The themes of one period and segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Themes {
    /// The period's label.
    pub period: String,
    /// The segment's value (`None` without `--by`).
    pub segment: Option<String>,
    /// Negative comments (VADER compound <= -0.05).
    pub negative_comments: usize,
    /// Positive comments.
    pub positive_comments: usize,
    /// The terms most frequent in negative comments, most frequent first.
    pub frequent: Vec<Term>,
    /// The terms most distinctive of negative comments (z > 0), most distinctive first.
    pub distinctive: Vec<Term>,
}

/// The themes of every period (default: the last complete month) and segment, with at
/// most `top` terms per list.
pub async fn themes(
    snapshot: &Snapshot,
    config: &Config,
    periods: &PeriodChoice,
    slice: &Slice,
    top: usize,
) -> Result<Vec<Themes>> {
    let kpi = cxkpi_core::kpi::lookup("sentiment").expect("in the catalogue");
    let end = cxkpi_engine::data_end(snapshot).await?;
    let periods = periods.resolve(config, last_complete_months(end, 1, config))?;
    let request = customer_request(kpi, slice, snapshot, config)?;
    let mut out = Vec::new();
    for period in &periods {
        let comments = cxkpi_engine::scored_comments(snapshot, &request, period).await?;
        let mut segments: Vec<&str> = comments.iter().map(|(s, _, _)| s.as_str()).collect();
        segments.sort_unstable();
        segments.dedup();
        for segment in segments {
            let of = |wanted: SentimentClass| {
                comments
                    .iter()
                    .filter(move |(s, _, c)| s == segment && SentimentClass::of(*c) == wanted)
                    .map(|(_, text, _)| text.as_str())
            };
            let terms = compare(of(SentimentClass::Negative), of(SentimentClass::Positive));
            let mut frequent: Vec<Term> =
                terms.iter().filter(|t| t.negative > 0).cloned().collect();
            frequent.sort_by(|a, b| {
                b.negative
                    .cmp(&a.negative)
                    .then_with(|| a.term.cmp(&b.term))
            });
            frequent.truncate(top);
            out.push(Themes {
                period: period.label(),
                segment: slice.by.first().map(|_| segment.to_string()),
                negative_comments: of(SentimentClass::Negative).count(),
                positive_comments: of(SentimentClass::Positive).count(),
                distinctive: terms
                    .iter()
                    .filter(|t| t.z > 0.0)
                    .take(top)
                    .cloned()
                    .collect(),
                frequent,
            });
        }
    }
    Ok(out)
}
