//! VADER sentiment (Hutto & Gilbert 2014), scoring text exactly as the reference
//! implementation vaderSentiment 3.3.2 does, quirks included, so that our numbers
//! can be checked against it to the last rounded digit.
//!
//! The port follows `SentimentIntensityAnalyzer.polarity_scores` step by step:
//! emoji are replaced by their descriptions, the text is split on white space and
//! tokens lose leading and trailing ASCII punctuation unless that leaves two
//! characters or fewer (emoticons); each token gets its lexicon valence adjusted by
//! capitals, boosters and dampeners up to three tokens before it, negations, "no",
//! "least" and idioms; "but" halves what comes before it and multiplies what follows by
//! 1.5; exclamation and question marks add emphasis; the sum is normalised to the
//! compound score. Reproduced on purpose: the "but" rule locates each valence by its
//! first equal value in the list (as Python's `list.index` does), `?` counts only from
//! two marks on, and a booster in capitals counts only when some tokens are not.
//!
//! The lexicons are data (`crates/core/data/vader`, MIT licence, provenance in the
//! README there).

use std::collections::HashMap;
use std::sync::OnceLock;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

/// VADER's scores of one text, rounded as vaderSentiment rounds them (3 decimals for
/// the proportions, 4 for the compound score).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarity {
    /// Share of negative valence.
    pub neg: f64,
    /// Share of neutral tokens.
    pub neu: f64,
    /// Share of positive valence.
    pub pos: f64,
    /// Normalised sum of valences, -1..1.
    pub compound: f64,
}

impl Polarity {
    /// The class kpis.md uses for this text.
    pub fn class(&self) -> SentimentClass {
        SentimentClass::of(self.compound)
    }
}

/// A compound score at or above this is positive (kpis.md).
pub const POSITIVE_AT: f64 = 0.05;
/// A compound score at or below this is negative (kpis.md).
pub const NEGATIVE_AT: f64 = -0.05;

/// Positive, neutral or negative (compound thresholds [`POSITIVE_AT`],
/// [`NEGATIVE_AT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentimentClass {
    /// compound >= 0.05
    Positive,
    /// in between
    Neutral,
    /// compound <= -0.05
    Negative,
}

impl SentimentClass {
    /// The class of a compound score.
    pub fn of(compound: f64) -> SentimentClass {
        if compound >= POSITIVE_AT {
            SentimentClass::Positive
        } else if compound <= NEGATIVE_AT {
            SentimentClass::Negative
        } else {
            SentimentClass::Neutral
        }
    }
}

/// The VADER analyzer: lexicons loaded once per process.
#[derive(Debug)]
pub struct Vader {
    lexicon: HashMap<String, f64>,
    emoji: HashMap<char, &'static str>,
    boosters: HashMap<&'static str, f64>,
}

/// The shared analyzer (lexicons parsed on first use).
pub fn vader() -> &'static Vader {
    static VADER: OnceLock<Vader> = OnceLock::new();
    VADER.get_or_init(Vader::new)
}

/// VADER scores of `text` with the shared analyzer.
pub fn polarity(text: &str) -> Polarity {
    vader().polarity_scores(text)
}

impl Vader {
    fn new() -> Vader {
        let lexicon = include_str!("../data/vader/vader_lexicon.tsv")
            .lines()
            .filter_map(|line| {
                let (word, measure) = line.split_once('\t')?;
                Some((word.to_string(), measure.parse().ok()?))
            })
            .collect();
        let emoji = include_str!("../data/vader/emoji_lexicon.tsv")
            .lines()
            .filter_map(|line| {
                let (emoji, description) = line.split_once('\t')?;
                let mut chars = emoji.chars();
                let c = chars.next()?;
                chars.next().is_none().then_some((c, description))
            })
            .collect();
        let boosters = BOOSTERS_UP
            .iter()
            .map(|w| (*w, B_INCR))
            .chain(BOOSTERS_DOWN.iter().map(|w| (*w, B_DECR)))
            .collect();
        Vader {
            lexicon,
            emoji,
            boosters,
        }
    }

