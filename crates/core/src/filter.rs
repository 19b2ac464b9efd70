//! The filter grammar of `--where` and the API's `where`, one for both:
//!
//! ```text
//! filter  = dimension op operand
//! op      = "=" | "!=" | "~=" | "<" | "<=" | ">" | ">=" | "in" | "not in"
//! operand = value                      (=, !=, ~=, <, <=, >, >=)
//!         | "(" value { "," value } ")"  (in, not in)
//! value   = 'text' | "text" | bare text (up to the end, or to "," or ")" in a list)
//! ```
//!
//! `~=` is equality ignoring case and surrounding spaces. The comparisons compare
//! numbers (numeric columns) and instants or dates (time columns); what a value means
//! depends on the column, so the engine checks it against the column's type. A bare
//! value is trimmed; quote it to keep spaces. `(none)` selects missing values.

use std::fmt;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `~=`: equal ignoring case and surrounding spaces.
    EqFold,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in (a, b)`
    In,
    /// `not in (a, b)`
    NotIn,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::EqFold => "~=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }

    /// Whether the operator orders values (numbers and times only).
    pub fn orders(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// One parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The dimension or column.
    pub dimension: String,
    /// The comparison.
    pub op: Op,
    /// The operand: one value, or the list of `in`.
    pub values: Vec<String>,
}

/// A filter that does not parse: where (1-based character position) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` at column {column}: {message}")]
pub struct FilterError {
    /// The filter as given.
    pub text: String,
    /// The character position of the problem, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Filter {
    /// An equality filter (`dimension = value`).
    pub fn eq(dimension: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter {
            dimension: dimension.into(),
            op: Op::Eq,
            values: vec![value.into()],
        }
    }

    /// Parses one filter.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        Parser {
            text,
            chars: text.char_indices().collect(),
            at: 0,
        }
        .filter()
    }

    /// Reads the values of an ordering filter that are dates or times (not plain
    /// numbers) in `tz`, as instants written in RFC 3339: `acquired_at >= 2024-01-01`
    /// means local midnight. The engine compares time columns with such instants.
    pub fn bind_times(&mut self, tz: &jiff::tz::TimeZone) {
        if !self.op.orders() {
            return;
        }
        for value in &mut self.values {
            if crate::parse::parse_decimal(value).is_err()
                && let Ok(t) = crate::parse::parse_timestamp(value, tz)
            {
                *value = t.to_string();
            }
        }
    }

    /// Whether a text value (`(none)` for a missing one) passes an equality or list
    /// filter; ordering operators never pass text.
    pub fn matches_text(&self, value: &str) -> bool {
        let fold = |s: &str| s.trim().to_lowercase();
        match self.op {
            Op::Eq => self.values.iter().any(|v| v == value),
            Op::Ne => self.values.iter().all(|v| v != value),
            Op::EqFold => self.values.iter().any(|v| fold(v) == fold(value)),
            Op::In => self.values.iter().any(|v| v == value),
            Op::NotIn => self.values.iter().all(|v| v != value),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => false,
        }
    }
}

