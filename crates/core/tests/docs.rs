//! `docs/kpis.md` is generated from the KPI catalogue; this keeps the two equal.
//! Regenerate with `UPDATE_DOCS=1 cargo test --release -p cxkpi-core --test docs`.

#[test]
fn docs_kpis_md_is_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/kpis.md");
    let generated = cxkpi_core::kpi::catalogue_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/kpis.md differs from the catalogue; regenerate it with UPDATE_DOCS=1"
    );
}