    /// VADER's `polarity_scores`.
    pub fn polarity_scores(&self, text: &str) -> Polarity {
        // Emoji become their descriptions, separated from a preceding non-space.
        let mut replaced = String::with_capacity(text.len());
        let mut prev_space = true;
        for c in text.chars() {
            if let Some(description) = self.emoji.get(&c) {
                if !prev_space {
                    replaced.push(' ');
                }
                replaced.push_str(description);
                prev_space = false;
            } else {
                replaced.push(c);
                prev_space = c == ' ';
            }
        }
        let text = replaced.trim_matches(is_py_space);

        let words: Vec<&str> = text
            .split(is_py_space)
            .filter(|w| !w.is_empty())
            .map(strip_punctuation_if_word)
            .collect();
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let cap_diff = allcap_differential(&words);

        let mut sentiments: Vec<f64> = Vec::with_capacity(words.len());
        for i in 0..words.len() {
            if self.boosters.contains_key(lower[i].as_str())
                || (i + 1 < words.len() && lower[i] == "kind" && lower[i + 1] == "of")
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.valence(&words, &lower, i, cap_diff));
        }
        but_check(&lower, &mut sentiments);
        score(&sentiments, text)
    }

    fn in_lexicon(&self, word: &str) -> bool {
        self.lexicon.contains_key(word)
    }

    /// `sentiment_valence` for token `i`.
    fn valence(&self, words: &[&str], lower: &[String], i: usize, cap_diff: bool) -> f64 {
        let Some(&base) = self.lexicon.get(&lower[i]) else {
            return 0.0;
        };
        let mut valence = base;
        // "no" before another lexicon word negates it instead of counting itself.
        if lower[i] == "no" && i + 1 < words.len() && self.in_lexicon(&lower[i + 1]) {
            valence = 0.0;
        }
        if (i > 0 && lower[i - 1] == "no")
            || (i > 1 && lower[i - 2] == "no")
            || (i > 2 && lower[i - 3] == "no" && (lower[i - 1] == "or" || lower[i - 1] == "nor"))
        {
            valence = base * N_SCALAR;
        }
        if is_upper(words[i]) && cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start in 0..3 {
            if i > start && !self.in_lexicon(&lower[i - (start + 1)]) {
                let mut s = self.scalar_inc_dec(
                    words[i - (start + 1)],
                    &lower[i - (start + 1)],
                    valence,
                    cap_diff,
                );
                if start == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, lower, start, i);
                if start == 2 {
                    valence = self.special_idioms_check(valence, lower, i);
                }
            }
        }
        self.least_check(valence, lower, i)
    }

    /// `scalar_inc_dec`: the boost of a preceding booster or dampener.
    fn scalar_inc_dec(&self, word: &str, lower: &str, valence: f64, cap_diff: bool) -> f64 {
        let Some(&boost) = self.boosters.get(lower) else {
            return 0.0;
        };
        let mut scalar = if valence < 0.0 { -boost } else { boost };
        if is_upper(word) && cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
        scalar
    }

    fn least_check(&self, valence: f64, lower: &[String], i: usize) -> f64 {
        if i > 1 && !self.in_lexicon(&lower[i - 1]) && lower[i - 1] == "least" {
            if lower[i - 2] != "at" && lower[i - 2] != "very" {
                return valence * N_SCALAR;
            }
        } else if i > 0 && !self.in_lexicon(&lower[i - 1]) && lower[i - 1] == "least" {
            return valence * N_SCALAR;
        }
        valence
    }

    /// `_special_idioms_check` (only called for i >= 3).
    fn special_idioms_check(&self, mut valence: f64, lower: &[String], i: usize) -> f64 {
        let w = |k: usize| lower[k].as_str();
        let one_zero = format!("{} {}", w(i - 1), w(i));
        let two_one_zero = format!("{} {} {}", w(i - 2), w(i - 1), w(i));
        let two_one = format!("{} {}", w(i - 2), w(i - 1));
        let three_two_one = format!("{} {} {}", w(i - 3), w(i - 2), w(i - 1));
        let three_two = format!("{} {}", w(i - 3), w(i - 2));
        let special = |seq: &str| {
            SPECIAL_CASES
                .iter()
                .find(|(k, _)| *k == seq)
                .map(|(_, v)| *v)
        };
        for seq in [
            &one_zero,
            &two_one_zero,
            &two_one,
            &three_two_one,
            &three_two,
        ] {
            if let Some(v) = special(seq) {
                valence = v;
                break;
            }
        }
        if lower.len() - 1 > i
            && let Some(v) = special(&format!("{} {}", w(i), w(i + 1)))
        {
            valence = v;
        }
        if lower.len() - 1 > i + 1
            && let Some(v) = special(&format!("{} {} {}", w(i), w(i + 1), w(i + 2)))
        {
            valence = v;
        }
        for n_gram in [&three_two_one, &three_two, &two_one] {
            if let Some(boost) = self.boosters.get(n_gram.as_str()) {
                valence += boost;
            }
        }
        valence
    }
}