/// The value of `values` closest to `given`: the same but for case and surrounding
/// spaces, or else a few edits away (one per three characters, at least one: `mars`
/// is not a misspelt `us`).
pub fn closest<'a>(given: &str, values: &'a [String]) -> Option<&'a str> {
    let folded = given.trim().to_lowercase();
    if let Some(same) = values.iter().find(|v| v.trim().to_lowercase() == folded) {
        return Some(same);
    }
    values
        .iter()
        .map(|v| (crate::kpi::edit_distance(&folded, &v.to_lowercase()), v))
        .filter(|(d, _)| *d <= (folded.chars().count() / 3).max(1))
        .min()
        .map(|(_, v)| v.as_str())
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = |v: &str| {
            if v.is_empty() || v.contains([',', '(', ')', '\'', '"']) || v.trim() != v {
                format!("'{}'", v.replace('\'', "\\'"))
            } else {
                v.to_string()
            }
        };
        match self.op {
            Op::In | Op::NotIn => {
                let list: Vec<String> = self.values.iter().map(|v| quote(v)).collect();
                write!(
                    f,
                    "{} {} ({})",
                    self.dimension,
                    self.op.as_str(),
                    list.join(", ")
                )
            }
            op => write!(
                f,
                "{}{}{}",
                self.dimension,
                op.as_str(),
                self.values.first().map_or(String::new(), |v| quote(v))
            ),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> FilterError {
        FilterError {
            text: self.text.to_string(),
            column: self.at + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|(_, c)| *c)
    }

    fn spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// The rest of the text from the cursor.
    fn rest(&self) -> &str {
        self.chars
            .get(self.at)
            .map_or("", |(byte, _)| &self.text[*byte..])
    }

    fn filter(mut self) -> Result<Filter, FilterError> {
        self.spaces();
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error(
                "expected a dimension name (letters, digits, _), e.g. plan=pro or mrr >= 100",
            ));
        }
        let dimension: String = self.chars[start..self.at].iter().map(|(_, c)| c).collect();
        self.spaces();
        let op = self.op()?;
        self.spaces();
        let values = match op {
            Op::In | Op::NotIn => self.list()?,
            _ => {
                let value = self.value(false)?;
                self.spaces();
                if self.peek().is_some() {
                    return Err(self.error(
                        "unexpected text after the value (quote a value with quotes in it)",
                    ));
                }
                vec![value]
            }
        };
        Ok(Filter {
            dimension,
            op,
            values,
        })
    }

    fn op(&mut self) -> Result<Op, FilterError> {
        let rest = self.rest();
        let lower = rest.to_ascii_lowercase();
        let word = |w: &str| {
            lower.starts_with(w)
                && lower[w.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == '(')
        };
        let (op, len) = if rest.starts_with("!=") {
            (Op::Ne, 2)
        } else if rest.starts_with("~=") {
            (Op::EqFold, 2)
        } else if rest.starts_with("<=") {
            (Op::Le, 2)
        } else if rest.starts_with(">=") {
            (Op::Ge, 2)
        } else if rest.starts_with("==") {
            return Err(self.error("write `=` for equality"));
        } else if rest.starts_with('=') {
            (Op::Eq, 1)
        } else if rest.starts_with('<') {
            (Op::Lt, 1)
        } else if rest.starts_with('>') {
            (Op::Gt, 1)
        } else if word("in") {
            (Op::In, 2)
        } else if word("not") {
            self.at += 3;
            self.spaces();
            if !self.rest().to_ascii_lowercase().starts_with("in") {
                return Err(self.error("expected `in` after `not`"));
            }
            (Op::NotIn, 2)
        } else {
            return Err(self.error(
                "expected an operator: =, !=, ~= (ignoring case), <, <=, >, >=, in (...) or not in (...)",
            ));
        };
        self.at += len;
        Ok(op)
    }

    fn list(&mut self) -> Result<Vec<String>, FilterError> {
        if self.peek() != Some('(') {
            return Err(self.error("expected `(` and a list of values, e.g. plan in (pro, basic)"));
        }
        self.at += 1;
        let mut values = Vec::new();
        loop {
            self.spaces();
            values.push(self.value(true)?);
            self.spaces();
            match self.peek() {
                Some(',') => self.at += 1,
                Some(')') => {
                    self.at += 1;
                    break;
                }
                _ => return Err(self.error("expected `,` or `)`")),
            }
        }
        self.spaces();
        if self.peek().is_some() {
            return Err(self.error("unexpected text after the list"));
        }
        Ok(values)
    }

    /// A quoted value, or a bare one up to the end (or to `,` or `)` in a list).
    fn value(&mut self, in_list: bool) -> Result<String, FilterError> {
        match self.peek() {
            Some(quote @ ('\'' | '"')) => {
                let open = self.at;
                self.at += 1;
                let mut value = String::new();
                loop {
                    match self.peek() {
                        None => {
                            self.at = open;
                            return Err(self.error("this quote is never closed"));
                        }
                        Some('\\')
                            if self
                                .chars
                                .get(self.at + 1)
                                .is_some_and(|(_, c)| *c == quote) =>
                        {
                            value.push(quote);
                            self.at += 2;
                        }
                        Some(c) if c == quote => {
                            self.at += 1;
                            return Ok(value);
                        }
                        Some(c) => {
                            value.push(c);
                            self.at += 1;
                        }
                    }
                }
            }
            _ => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| !(in_list && (c == ',' || c == ')')))
                {
                    self.at += 1;
                }
                let value: String = self.chars[start..self.at].iter().map(|(_, c)| c).collect();
                let value = value.trim().to_string();
                if value.is_empty() {
                    self.at = start;
                    return Err(self.error("expected a value (quote an empty one: '')"));
                }
                Ok(value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, dimension: &str, op: Op, values: &[&str]) {
        let f = Filter::parse(text).unwrap();
        assert_eq!((f.dimension.as_str(), f.op), (dimension, op), "{text}");
        assert_eq!(f.values, values, "{text}");
    }

    #[test]
    fn every_operator_parses() {
        check("plan=pro", "plan", Op::Eq, &["pro"]);
        check(" plan = pro ", "plan", Op::Eq, &["pro"]);
        check("region=North America", "region", Op::Eq, &["North America"]);
        check("plan!=pro", "plan", Op::Ne, &["pro"]);
        check("plan~=PRO", "plan", Op::EqFold, &["PRO"]);
        check("mrr >= 100", "mrr", Op::Ge, &["100"]);
        check("mrr<100.5", "mrr", Op::Lt, &["100.5"]);
        check("mrr<=1", "mrr", Op::Le, &["1"]);
        check("mrr>1", "mrr", Op::Gt, &["1"]);
        check(
            "plan in (pro, 'basic plus', \"a,b\")",
            "plan",
            Op::In,
            &["pro", "basic plus", "a,b"],
        );
        check("plan NOT IN(pro)", "plan", Op::NotIn, &["pro"]);
        check("note=''", "note", Op::Eq, &[""]);
        check("note='it\\'s'", "note", Op::Eq, &["it's"]);
        // A dimension named like a keyword prefix is still a dimension.
        check("index=3", "index", Op::Eq, &["3"]);
    }

    #[test]
    fn errors_point_at_the_position() {
        let err = |text: &str| Filter::parse(text).unwrap_err();
        assert_eq!(err("=pro").column, 1);
        let e = err("plan pro");
        assert_eq!(e.column, 6);
        assert!(e.message.starts_with("expected an operator"), "{e}");
        assert_eq!(err("plan=").column, 6);
        assert_eq!(err("plan in pro").column, 9);
        assert_eq!(err("plan in (pro basic").column, 19);
        assert_eq!(err("plan='pro").column, 6);
        assert_eq!(err("plan==pro").column, 5);
        assert_eq!(err("plan not pro").column, 10);
        assert_eq!(
            err("plan pro").to_string(),
            "`plan pro` at column 6: expected an operator: =, !=, ~= (ignoring case), <, <=, >, >=, in (...) or not in (...)"
        );
    }

    #[test]
    fn text_matching_and_display_round_trip() {
        let f = Filter::parse("plan ~= ' PRO'").unwrap();
        assert!(f.matches_text("pro") && f.matches_text("Pro ") && !f.matches_text("basic"));
        let f = Filter::parse("plan not in (pro, basic)").unwrap();
        assert!(f.matches_text("enterprise") && !f.matches_text("basic"));
        assert!(!Filter::parse("plan < b").unwrap().matches_text("a"));
        for text in [
            "plan=pro",
            "plan in (pro, 'a, b')",
            "region!=' x'",
            "mrr>=100",
        ] {
            let f = Filter::parse(text).unwrap();
            assert_eq!(Filter::parse(&f.to_string()).unwrap(), f, "{text}");
        }
    }
}
