//! What a dump is about to build, counted before it is parsed: each table's chains
//! and each chain's rules are then allocated once, at their size. Grown by doubling
//! instead, a kube-proxy dump's 285,000 two-rule chains each keep room for four.

use super::TableKind;
use crate::filter::Fnv;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};

#[derive(Debug, Default)]
pub struct Sizes {
    /// `-A` lines per (table, chain), keyed by a hash of both: a collision only
    /// merges two hints, and a hint only sizes an allocation.
    rules: HashMap<u64, usize, BuildHasherDefault<Fnv>>,
    /// `:CHAIN` lines per table.
    chains: [usize; 5],
}

impl Sizes {
    /// Counts `*table`, `:CHAIN` and `-A CHAIN` lines of restore text.
    pub fn of_dump(text: &str) -> Sizes {
        let mut sizes = Sizes::default();
        let mut table = None;
        // Dumps list a chain's rules together: count runs, hash once per run.
        let mut run: (&[u8], usize) = (b"", 0);
        let bytes = text.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let line = &bytes[start..end];
            start = end + 1;
            if let Some(rest) = line.strip_prefix(b"-A ") {
                let name_end = memchr::memchr2(b' ', b'\t', rest).unwrap_or(rest.len());
                let name = rest[..name_end]
                    .strip_suffix(b"\r")
                    .unwrap_or(&rest[..name_end]);
                if name == run.0 {
                    run.1 += 1;
                    continue;
                }
                sizes.add_rules(table, run);
                run = (name, 1);
            } else if let Some(name) = line.strip_prefix(b"*") {
                sizes.add_rules(table, run);
                run = (b"", 0);
                let name = std::str::from_utf8(name).unwrap_or("");
                table = TableKind::parse(name.trim_end());
            } else if let (Some(b':'), Some(kind)) = (line.first(), table) {
                sizes.chains[kind.index()] += 1;
            }
        }
        sizes.add_rules(table, run);
        sizes
    }

    fn add_rules(&mut self, table: Option<TableKind>, (chain, n): (&[u8], usize)) {
        if let (Some(table), true) = (table, n > 0) {
            *self.rules.entry(key(table, chain)).or_insert(0) += n;
        }
    }

    /// The rules `chain` of `table` is about to get, once: a table loaded twice
    /// grows its second copy.
    pub fn take_rules(&mut self, table: TableKind, chain: &str) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        self.rules.remove(&key(table, chain.as_bytes()))
    }

    /// The chains `table` declares, once.
    pub fn take_chains(&mut self, table: TableKind) -> usize {
        std::mem::take(&mut self.chains[table.index()])
    }
}

// foldhash, not Fnv: generated chain names (`KUBE-SEP-<hash>`) share long prefixes.
fn key(table: TableKind, chain: &[u8]) -> u64 {
    foldhash::quality::FixedState::default().hash_one((table, chain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rules_per_table_and_chain() {
        let text = "*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n-A INPUT -j A\n-A A -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n";
        let mut sizes = Sizes::of_dump(text);
        assert_eq!(sizes.take_rules(TableKind::Filter, "INPUT"), Some(2));
        assert_eq!(sizes.take_rules(TableKind::Filter, "INPUT"), None);
        assert_eq!(sizes.take_rules(TableKind::Filter, "A"), Some(1));
        assert_eq!(sizes.take_rules(TableKind::Nat, "INPUT"), Some(1));
        assert_eq!(sizes.take_chains(TableKind::Filter), 2);
        assert_eq!(sizes.take_chains(TableKind::Nat), 1);
        assert_eq!(sizes.take_chains(TableKind::Nat), 0);
    }
}
