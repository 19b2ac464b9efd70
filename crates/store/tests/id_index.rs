//! Issue 16: a long-running writer keeps each table's id index between imports
//! (`Store::keep_id_indexes`). Every import must then decide exactly as an import that
//! reads the index afresh: the same new, replaced and unchanged counts, the same rows.

mod common;

use cxkpi_core::entity::Entity;
use cxkpi_store::{ImportSummary, Store};

/// Orders `ids`, each with `amount`.
fn orders(ids: &[u32], amount: &str) -> String {
    let mut csv = String::from("order_id,customer_id,ordered_at,amount\n");
    for id in ids {
        csv.push_str(&format!(
            "o{id},c{},2026-03-{:02},{amount}\n",
            id % 7,
            1 + id % 28
        ));
    }
    csv
}

fn counts(s: &ImportSummary) -> (u64, u64, u64, u64, u64) {
    (s.read, s.new, s.replaced, s.unchanged, s.table_rows)
}

#[test]
fn a_kept_index_decides_as_a_fresh_one() {
    let kept = common::workspace("UTC");
    let kept_store = Store::open(kept.path()).unwrap().keep_id_indexes();
    let fresh = common::workspace("UTC");
    let steps: Vec<(Vec<u32>, &str)> = vec![
        ((0..500).collect(), "10.00"),
        // New ids, one by one: small parts that compaction concatenates.
        (vec![500], "10.00"),
        (vec![501], "10.00"),
        (vec![502, 503], "10.00"),
        // The same rows again: unchanged.
        ((0..10).collect(), "10.00"),
        // Changed content of ids in the first part and in compacted ones: replaced,
        // their parts rewritten.
        (vec![3, 250, 501, 502], "12.50"),
        ((495..510).collect(), "11.00"),
        // A duplicate inside one input: the last row wins.
        (vec![7, 7, 600], "13.00"),
        (vec![3, 600, 601], "12.50"),
    ];
    for (i, (ids, amount)) in steps.iter().enumerate() {
        let name = format!("step{i}.csv");
        let a = kept.file(&name, orders(ids, amount));
        let b = fresh.file(&name, orders(ids, amount));
        let input =
            |p: &std::path::Path| vec![cxkpi_store::Input::from_arg(p.to_str().unwrap(), None)];
        let with_kept = kept_store
            .import(
                Entity::Orders,
                &input(&a),
                &cxkpi_store::ImportOptions::default(),
                &cxkpi_store::NoProgress,
            )
            .unwrap();
        let with_fresh = fresh.import(Entity::Orders, &[&b]);
        assert_eq!(counts(&with_kept), counts(&with_fresh), "step {i}");
        // Another writer (a CLI import) changes the table in between: the kept index
        // no longer describes it and is read afresh.
        if i == 5 {
            let c = kept.file("other.csv", orders(&[900, 250], "99.00"));
            let d = fresh.file("other.csv", orders(&[900, 250], "99.00"));
            let other = kept.import(Entity::Orders, &[&c]);
            assert_eq!(counts(&other), counts(&fresh.import(Entity::Orders, &[&d])));
            assert_eq!((other.new, other.replaced), (1, 1));
        }
    }
    assert_eq!(kept.export(Entity::Orders), fresh.export(Entity::Orders));
    // 500 + 4 + 6 (504..509) + 1 (600) + 1 (601) + 1 (900) ids, each once.
    let exported = kept.export(Entity::Orders);
    assert_eq!(exported.lines().count() - 1, 513);
    assert!(
        exported.contains("o3,c3,2026-03-04T00:00:00Z,12.5"),
        "{exported}"
    );
}
