//! `cxkpi drivers nps` as a table or JSON.

use std::io::{self, Write};

use crate::drivers::{MIN_COVERAGE, NpsDrivers};
use crate::wire;

/// The coverage notes, the Shapley table, and the change split by segment.
pub fn write_table(out: &mut impl Write, d: &NpsDrivers) -> io::Result<()> {
    writeln!(
        out,
        "What drives NPS in {} ({} customers answered)",
        d.period.label(),
        d.respondents
    )?;
    for (p, c) in &d.coverage {
        if *c < MIN_COVERAGE {
            writeln!(
                out,
                "  left out: {p} (known for {:.0}% of them, under {:.0}%)",
                100.0 * c,
                100.0 * MIN_COVERAGE
            )?;
        }
    }
    match &d.drivers {
        Some(x) => {
            writeln!(
                out,
                "\nn = {} customers with every predictor; R² = {:.3} (95% CI {:.3} to {:.3}; adjusted {:.3}; F test p {})\n",
                x.n,
                x.r2,
                x.fit.interval.low,
                x.fit.interval.high,
                x.fit.adjusted,
                p_text(x.fit.p_value)
            )?;
            if let Some(warning) = d.warning() {
                writeln!(out, "warning: {warning}\n")?;
            }
            writeln!(
                out,
                "{:<22} {:>12} {:>12}",
                "predictor", "share of R²", "% of R²"
            )?;
            for i in &x.importance {
                writeln!(
                    out,
                    "{:<22} {:>12.4} {:>11.1}%",
                    i.name, i.shapley_r2, i.percent
                )?;
            }
        }
        None => writeln!(
            out,
            "\nToo few customers with every predictor for a regression."
        )?,
    }
    if let Some(c) = &d.change {
        let (mix, rate) = (c.split.mix, c.split.rate);
        writeln!(
            out,
            "\nNPS change {} -> {}: {:+.2} = mix {:+.2} + rate {:+.2} (by {})",
            c.previous.label(),
            d.period.label(),
            mix + rate,
            mix,
            rate,
            c.by
        )?;
        for (s, m, r) in &c.split.segments {
            writeln!(out, "  {s:<20} mix {m:+.2}  rate {r:+.2}")?;
        }
    }
    Ok(())
}

/// A p-value as `= 0.042`, or `< 0.001` below that.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("= {p:.3}")
    }
}

/// The drivers as pretty JSON (the wire type).
pub fn write_json(out: &mut impl Write, d: &NpsDrivers) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire::NpsDrivers::from(d))?;
    writeln!(out)
}
