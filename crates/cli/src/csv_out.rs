//! CSV meant for people: every cell goes through `cxkpi_core::spreadsheet::escape`, so
//! that a customer's text cannot become a formula when the file is opened in a
//! spreadsheet. Plain numbers are left as they are.

use std::io::Write;

use cxkpi_core::spreadsheet::escape;

/// A CSV writer whose cells are safe to open in a spreadsheet.
pub(crate) struct SafeCsv<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsv<W> {
    pub fn new(out: W) -> SafeCsv<W> {
        SafeCsv {
            inner: csv::Writer::from_writer(out),
        }
    }

    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner
            .write_record(record.into_iter().map(|c| escape(c.as_ref()).into_owned()))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    pub fn into_inner(self) -> anyhow::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
    }
}
