//! `PortSet`: sorted, disjoint, merged inclusive port ranges with set algebra.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A set of ports 0..=65535 kept as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Default)]
pub struct PortSet {
    ranges: Ranges,
}

impl PartialEq for PortSet {
    fn eq(&self, other: &PortSet) -> bool {
        self.ranges() == other.ranges()
    }
}

impl Eq for PortSet {}

impl Hash for PortSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ranges().hash(state);
    }
}

/// Ranges kept in place up to [`INLINE`] of them (a size that costs nothing: the
/// enum is 32 bytes either way), on the heap beyond: nearly every set is one or two
/// ranges, and a million-rule dump makes millions of sets.
#[derive(Clone)]
enum Ranges {
    Inline { len: u8, r: [(u16, u16); INLINE] },
    Heap(Vec<(u16, u16)>),
}

const INLINE: usize = 6;

impl Default for Ranges {
    fn default() -> Self {
        Ranges::Inline {
            len: 0,
            r: [(0, 0); INLINE],
        }
    }
}

impl Ranges {
    fn with_capacity(n: usize) -> Ranges {
        if n <= INLINE {
            Ranges::default()
        } else {
            Ranges::Heap(Vec::with_capacity(n))
        }
    }

    fn as_slice(&self) -> &[(u16, u16)] {
        match self {
            Ranges::Inline { len, r } => &r[..*len as usize],
            Ranges::Heap(v) => v,
        }
    }

    fn last_mut(&mut self) -> Option<&mut (u16, u16)> {
        match self {
            Ranges::Inline { len, r } => r[..*len as usize].last_mut(),
            Ranges::Heap(v) => v.last_mut(),
        }
    }

    fn push(&mut self, x: (u16, u16)) {
        match self {
            Ranges::Inline { len, r } if (*len as usize) < INLINE => {
                r[*len as usize] = x;
                *len += 1;
            }
            Ranges::Inline { r, .. } => {
                let mut v = Vec::with_capacity(INLINE * 2);
                v.extend_from_slice(r);
                v.push(x);
                *self = Ranges::Heap(v);
            }
            Ranges::Heap(v) => v.push(x),
        }
    }

    /// Appends `x`, merged into the last range when they overlap or touch (`x`
    /// starts at or after the last range's start).
    fn push_merged(&mut self, (lo, hi): (u16, u16)) {
        match self.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => self.push((lo, hi)),
        }
    }

    /// Inline when it fits; a heap set's spare room is given back.
    fn from_vec(mut v: Vec<(u16, u16)>) -> Ranges {
        if v.len() <= INLINE {
            let mut out = Ranges::default();
            for x in v {
                out.push(x);
            }
            out
        } else {
            v.shrink_to_fit();
            Ranges::Heap(v)
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Built with room for the worst case: inline when the result fits, and no
    /// spare room kept on the heap.
    fn done(self) -> Ranges {
        match self {
            Ranges::Heap(v) => Ranges::from_vec(v),
            inline => inline,
        }
    }
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
        let mut ranges = Ranges::default();
        ranges.push((lo, hi));
        PortSet { ranges }
    }

    pub fn single(port: u16) -> Self {
        Self::range(port, port)
    }

    pub fn from_ranges(ranges: impl IntoIterator<Item = (u16, u16)>) -> Self {
        // Nearly every set is built from a few ranges: sorted on the stack.
        let mut iter = ranges.into_iter().filter(|(a, b)| a <= b);
        let mut few = [(0u16, 0u16); INLINE];
        for n in 0..INLINE {
            match iter.next() {
                Some(r) => few[n] = r,
                None => {
                    let few = &mut few[..n];
                    few.sort_unstable();
                    let mut ranges = Ranges::default();
                    for &r in few.iter() {
                        ranges.push_merged(r);
                    }
                    return PortSet { ranges };
                }
            }
        }
        let mut v: Vec<(u16, u16)> = few.to_vec();
        v.extend(iter);
        v.sort_unstable();
        PortSet {
            ranges: merge_sorted(v),
        }
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        self.ranges.as_slice()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.len() == 0
    }

    /// Number of ports in the set.
    pub fn count(&self) -> u32 {
        self.ranges()
            .iter()
            .map(|&(a, b)| u32::from(b) - u32::from(a) + 1)
            .sum()
    }

    pub fn contains(&self, port: u16) -> bool {
        let ranges = self.ranges();
        let i = ranges.partition_point(|&(_, hi)| hi < port);
        ranges.get(i).is_some_and(|&(lo, _)| lo <= port)
    }

    pub fn is_subset(&self, other: &PortSet) -> bool {
        self.difference(other).is_empty()
    }

    pub fn intersects(&self, other: &PortSet) -> bool {
        !self.intersection(other).is_empty()
    }

    pub fn first(&self) -> Option<u16> {
        self.ranges().first().map(|r| r.0)
    }

    pub fn last(&self) -> Option<u16> {
        self.ranges().last().map(|r| r.1)
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        let (a, b) = (self.ranges(), other.ranges());
        let mut out = Ranges::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let take_a = j >= b.len() || (i < a.len() && a[i] <= b[j]);
            if take_a {
                out.push_merged(a[i]);
                i += 1;
            } else {
                out.push_merged(b[j]);
                j += 1;
            }
        }
        PortSet { ranges: out.done() }
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let (a, b) = (self.ranges(), other.ranges());
        let mut out = Ranges::default();
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (a0, a1) = a[i];
            let (b0, b1) = b[j];
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
        PortSet { ranges: out.done() }
    }

    pub fn complement(&self) -> PortSet {
        let mut out = Ranges::with_capacity(self.ranges.len() + 1);
        let mut next: u32 = 0;
        for &(lo, hi) in self.ranges() {
            if u32::from(lo) > next {
                out.push((next as u16, lo - 1));
            }
            next = u32::from(hi) + 1;
        }
        if next <= 65535 {
            out.push((next as u16, 65535));
        }
        PortSet { ranges: out.done() }
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
            ranges: Ranges::from_vec(self.ranges()[..max].to_vec()),
        };
        format!(
            "{head},… ({} ranges, {} ports)",
            self.ranges.len(),
            self.count()
        )
    }

    /// The widest contiguous range (the first one on ties).
    pub fn widest_range(&self) -> Option<(u16, u16)> {
        self.ranges()
            .iter()
            .copied()
            .rev()
            .max_by_key(|&(lo, hi)| hi - lo)
    }

    /// Contiguous blocks, each as its own set.
    pub fn blocks(&self) -> impl Iterator<Item = PortSet> + '_ {
        self.ranges().iter().map(|&(lo, hi)| PortSet::range(lo, hi))
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

fn merge_sorted(v: Vec<(u16, u16)>) -> Ranges {
    if v.len() <= INLINE {
        let mut out = Ranges::default();
        for x in v {
            out.push_merged(x);
        }
        return out;
    }
    // Merged in place: the vector is already the set's storage.
    let mut v = v;
    let mut n = 0;
    for k in 0..v.len() {
        let (lo, hi) = v[k];
        if n > 0 && u32::from(lo) <= u32::from(v[n - 1].1) + 1 {
            v[n - 1].1 = v[n - 1].1.max(hi);
        } else {
            v[n] = (lo, hi);
            n += 1;
        }
    }
    v.truncate(n);
    Ranges::from_vec(v)
}

/// Canonical text form: `20-21,9981-9990`, single ports as `21`, empty as ``.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.ranges().iter().enumerate() {
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
