//! `cxkpi clv` fit, predict and customer as text, CSV or JSON.

use std::io::{self, Write};

use crate::clv::{CustomerClv, Fitted, Predictions};
use crate::wire;

/// What a fit found, where it was saved.
pub fn write_fit_text(out: &mut impl Write, f: &Fitted) -> io::Result<()> {
    let m = &f.model;
    writeln!(
        out,
        "Fitted on {} customers ({} repeat buyers), calibration to {} inclusive, time in {}, in {:.2} s; saved to {}",
        m.n_customers,
        m.n_repeat,
        m.calibration_end,
        m.unit,
        f.seconds,
        f.path.display()
    )?;
    let (bg, gg) = (&m.bgnbd, &m.gamma_gamma);
    writeln!(
        out,
        "BG/NBD: r {:.4} (se {:.4}), alpha {:.4} ({:.4}), a {:.4} ({:.4}), b {:.4} ({:.4}); log-likelihood {:.1}",
        bg.r, bg.se.r, bg.alpha, bg.se.alpha, bg.a, bg.se.a, bg.b, bg.se.b, bg.log_likelihood
    )?;
    writeln!(
        out,
        "Gamma-Gamma: p {:.4}, q {:.4}, v {:.4}; log-likelihood {:.1}",
        gg.p, gg.q, gg.v, gg.log_likelihood
    )
}

/// The saved model as pretty JSON.
pub fn write_fit_json(out: &mut impl Write, f: &Fitted) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &f.model)?;
    writeln!(out)
}

/// Every customer's prediction as CSV; numbers as ryu writes them, the id made safe
/// for a spreadsheet.
pub fn write_predictions_csv(out: &mut impl Write, p: &Predictions) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases",
        "expected_avg_value",
        "clv",
    ])?;
    for (id, s, p) in &p.rows {
        csv.serialize((
            cxkpi_core::spreadsheet::escape(id),
            s.frequency,
            s.recency,
            s.t,
            s.monetary_value,
            p.0,
            p.1,
            p.2,
            p.3,
        ))?;
    }
    csv.flush()
}

/// Every customer's prediction as one line of JSON (the wire type).
pub fn write_predictions_json(out: &mut impl Write, p: &Predictions) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &wire::ClvPredictions::from(p))?;
    writeln!(out)
}

/// One customer's prediction, explained.
pub fn write_customer(out: &mut impl Write, c: &CustomerClv, currency: &str) -> io::Result<()> {
    let (s, m) = (&c.summary, &c.model);
    let (p_alive, purchases, value, total) = c.prediction;
    writeln!(
        out,
        "Customer {}, as of the calibration end ({} inclusive; time in {}):",
        c.id, m.calibration_end, m.unit
    )?;
    writeln!(
        out,
        "  {} purchase days in calibration: {} repeat (frequency), the last {:.2} {} after the first (recency), the first {:.2} {} before the end (T)",
        s.frequency + 1,
        s.frequency,
        s.recency,
        m.unit,
        s.t,
        m.unit
    )?;
    writeln!(
        out,
        "  mean repeat purchase value {:.2} -> expected average value {value:.2} (Gamma-Gamma shrinks it towards the population mean {:.2})",
        s.monetary_value,
        m.gg.p * m.gg.v / (m.gg.q - 1.0)
    )?;
    writeln!(
        out,
        "  P(alive) {p_alive:.3}; expected purchases over {}: {purchases:.3}; discounted CLV {total:.2} {currency}",
        c.horizon
    )
}
