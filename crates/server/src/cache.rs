//! Answers cached per store snapshot.
//!
//! An entry is a JSON body under the request's canonical key (endpoint, parameters,
//! resolved periods), stamped with the fingerprints of the tables it was computed
//! from. When the store changes, entries whose tables changed are dropped and the
//! others stay: an intake batch (responses) leaves the cached support KPIs alone. The
//! bytes held are bounded; past the bound the least recently used entries go.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use cxkpi_core::entity::Entity;
use cxkpi_store::Snapshot;

/// The tables an answer was computed from, with their fingerprints then.
pub(crate) type Deps = Vec<(Entity, u64)>;

/// The fingerprints of `tables` in `snapshot`.
pub(crate) fn deps(snapshot: &Snapshot, tables: &[Entity]) -> Deps {
    let mut tables = tables.to_vec();
    tables.sort_by_key(|e| e.name());
    tables.dedup();
    tables
        .into_iter()
        .map(|e| (e, snapshot.table_fingerprint(e)))
        .collect()
}

struct Entry {
    body: Bytes,
    deps: Deps,
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    bytes: usize,
    clock: u64,
}

/// A computation in flight, shared by the requests for its key.
pub(crate) type Flight = Arc<tokio::sync::OnceCell<Bytes>>;

/// The cache.
pub(crate) struct Cache {
    limit: usize,
    inner: Mutex<Inner>,
    flights: Mutex<HashMap<(String, u64), Flight>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("limit", &self.limit).finish()
    }
}

fn cost(key: &str, entry: &Entry) -> usize {
    key.len() + entry.body.len() + entry.deps.len() * 16 + 64
}

impl Cache {
    /// A cache holding at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Cache {
        Cache {
            limit,
            inner: Mutex::new(Inner::default()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The computation of `key` on snapshot `version`, joined if one is in flight.
    pub(crate) fn flight(&self, key: &str, version: u64) -> Flight {
        let mut flights = self.flights.lock().expect("not poisoned");
        Arc::clone(flights.entry((key.to_string(), version)).or_default())
    }

    /// The computation of `key` is over (its answer is cached, or it failed and the
    /// next request tries again).
    pub(crate) fn land(&self, key: &str, version: u64) {
        self.flights
            .lock()
            .expect("not poisoned")
            .remove(&(key.to_string(), version));
    }

    /// The body cached under `key`, if its tables are as in `snapshot`.
    pub(crate) fn get(&self, key: &str, snapshot: &Snapshot) -> Option<Bytes> {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        if entry
            .deps
            .iter()
            .any(|(e, f)| snapshot.table_fingerprint(*e) != *f)
        {
            return None;
        }
        entry.used = clock;
        Some(entry.body.clone())
    }

    /// Caches `body` under `key`, computed from the tables `deps`.
    pub(crate) fn put(&self, key: String, deps: Deps, body: Bytes) {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.clock += 1;
        let entry = Entry {
            body,
            deps,
            used: inner.clock,
        };
        let size = cost(&key, &entry);
        if size > self.limit / 4 {
            return;
        }
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= cost(&key, &old);
        }
        while inner.bytes + size > self.limit {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            let old = inner.entries.remove(&oldest).expect("present");
            inner.bytes -= cost(&oldest, &old);
        }
        inner.bytes += size;
        inner.entries.insert(key, entry);
    }

    /// Drops the entries whose tables changed in `snapshot`.
    pub(crate) fn invalidate(&self, snapshot: &Snapshot) {
        let mut inner = self.inner.lock().expect("not poisoned");
        let mut freed = 0;
        inner.entries.retain(|key, entry| {
            let fresh = entry
                .deps
                .iter()
                .all(|(e, f)| snapshot.table_fingerprint(*e) == *f);
            if !fresh {
                freed += cost(key, entry);
            }
            fresh
        });
        inner.bytes -= freed;
    }

    /// Entries and bytes held.
    pub(crate) fn size(&self) -> (usize, usize) {
        let inner = self.inner.lock().expect("not poisoned");
        (inner.entries.len(), inner.bytes)
    }
}
