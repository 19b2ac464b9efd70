//! Renderers: what the use cases return, written for people or programs to any
//! `impl Write`.

pub mod churn;
pub mod clv;
pub mod cohorts;
pub mod demo;
pub mod drivers;
pub mod health;
pub mod kpis;
pub mod movements;
pub mod store;
pub mod survival;
pub mod themes;

use std::io::Write;

use cxkpi_core::spreadsheet::escape;

/// A CSV writer whose cells are safe to open in a spreadsheet: every cell goes through
/// `cxkpi_core::spreadsheet::escape`, so a customer's text cannot become a formula;
/// plain numbers are left as they are.
pub struct SafeCsv<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsv<W> {
    /// A writer to `out`.
    pub fn new(out: W) -> SafeCsv<W> {
        SafeCsv {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one record.
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner
            .write_record(record.into_iter().map(|c| escape(c.as_ref()).into_owned()))
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    /// The writer, flushed.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.inner.into_inner().map_err(|e| {
            let kind = e.error().kind();
            std::io::Error::new(kind, e.error().to_string())
        })
    }
}
