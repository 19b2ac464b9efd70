//! The previous row's customer, for the per-customer passes that read a source's rows
//! in storage order and find each row's customer by id. The store keeps a customer's
//! rows together (imports write them as the files list them, and exports and the demo
//! list them by customer), so consecutive rows mostly name the same customer: comparing
//! with the previous id skips the hash lookup. Any order stays correct, only slower.

/// The last id looked up and what the lookup found.
#[derive(Debug, Default)]
pub(crate) struct PreviousRow {
    last: Option<(String, Option<u32>)>,
}

impl PreviousRow {
    /// The index of customer `id`: the previous row's answer when it named the same
    /// customer, else `lookup(id)`.
    #[inline]
    pub(crate) fn find(
        &mut self,
        id: &str,
        lookup: impl FnOnce(&str) -> Option<u32>,
    ) -> Option<u32> {
        match &mut self.last {
            Some((last, found)) if last == id => *found,
            Some((last, found)) => {
                last.clear();
                last.push_str(id);
                *found = lookup(id);
                *found
            }
            None => {
                let found = lookup(id);
                self.last = Some((id.to_string(), found));
                found
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_only_when_the_id_changes() {
        let ids = ["a", "a", "b", "zz", "zz", "a", "", ""];
        let mut lookups = Vec::new();
        let mut previous = PreviousRow::default();
        let found: Vec<Option<u32>> = ids
            .iter()
            .map(|id| {
                previous.find(id, |id| {
                    lookups.push(id.to_string());
                    (id != "zz").then_some(id.len() as u32)
                })
            })
            .collect();
        assert_eq!(
            found,
            [
                Some(1),
                Some(1),
                Some(1),
                None,
                None,
                Some(1),
                Some(0),
                Some(0)
            ]
        );
        assert_eq!(lookups, ["a", "b", "zz", "a", ""]);
    }
}