/// `negated([word])`: a negation word or any word containing "n't".
fn negated(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
}

fn negation_check(valence: f64, lower: &[String], start: usize, i: usize) -> f64 {
    let w = |k: usize| lower[k].as_str();
    match start {
        0 if negated(w(i - 1)) => valence * N_SCALAR,
        1 => {
            if w(i - 2) == "never" && (w(i - 1) == "so" || w(i - 1) == "this") {
                valence * 1.25
            } else if w(i - 2) == "without" && w(i - 1) == "doubt" {
                valence
            } else if negated(w(i - 2)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            // Python's precedence: (never and (so or this)) or (so or this).
            if (w(i - 3) == "never" && (w(i - 2) == "so" || w(i - 2) == "this"))
                || (w(i - 1) == "so" || w(i - 1) == "this")
            {
                valence * 1.25
            } else if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") {
                valence
            } else if negated(w(i - 3)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// `_but_check`, with Python's `list.index` (first equal value) kept.
fn but_check(lower: &[String], sentiments: &mut [f64]) {
    let Some(bi) = lower.iter().position(|w| w == "but") else {
        return;
    };
    for k in 0..sentiments.len() {
        let sentiment = sentiments[k];
        let si = sentiments.iter().position(|s| *s == sentiment).unwrap_or(k);
        if si < bi {
            sentiments[si] = sentiment * 0.5;
        } else if si > bi {
            sentiments[si] = sentiment * 1.5;
        }
    }
}

/// `score_valence`: punctuation emphasis, normalisation and the three proportions.
fn score(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    let mut sum: f64 = sentiments.iter().fold(0.0, |a, s| a + s);
    let exclamations = text.matches('!').count().min(4) as f64;
    let questions = text.matches('?').count();
    let qm = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    let emphasis = exclamations * 0.292 + qm;
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let compound = (sum / (sum * sum + 15.0).sqrt()).clamp(-1.0, 1.0);

    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += emphasis;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= emphasis;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    Polarity {
        neg: round(neg_sum.abs() / total, 3),
        neu: round((f64::from(neu_count) / total).abs(), 3),
        pos: round((pos_sum / total).abs(), 3),
        compound: round(compound, 4),
    }
}

/// Python's `round(x, digits)`: the exact binary value rounded to `digits` decimals,
/// ties to even (Rust's fixed-precision formatting does the same).
fn round(x: f64, digits: usize) -> f64 {
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// `_strip_punc_if_word`: strip ASCII punctuation from both ends unless that leaves two
/// characters or fewer.
fn strip_punctuation_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

/// Python's `str.isspace` for one character (Unicode white space plus the ASCII
/// separators 0x1C..0x1F, which Python also splits on).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.isupper`: at least one cased character and none lowercase or
/// titlecase.
fn is_upper(word: &str) -> bool {
    let mut cased = false;
    for c in word.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// The 31 characters of Unicode category Lt.
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}'
        | '\u{1f88}'..='\u{1f8f}' | '\u{1f98}'..='\u{1f9f}' | '\u{1fa8}'..='\u{1faf}'
        | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

/// `allcap_differential`: some but not all tokens are in capitals.
fn allcap_differential(words: &[&str]) -> bool {
    let caps = words.iter().filter(|w| is_upper(w)).count();
    let differential = words.len() - caps;
    0 < differential && differential < words.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_round_ties_to_even_on_the_binary_value() {
        assert_eq!(round(0.0625, 3), 0.062);
        assert_eq!(round(0.0635, 3), 0.064);
        // -0.54235 is -0.542349999... in binary, so it rounds towards zero.
        assert_eq!(round(-0.54235, 4), -0.5423);
        assert_eq!(round(0.1, 4), 0.1);
    }

    #[test]
    fn isupper_like_python() {
        assert!(is_upper("GREAT"));
        assert!(is_upper("GREAT!"));
        assert!(!is_upper(":)"));
        assert!(!is_upper("Great"));
        assert!(!is_upper("123"));
    }

    #[test]
    fn tokens_keep_short_emoticons() {
        assert_eq!(strip_punctuation_if_word(":)"), ":)");
        assert_eq!(strip_punctuation_if_word("good!!"), "good");
        assert_eq!(strip_punctuation_if_word("ok."), "ok.");
        assert_eq!(strip_punctuation_if_word("'don't'"), "don't");
    }
}
