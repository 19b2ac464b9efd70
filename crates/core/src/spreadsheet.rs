//! Text cells of CSV meant for people, made safe to open in a spreadsheet.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return as a formula, so a customer's comment `=HYPERLINK(...)` in an export becomes a
//! live link (CSV injection). As OWASP recommends, such a cell is written with a leading
//! apostrophe, which spreadsheets show as text and do not store. A plain number (`-5`,
//! `+1.5e3`) is not a formula and is left alone, so numbers stay numbers.
//!
//! The escape is reversible: a cell already starting with apostrophes before a trigger
//! gets one more, and [`unescape`] (applied by cxkpi's CSV import) removes exactly one,
//! so importing cxkpi's own CSV export gives back the stored text.

use std::borrow::Cow;

/// The cell as it is safe to write into CSV meant for a spreadsheet.
///
/// ```
/// use cxkpi_core::spreadsheet::{escape, unescape};
///
/// assert_eq!(escape("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(escape("-12.5"), "-12.5");
/// assert_eq!(escape("'=1"), "''=1");
/// assert_eq!(unescape(&escape("'=1")), "'=1");
/// ```
pub fn escape(cell: &str) -> Cow<'_, str> {
    if needs_escape(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`escape`]: one leading apostrophe is removed from a cell that would be a
/// formula without it (also what a spreadsheet's apostrophe prefix means).
pub fn unescape(cell: &str) -> &str {
    if cell.starts_with('\'') && needs_escape(cell) {
        &cell[1..]
    } else {
        cell
    }
}

/// Whether the cell, after any leading apostrophes, starts a formula.
fn needs_escape(cell: &str) -> bool {
    let rest = cell.trim_start_matches('\'');
    rest.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(rest)
}

/// `[+-]digits[.digits][e[+-]digits]`, as a spreadsheet reads a number.
fn is_plain_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for (cell, written) in [
            ("=1+2", "'=1+2"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-.", "'-."),
            ("-1e", "'-1e"),
            ("'=x", "''=x"),
            ("''@x", "'''@x"),
            ("-5", "-5"),
            ("+1.5e-3", "+1.5e-3"),
            ("-.5", "-.5"),
            ("'-5", "'-5"),
            ("'plain", "'plain"),
            ("plain = text", "plain = text"),
            ("", ""),
        ] {
            assert_eq!(escape(cell), written, "{cell:?}");
            assert_eq!(unescape(written), cell, "{written:?}");
        }
    }

    #[test]
    fn a_spreadsheet_apostrophe_is_removed_on_import() {
        assert_eq!(unescape("'=HYPERLINK(1)"), "=HYPERLINK(1)");
        assert_eq!(unescape("'-5"), "'-5");
        assert_eq!(unescape("it's"), "it's");
    }
}
