//! `docs/kpis.md` is generated from the KPI catalogue; this keeps the two equal.
//! Regenerate with `UPDATE_DOCS=1 cargo test --release -p cxkpi-core --test docs`.

#[test]
fn docs_kpis_md_is_the_catalogue() {
    // Found at run time, so a test binary shared by two checkouts reads its own.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest).join("../../docs/kpis.md");
    let generated = cxkpi_core::kpi::catalogue_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/kpis.md differs from the catalogue; regenerate it with UPDATE_DOCS=1"
    );
}
