//! `PortSet`: sorted, disjoint, merged inclusive port ranges with set algebra.

use std::fmt;

/// A set of ports 0..=65535 kept as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    pub fn empty() -> Self {
        PortSet::default()
    }

    pub fn all() -> Self {
        Self::range(0, 65535)
    }

    /// Every port a TCP client can connect to: 1-65535 (port 0 never is).
    pub fn connectable() -> Self {
        Self::range(1, 65535)
    }

    /// `lo..=hi`; empty when `lo > hi`.
    pub fn range(lo: u16, hi: u16) -> Self {
        if lo > hi {
            return Self::empty();
        }
        PortSet {
            ranges: vec![(lo, hi)],
        }
    }

    pub fn single(port: u16) -> Self {
        Self::range(port, port)
    }

    pub fn from_ranges(ranges: impl IntoIterator<Item = (u16, u16)>) -> Self {
        let mut v: Vec<(u16, u16)> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        PortSet {
            ranges: merge_sorted(v),
        }
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of ports in the set.
    pub fn count(&self) -> u32 {
        self.ranges
            .iter()
            .map(|&(a, b)| u32::from(b) - u32::from(a) + 1)
            .sum()
    }

    pub fn contains(&self, port: u16) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < port);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= port)
    }

    pub fn is_subset(&self, other: &PortSet) -> bool {
        self.difference(other).is_empty()
    }

    pub fn intersects(&self, other: &PortSet) -> bool {
        !self.intersection(other).is_empty()
    }

    pub fn first(&self) -> Option<u16> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn last(&self) -> Option<u16> {
        self.ranges.last().map(|r| r.1)
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        let mut v = Vec::with_capacity(self.ranges.len() + other.ranges.len());
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() || j < other.ranges.len() {
            let take_self = j >= other.ranges.len()
                || (i < self.ranges.len() && self.ranges[i] <= other.ranges[j]);
            if take_self {
                v.push(self.ranges[i]);
                i += 1;
            } else {
                v.push(other.ranges[j]);
                j += 1;
            }
        }
        PortSet {
            ranges: merge_sorted(v),
        }
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let lo = a0.max(b0);
            let hi = a1.min(b1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortSet { ranges: out }
    }

    pub fn complement(&self) -> PortSet {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next: u32 = 0;
        for &(lo, hi) in &self.ranges {
            if u32::from(lo) > next {
                out.push((next as u16, lo - 1));
            }
            next = u32::from(hi) + 1;
        }
        if next <= 65535 {
            out.push((next as u16, 65535));
        }
        PortSet { ranges: out }
    }

    pub fn difference(&self, other: &PortSet) -> PortSet {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.intersection(&other.complement())
    }

    pub fn insert_range(&mut self, lo: u16, hi: u16) {
        *self = self.union(&PortSet::range(lo, hi));
    }

    /// Canonical text, shortened after `max` ranges for messages.
    pub fn summary(&self, max: usize) -> String {
        if self.ranges.len() <= max {
            return self.to_string();
        }
        let head = PortSet {
            ranges: self.ranges[..max].to_vec(),
        };
        format!(
            "{head},… ({} ranges, {} ports)",
            self.ranges.len(),
            self.count()
        )
    }

    /// The widest contiguous range (the first one on ties).
    pub fn widest_range(&self) -> Option<(u16, u16)> {
        self.ranges
            .iter()
            .copied()
            .rev()
            .max_by_key(|&(lo, hi)| hi - lo)
    }

    /// Contiguous blocks, each as its own set.
    pub fn blocks(&self) -> impl Iterator<Item = PortSet> + '_ {
        self.ranges.iter().map(|&(lo, hi)| PortSet::range(lo, hi))
    }

    /// Parse the canonical text form (`20-21,9981-9990`); `""` is the empty set.
    pub fn parse(text: &str) -> Option<PortSet> {
        let text = text.trim();
        if text.is_empty() {
            return Some(PortSet::empty());
        }
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
                None => {
                    let p = part.parse().ok()?;
                    (p, p)
                }
            };
            if lo > hi {
                return None;
            }
            ranges.push((lo, hi));
        }
        Some(PortSet::from_ranges(ranges))
    }
}

fn merge_sorted(v: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Canonical text form: `20-21,9981-9990`, single ports as `21`, empty as ``.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortSet({self})")
    }
}

impl FromIterator<u16> for PortSet {
    fn from_iter<T: IntoIterator<Item = u16>>(iter: T) -> Self {
        PortSet::from_ranges(iter.into_iter().map(|p| (p, p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator so the property test needs no extra crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn set(&mut self, universe: u16) -> (PortSet, Vec<bool>) {
            let mut bits = vec![false; 65536];
            let mut ranges = Vec::new();
            for _ in 0..self.next() % 6 {
                let a = (self.next() % u64::from(universe)) as u16;
                let b = a.saturating_add((self.next() % 20) as u16);
                ranges.push((a, b));
                bits[a as usize..=b as usize]
                    .iter_mut()
                    .for_each(|x| *x = true);
            }
            if self.next() % 10 == 0 {
                ranges.push((65530, 65535));
                bits[65530..].iter_mut().for_each(|x| *x = true);
            }
            (PortSet::from_ranges(ranges), bits)
        }
    }

    fn bits_of(s: &PortSet) -> Vec<bool> {
        let mut bits = vec![false; 65536];
        for &(a, b) in s.ranges() {
            bits[a as usize..=b as usize]
                .iter_mut()
                .for_each(|x| *x = true);
        }
        bits
    }

    fn is_canonical(s: &PortSet) -> bool {
        s.ranges().iter().all(|(a, b)| a <= b)
            && s.ranges()
                .windows(2)
                .all(|w| u32::from(w[0].1) + 1 < u32::from(w[1].0))
    }

    #[test]
    fn algebra_matches_a_bitset() {
        let mut g = Lcg(7);
        for _ in 0..300 {
            let (a, abits) = g.set(120);
            let (b, bbits) = g.set(120);
            let check = |s: PortSet, f: &dyn Fn(bool, bool) -> bool| {
                assert!(is_canonical(&s), "{s:?}");
                let bits = bits_of(&s);
                for p in 0..65536 {
                    assert_eq!(
                        bits[p],
                        f(abits[p], bbits[p]),
                        "port {p} in {a} / {b} -> {s}"
                    );
                }
            };
            check(a.union(&b), &|x, y| x || y);
            check(a.intersection(&b), &|x, y| x && y);
            check(a.difference(&b), &|x, y| x && !y);
            check(a.complement(), &|x, _| !x);
            assert_eq!(PortSet::parse(&a.to_string()).unwrap(), a);
            assert_eq!(a.count() as usize, abits.iter().filter(|&&x| x).count());
        }
    }

    #[test]
    fn canonical_text() {
        let s = PortSet::from_ranges([(9981, 9990), (20, 20), (21, 21)]);
        assert_eq!(s.to_string(), "20-21,9981-9990");
        assert_eq!(PortSet::connectable().to_string(), "1-65535");
        assert_eq!(PortSet::empty().to_string(), "");
        assert!(s.contains(9985) && !s.contains(9991) && !s.contains(22));
    }
}
