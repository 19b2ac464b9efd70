//! Themes of feedback: the words and two-word phrases that are most frequent in
//! negative comments and those most distinctive of them against positive comments.
//!
//! Comments are lower-cased and split into words (letters, digits and inner
//! apostrophes); common English function words are dropped, and a phrase is two
//! consecutive kept words of one comment. A term counts once per comment.
//! Distinctiveness is the log-odds ratio with an informative Dirichlet prior
//! (Monroe, Colaresi & Quinn 2008), as a z-score: positive for terms characteristic of
//! negative comments. It shrinks rare terms towards zero, so a word seen twice does
//! not outrank a word seen two hundred times.

use std::collections::{HashMap, HashSet};

/// Words too common to be themes.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "for",
    "from", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "i'm", "i've",
    "if", "in", "into", "is", "it", "it's", "its", "just", "me", "my", "of", "on", "or", "our",
    "out", "she", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "to", "too", "up", "us", "was", "we", "were", "what", "when", "which", "while", "who",
    "will", "with", "would", "you", "your",
];

/// A term with its counts and score.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The word or two-word phrase.
    pub term: String,
    /// Negative comments containing it.
    pub negative: u64,
    /// Positive comments containing it.
    pub positive: u64,
    /// Log-odds z-score: > 0 when characteristic of negative comments.
    pub z: f64,
}

/// The distinct words and phrases of one comment.
pub fn terms(text: &str) -> HashSet<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| {
            !w.is_empty() && !STOPWORDS.contains(w) && !w.chars().all(|c| c.is_ascii_digit())
        })
        .collect();
    let mut out: HashSet<String> = words.iter().map(|w| w.to_string()).collect();
    out.extend(
        words
            .windows(2)
            .map(|pair| format!("{} {}", pair[0], pair[1])),
    );
    out
}

/// Counts and scores every term of `negative` and `positive` comments.
pub fn compare<'a>(
    negative: impl IntoIterator<Item = &'a str>,
    positive: impl IntoIterator<Item = &'a str>,
) -> Vec<Term> {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for text in negative {
        for t in terms(text) {
            counts.entry(t).or_default().0 += 1;
        }
    }
    for text in positive {
        for t in terms(text) {
            counts.entry(t).or_default().1 += 1;
        }
    }
    let (n_neg, n_pos): (f64, f64) = counts
        .values()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + *x as f64, b + *y as f64));
    // The prior: the pooled counts, scaled to a total of `prior_size`.
    let pooled = n_neg + n_pos;
    let prior_size = 500.0f64.min(pooled.max(1.0));
    let mut out: Vec<Term> = counts
        .into_iter()
        .map(|(term, (neg, pos))| {
            let alpha = prior_size * (neg + pos) as f64 / pooled.max(1.0);
            let (y1, y2) = (neg as f64, pos as f64);
            let (a0, n1, n2) = (prior_size, n_neg, n_pos);
            let delta = ((y1 + alpha) / (n1 + a0 - y1 - alpha)).ln()
                - ((y2 + alpha) / (n2 + a0 - y2 - alpha)).ln();
            let variance = 1.0 / (y1 + alpha) + 1.0 / (y2 + alpha);
            Term {
                term,
                negative: neg,
                positive: pos,
                z: delta / variance.sqrt(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.z.total_cmp(&a.z).then_with(|| a.term.cmp(&b.term)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_phrases_once_per_comment() {
        let t = terms("The price is too high, the PRICE is too high!");
        // Stop words (the, is, too) go; "price high" is a phrase of kept neighbours.
        let mut got: Vec<&str> = t.iter().map(String::as_str).collect();
        got.sort();
        assert_eq!(got, ["high", "high price", "price", "price high"]);
        assert!(terms("don't 2024 ok").contains("don't"));
        assert!(!terms("don't 2024 ok").contains("2024"));
    }

    #[test]
    fn distinctive_terms_rank_first() {
        let negative = [
            "price went up",
            "price too high",
            "slow support",
            "price again",
        ];
        let positive = [
            "great support",
            "support was great",
            "fast support",
            "love it",
        ];
        let terms = compare(negative, positive);
        assert_eq!(terms[0].term, "price");
        assert_eq!((terms[0].negative, terms[0].positive), (3, 0));
        let support = terms.iter().find(|t| t.term == "support").unwrap();
        assert_eq!((support.negative, support.positive), (1, 3));
        assert!(support.z < 0.0);
        // The z-scores from a separate Python transcription of Monroe et al.'s
        // formula on the same counts (10 term occurrences on each side, prior 20).
        assert!((terms[0].z - 1.1468285099112787).abs() < 1e-12);
        assert!((support.z + 0.7170369473924717).abs() < 1e-12);
        // "great" is only in positive comments (twice): the least negative theme.
        assert_eq!(terms.last().unwrap().term, "great");
    }
}
