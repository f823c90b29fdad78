//! `AddrSet`: the `PortSet` algebra over the addresses of one IP family, with
//! CIDR text in and out.
//!
//! Every binary operation works within `self`'s family: an operand of the other
//! family holds no address of it, so it counts as empty there.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// Address width: 32 or 128.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The highest address: 255.255.255.255 or ffff:…:ffff.
    pub fn max_address(self) -> u128 {
        low_mask(u32::from(self.bits()))
    }

    fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    fn other(self) -> Family {
        match self {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Addresses of one family kept as sorted, disjoint, non-adjacent inclusive
/// ranges (IPv4 as 0..=u32::MAX inside u128).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrSet {
    family: Family,
    ranges: Vec<(u128, u128)>,
}

impl AddrSet {
    pub fn empty(family: Family) -> Self {
        AddrSet {
            family,
            ranges: Vec::new(),
        }
    }

    pub fn all(family: Family) -> Self {
        Self::range(family, 0, family.max_address())
    }

    /// `lo..=hi` within the family's space; empty when `lo > hi`.
    pub fn range(family: Family, lo: u128, hi: u128) -> Self {
        Self::from_ranges(family, [(lo, hi)])
    }

    pub fn single(family: Family, addr: u128) -> Self {
        Self::range(family, addr, addr)
    }

    /// The block `addr/len`, host bits ignored as the kernel ignores them in
    /// `-s 10.1.2.3/8`; a `len` past the family's width means one host.
    pub fn prefix(family: Family, addr: u128, len: u8) -> Self {
        let host_bits = u32::from(family.bits().saturating_sub(len));
        let host_mask = low_mask(host_bits);
        let network = addr & !host_mask;
        Self::range(family, network, network | host_mask)
    }

    /// Any ranges, in any order; parts outside the family's space are dropped.
    pub fn from_ranges(family: Family, ranges: impl IntoIterator<Item = (u128, u128)>) -> Self {
        let top = family.max_address();
        let mut v: Vec<(u128, u128)> = ranges
            .into_iter()
            .filter(|&(lo, hi)| lo <= hi && lo <= top)
            .map(|(lo, hi)| (lo, hi.min(top)))
            .collect();
        v.sort_unstable();
        AddrSet {
            family,
            ranges: coalesce(v),
        }
    }

    pub fn family(&self) -> Family {
        self.family
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.ranges == [(0, self.family.max_address())]
    }

    /// Number of addresses, or `None` for all of IPv6: 2^128 is one more than
    /// a `u128` holds, and no other set reaches it.
    pub fn count(&self) -> Option<u128> {
        self.ranges.iter().try_fold(0u128, |sum, &(lo, hi)| {
            sum.checked_add((hi - lo).checked_add(1)?)
        })
    }

    pub fn contains(&self, addr: u128) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < addr);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= addr)
    }

    pub fn first(&self) -> Option<u128> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn last(&self) -> Option<u128> {
        self.ranges.last().map(|r| r.1)
    }

    pub fn is_subset(&self, other: &AddrSet) -> bool {
        self.difference(other).is_empty()
    }

    pub fn intersects(&self, other: &AddrSet) -> bool {
        !self.intersection(other).is_empty()
    }

    pub fn union(&self, other: &AddrSet) -> AddrSet {
        let sorted = merge_sorted(&self.ranges, self.same_family_ranges(other));
        AddrSet {
            family: self.family,
            ranges: coalesce(sorted),
        }
    }

    pub fn intersection(&self, other: &AddrSet) -> AddrSet {
        let (a, b) = (&self.ranges, self.same_family_ranges(other));
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        AddrSet {
            family: self.family,
            ranges: out,
        }
    }

    pub fn difference(&self, other: &AddrSet) -> AddrSet {
        if self.is_empty() || self.same_family_ranges(other).is_empty() {
            return self.clone();
        }
        self.intersection(&other.complement())
    }

    pub fn complement(&self) -> AddrSet {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next = Some(0u128);
        for &(lo, hi) in &self.ranges {
            if let Some(start) = next.filter(|&start| start < lo) {
                out.push((start, lo - 1));
            }
            next = hi.checked_add(1);
        }
        let top = self.family.max_address();
        if let Some(start) = next.filter(|&start| start <= top) {
            out.push((start, top));
        }
        AddrSet {
            family: self.family,
            ranges: out,
        }
    }

    /// The fewest CIDR blocks covering exactly the set, in order, as
    /// `(network, prefix length)`.
    pub fn cidr_blocks(&self) -> impl Iterator<Item = (u128, u8)> + '_ {
        let width = self.family.bits();
        self.ranges
            .iter()
            .flat_map(|&(lo, hi)| interval_blocks(lo, hi))
            .map(move |(network, host_bits)| (network, width - host_bits as u8))
    }

    /// Canonical text: `198.51.100.0/24,203.0.113.7`; the same as `Display`.
    pub fn to_cidr_text(&self) -> String {
        self.to_string()
    }

    /// One address, CIDR block (`198.51.100.0/24`), block with a dotted netmask
    /// (`10.0.0.0/255.0.0.0`, as iptables takes it) or range (`10.0.0.1-10.0.0.9`).
    pub fn parse(family: Family, text: &str) -> Result<AddrSet, String> {
        let text = text.trim();
        if let Some((lo, hi)) = text.split_once('-') {
            return parse_range(family, lo, hi);
        }
        if let Some((addr, suffix)) = text.split_once('/') {
            let network = parse_address(family, addr)?;
            let len = parse_prefix_len(family, suffix, text)?;
            return Ok(AddrSet::prefix(family, network, len));
        }
        parse_address(family, text).map(|addr| AddrSet::single(family, addr))
    }

    /// Comma-separated items as [`AddrSet::parse`] takes them; `""` is the empty
    /// set, so canonical text always parses back.
    pub fn parse_list(family: Family, text: &str) -> Result<AddrSet, String> {
        if text.trim().is_empty() {
            return Ok(AddrSet::empty(family));
        }
        // One sort of all the pieces, not a union per item: long lists stay n log n.
        let mut ranges = Vec::new();
        for item in text.split(',') {
            ranges.extend(AddrSet::parse(family, item)?.ranges);
        }
        Ok(AddrSet::from_ranges(family, ranges))
    }

    fn same_family_ranges<'a>(&self, other: &'a AddrSet) -> &'a [(u128, u128)] {
        if other.family == self.family {
            &other.ranges
        } else {
            &[]
        }
    }
}

/// Ones in the lowest `bits` bits (all 128 included).
fn low_mask(bits: u32) -> u128 {
    u128::MAX.checked_shr(128 - bits.min(128)).unwrap_or(0)
}

fn merge_sorted(a: &[(u128, u128)], b: &[(u128, u128)]) -> Vec<(u128, u128)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Joins overlapping and adjacent ranges of a list sorted by start.
fn coalesce(sorted: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(sorted.len());
    for (lo, hi) in sorted {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Greedy split of `lo..=hi` into aligned blocks, each the largest that starts
/// at `lo` and still fits: that is the fewest CIDR blocks for an interval.
/// Yields `(network, host bits)`.
fn interval_blocks(lo: u128, hi: u128) -> impl Iterator<Item = (u128, u32)> {
    let mut next = Some(lo);
    std::iter::from_fn(move || {
        let start = next?;
        let host_bits = largest_block_bits(start, hi);
        let end = start | low_mask(host_bits);
        next = if end < hi { Some(end + 1) } else { None };
        Some((start, host_bits))
    })
}

fn largest_block_bits(start: u128, hi: u128) -> u32 {
    let alignment = start.trailing_zeros();
    let fits = match (hi - start).checked_add(1) {
        Some(len) => 127 - len.leading_zeros(),
        None => 128,
    };
    alignment.min(fits)
}

/// Canonical text: sorted minimal CIDR blocks, hosts without `/32` or `/128`,
/// IPv6 in RFC 5952 form; the empty set is the empty string.
impl fmt::Display for AddrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (network, len)) in self.cidr_blocks().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write_address(f, self.family, network)?;
            if len < self.family.bits() {
                write!(f, "/{len}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for AddrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddrSet({}: {self})", self.family)
    }
}

fn write_address(f: &mut fmt::Formatter<'_>, family: Family, addr: u128) -> fmt::Result {
    match family {
        Family::V4 => write!(f, "{}", Ipv4Addr::from(addr as u32)),
        Family::V6 => write!(f, "{}", Ipv6Addr::from(addr)),
    }
}

fn parse_range(family: Family, lo: &str, hi: &str) -> Result<AddrSet, String> {
    let (first, last) = (parse_address(family, lo)?, parse_address(family, hi)?);
    if first > last {
        return Err(format!(
            "range {}-{} runs backwards: the first address must not be above the last",
            lo.trim(),
            hi.trim()
        ));
    }
    Ok(AddrSet::range(family, first, last))
}

fn parse_address(family: Family, text: &str) -> Result<u128, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!(
            "expected an {} address, found nothing",
            family.name()
        ));
    }
    parse_as(family, text).ok_or_else(|| match parse_as(family.other(), text) {
        Some(_) => format!(
            "{text:?} is an {} address, expected {}",
            family.other().name(),
            family.name()
        ),
        None => format!("{text:?} is not an {} address", family.name()),
    })
}

fn parse_as(family: Family, text: &str) -> Option<u128> {
    match family {
        Family::V4 => text.parse::<Ipv4Addr>().ok().map(|a| u32::from(a).into()),
        Family::V6 => text.parse::<Ipv6Addr>().ok().map(u128::from),
    }
}

/// `24`, or a netmask in address form (`255.255.255.0`) as iptables accepts.
fn parse_prefix_len(family: Family, suffix: &str, whole: &str) -> Result<u8, String> {
    let suffix = suffix.trim();
    if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
        return suffix
            .parse::<u8>()
            .ok()
            .filter(|&len| len <= family.bits())
            .ok_or_else(|| {
                format!(
                    "prefix length {suffix} in {whole:?} is out of range: {} allows 0-{}",
                    family.name(),
                    family.bits()
                )
            });
    }
    let mask = parse_as(family, suffix).ok_or_else(|| {
        format!(
            "{suffix:?} in {whole:?} is neither a prefix length nor an {} netmask",
            family.name()
        )
    })?;
    contiguous_mask_len(family, mask).ok_or_else(|| {
        format!(
            "netmask {suffix} in {whole:?} is not contiguous: it matches no single range \
             of addresses, so pasvlint cannot model it"
        )
    })
}

fn contiguous_mask_len(family: Family, mask: u128) -> Option<u8> {
    let host = !mask & family.max_address();
    let is_contiguous = host & host.wrapping_add(1) == 0;
    is_contiguous.then(|| family.bits() - host.count_ones() as u8)
}

/// Clients that can reach a host from outside: every address but loopback.
pub fn clients(family: Family) -> AddrSet {
    clients_of(family).clone()
}

/// [`clients`] without a copy: every parsed address match is judged against it.
pub fn clients_of(family: Family) -> &'static AddrSet {
    static V4: std::sync::OnceLock<AddrSet> = std::sync::OnceLock::new();
    static V6: std::sync::OnceLock<AddrSet> = std::sync::OnceLock::new();
    let cell = match family {
        Family::V4 => &V4,
        Family::V6 => &V6,
    };
    cell.get_or_init(|| {
        let loopback = match family {
            Family::V4 => AddrSet::prefix(family, 0x7f00_0000, 8),
            Family::V6 => AddrSet::single(family, 1),
        };
        AddrSet::all(family).difference(&loopback)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashSet};

    fn v4(text: &str) -> AddrSet {
        AddrSet::parse_list(Family::V4, text).unwrap()
    }

    fn v6(text: &str) -> AddrSet {
        AddrSet::parse_list(Family::V6, text).unwrap()
    }

    fn ip4(text: &str) -> u128 {
        u32::from(text.parse::<Ipv4Addr>().unwrap()).into()
    }

    fn ip6(text: &str) -> u128 {
        text.parse::<Ipv6Addr>().unwrap().into()
    }

    fn v4_error(text: &str) -> String {
        AddrSet::parse(Family::V4, text).unwrap_err()
    }

    #[test]
    fn parses_addresses_blocks_netmasks_and_ranges() {
        assert_eq!(
            v4("203.0.113.7").ranges(),
            [(ip4("203.0.113.7"), ip4("203.0.113.7"))]
        );
        assert_eq!(
            v4("198.51.100.0/24").ranges(),
            [(ip4("198.51.100.0"), ip4("198.51.100.255"))]
        );
        assert_eq!(v4("10.0.0.0/255.0.0.0"), v4("10.0.0.0/8"));
        assert_eq!(v4("10.0.0.0/0.0.0.0"), AddrSet::all(Family::V4));
        assert_eq!(
            v4(" 10.0.0.1 - 10.0.0.9 ").ranges(),
            [(ip4("10.0.0.1"), ip4("10.0.0.9"))]
        );
        assert_eq!(v4("0.0.0.0/0"), AddrSet::all(Family::V4));
        assert_eq!(v4("203.0.113.7/32"), v4("203.0.113.7"));
        assert_eq!(
            v6("2001:db8::/32").ranges(),
            [(
                ip6("2001:db8::"),
                ip6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
            )]
        );
        assert_eq!(v6("2001:db8::/ffff:ffff::"), v6("2001:db8::/32"));
        assert_eq!(v6("::/0"), AddrSet::all(Family::V6));
        assert_eq!(v6("2001:db8::1/128"), v6("2001:db8::1"));
        assert_eq!(
            v6("::ffff:192.0.2.1").ranges(),
            [(0xffff_c000_0201, 0xffff_c000_0201)]
        );
    }

    #[test]
    fn host_bits_are_ignored_like_the_kernel_does() {
        assert_eq!(v4("10.1.2.3/8"), v4("10.0.0.0/8"));
        assert_eq!(v4("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(v6("2001:db8::1/32").to_string(), "2001:db8::/32");
        assert_eq!(
            AddrSet::prefix(Family::V4, ip4("192.0.2.77"), 26).to_string(),
            "192.0.2.64/26"
        );
    }

    #[test]
    fn parse_errors_say_what_was_expected() {
        let cases = [
            ("", "expected an IPv4 address, found nothing"),
            ("10.0.0.256", "\"10.0.0.256\" is not an IPv4 address"),
            (
                "ftp.example.com",
                "\"ftp.example.com\" is not an IPv4 address",
            ),
            (
                "2001:db8::1",
                "\"2001:db8::1\" is an IPv6 address, expected IPv4",
            ),
            (
                "10.0.0.0/33",
                "prefix length 33 in \"10.0.0.0/33\" is out of range",
            ),
            (
                "10.0.0.0/999",
                "prefix length 999 in \"10.0.0.0/999\" is out of range",
            ),
            (
                "10.0.0.0/+8",
                "\"+8\" in \"10.0.0.0/+8\" is neither a prefix length",
            ),
            (
                "10.0.0.0/",
                "\"\" in \"10.0.0.0/\" is neither a prefix length",
            ),
            ("10.0.0.0/255.0.255.0", "netmask 255.0.255.0 in"),
            (
                "10.0.0.9-10.0.0.1",
                "range 10.0.0.9-10.0.0.1 runs backwards",
            ),
            ("10.0.0.1-", "expected an IPv4 address, found nothing"),
            (
                "10.0.0.1-10.0.0.9/24",
                "\"10.0.0.9/24\" is not an IPv4 address",
            ),
        ];
        for (text, message) in cases {
            let error = v4_error(text);
            assert!(error.starts_with(message), "{text:?}: {error}");
        }
        assert!(v4_error("10.0.0.0/255.0.255.0").contains("is not contiguous"));
        assert_eq!(
            AddrSet::parse(Family::V6, "10.0.0.1").unwrap_err(),
            "\"10.0.0.1\" is an IPv4 address, expected IPv6"
        );
        assert!(
            AddrSet::parse(Family::V6, "2001:db8::/129")
                .unwrap_err()
                .contains("IPv6 allows 0-128")
        );
        assert!(
            AddrSet::parse(Family::V6, "2001:db8::/ffff:0:ffff::")
                .unwrap_err()
                .contains("is not contiguous")
        );
        assert_eq!(
            AddrSet::parse_list(Family::V4, "10.0.0.1,,10.0.0.2").unwrap_err(),
            "expected an IPv4 address, found nothing"
        );
    }

    #[test]
    fn canonical_text_is_the_fewest_sorted_cidr_blocks() {
        assert_eq!(v4("10.0.0.0-10.0.0.255").to_string(), "10.0.0.0/24");
        assert_eq!(
            v4("10.0.0.1-10.0.0.6").to_string(),
            "10.0.0.1,10.0.0.2/31,10.0.0.4/31,10.0.0.6"
        );
        assert_eq!(
            v4("203.0.113.7,198.51.100.0/25,198.51.100.128/25").to_cidr_text(),
            "198.51.100.0/24,203.0.113.7"
        );
        assert_eq!(AddrSet::all(Family::V4).to_string(), "0.0.0.0/0");
        assert_eq!(AddrSet::all(Family::V6).to_string(), "::/0");
        assert_eq!(AddrSet::empty(Family::V4).to_string(), "");
        assert_eq!(AddrSet::empty(Family::V6).to_string(), "");
        assert_eq!(
            v6("2001:0db8:0000:0000:0000:0000:0000:0001").to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            v6("2001:db8::-2001:db8::ffff").to_string(),
            "2001:db8::/112"
        );
        assert_eq!(
            v4("255.255.255.254-255.255.255.255").to_string(),
            "255.255.255.254/31"
        );
        assert_eq!(
            v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
                .to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"
        );
        let all_but_the_last = v4("0.0.0.0-255.255.255.254").to_string();
        assert_eq!(all_but_the_last.split(',').count(), 32);
        assert!(all_but_the_last.starts_with("0.0.0.0/1,128.0.0.0/2,"));
        assert!(all_but_the_last.ends_with(",255.255.255.252/31,255.255.255.254"));
        assert_eq!(
            format!("{:?}", v4("10.0.0.0/8")),
            "AddrSet(ipv4: 10.0.0.0/8)"
        );
    }

    #[test]
    fn complement_of_empty_and_all() {
        for family in [Family::V4, Family::V6] {
            let (empty, all) = (AddrSet::empty(family), AddrSet::all(family));
            assert_eq!(empty.complement(), all);
            assert_eq!(all.complement(), empty);
            assert!(all.is_all() && !all.is_empty() && empty.is_empty() && !empty.is_all());
            assert!(all.contains(0) && all.contains(family.max_address()));
        }
        assert_eq!(v4("0.0.0.0").complement(), v4("0.0.0.1-255.255.255.255"));
        assert_eq!(v6("::").complement().complement(), v6("::"));
    }

    #[test]
    fn count_says_none_only_for_all_of_ipv6() {
        assert_eq!(AddrSet::empty(Family::V4).count(), Some(0));
        assert_eq!(AddrSet::all(Family::V4).count(), Some(1 << 32));
        assert_eq!(v4("10.0.0.1-10.0.0.6,192.0.2.0/24").count(), Some(6 + 256));
        assert_eq!(AddrSet::all(Family::V6).count(), None);
        assert_eq!(v6("::").complement().count(), Some(u128::MAX));
        assert_eq!(v6("::/1").count(), Some(1 << 127));
    }

    #[test]
    fn constructors_stay_inside_the_family() {
        assert!(AddrSet::range(Family::V4, 0, u128::MAX).is_all());
        assert!(AddrSet::range(Family::V4, 1 << 32, u128::MAX).is_empty());
        assert!(AddrSet::range(Family::V4, 9, 1).is_empty());
        assert!(AddrSet::prefix(Family::V4, 1 << 40, 8).is_empty());
        assert_eq!(
            AddrSet::prefix(Family::V4, ip4("10.0.0.1"), 40),
            v4("10.0.0.1")
        );
        assert!(AddrSet::prefix(Family::V6, 12345, 0).is_all());
        assert_eq!(
            AddrSet::from_ranges(Family::V4, [(20, 30), (5, 9), (10, 12), (40, 39)]).ranges(),
            [(5, 12), (20, 30)]
        );
        assert!(!AddrSet::all(Family::V4).contains(1 << 32));
    }

    #[test]
    fn an_operand_of_the_other_family_counts_as_empty() {
        let (a, b) = (v4("10.0.0.0/8"), v6("::/0"));
        assert_eq!(a.union(&b), a);
        assert_eq!(a.intersection(&b), AddrSet::empty(Family::V4));
        assert_eq!(a.difference(&b), a);
        assert!(!a.is_subset(&b) && !a.intersects(&b));
        assert!(AddrSet::empty(Family::V4).is_subset(&b));
    }

    #[test]
    fn sets_work_as_keys() {
        let a = v4("10.0.0.0/25,10.0.0.128/25");
        let b = AddrSet::range(Family::V4, ip4("10.0.0.0"), ip4("10.0.0.255"));
        assert_eq!(HashSet::from([a.clone(), b]).len(), 1);
        let keys = BTreeSet::from([v6("::/0"), a, AddrSet::empty(Family::V4)]);
        let families: Vec<Family> = keys.iter().map(AddrSet::family).collect();
        assert_eq!(families, [Family::V4, Family::V4, Family::V6]);
    }

    const WINDOW: u128 = 1 << 12;

    /// A 12-bit window of one family, aligned, at the bottom, in the middle
    /// and at the top of the address space.
    fn window() -> impl Strategy<Value = (Family, u128)> {
        prop_oneof![
            Just((Family::V4, 0)),
            Just((Family::V4, 0x0a00_0000)),
            Just((Family::V4, u128::from(u32::MAX) + 1 - WINDOW)),
            Just((Family::V6, 0)),
            Just((Family::V6, 0x2001_0db8 << 96)),
            Just((Family::V6, u128::MAX - (WINDOW - 1))),
        ]
    }

    /// Ranges as offsets into the window, mostly short so that gaps and
    /// touching ends are common.
    fn offsets() -> impl Strategy<Value = Vec<(u128, u128)>> {
        let length = prop_oneof![3 => 0..64u128, 1 => 0..WINDOW];
        prop::collection::vec((0..WINDOW, length), 0..6).prop_map(|v| {
            v.into_iter()
                .map(|(lo, len)| (lo, (lo + len).min(WINDOW - 1)))
                .collect()
        })
    }

    /// The set and its reference: one bool per address of the window.
    fn build(family: Family, base: u128, offsets: &[(u128, u128)]) -> (AddrSet, Vec<bool>) {
        let mut bits = vec![false; WINDOW as usize];
        for &(lo, hi) in offsets {
            bits[lo as usize..=hi as usize].fill(true);
        }
        let ranges = offsets.iter().map(|&(lo, hi)| (base + lo, base + hi));
        (AddrSet::from_ranges(family, ranges), bits)
    }

    fn check_invariants(set: &AddrSet) -> Result<(), TestCaseError> {
        let top = set.family().max_address();
        for &(lo, hi) in set.ranges() {
            prop_assert!(lo <= hi && hi <= top, "{set:?}");
        }
        for pair in set.ranges().windows(2) {
            let gap_after = pair[0]
                .1
                .checked_add(1)
                .is_some_and(|next| next < pair[1].0);
            prop_assert!(gap_after, "{set:?}: {:?} touches {:?}", pair[0], pair[1]);
        }
        Ok(())
    }

    /// Blocks are aligned, sorted, disjoint, and no two could merge into one.
    fn check_blocks(set: &AddrSet) -> Result<(), TestCaseError> {
        let width = u32::from(set.family().bits());
        let blocks: Vec<(u128, u128, u8)> = set
            .cidr_blocks()
            .map(|(network, len)| (network, network | low_mask(width - u32::from(len)), len))
            .collect();
        for &(network, end, _) in &blocks {
            prop_assert_eq!(
                network & !(end ^ network),
                network,
                "unaligned in {:?}",
                set
            );
        }
        for pair in blocks.windows(2) {
            let ((n1, e1, l1), (n2, _, l2)) = (pair[0], pair[1]);
            prop_assert!(e1 < n2, "{set:?}: blocks overlap or are unsorted");
            let parent_host_bits = width - u32::from(l1) + 1;
            let siblings =
                l1 == l2 && l1 > 0 && n1 & low_mask(parent_host_bits) == 0 && e1 + 1 == n2;
            prop_assert!(!siblings, "{set:?}: {n1:#x}/{l1} and {n2:#x}/{l2} merge");
        }
        Ok(())
    }

    fn check_against(set: &AddrSet, base: u128, want: &[bool]) -> Result<(), TestCaseError> {
        check_invariants(set)?;
        for (offset, &bit) in want.iter().enumerate() {
            prop_assert_eq!(
                set.contains(base + offset as u128),
                bit,
                "{:?} at +{}",
                set,
                offset
            );
        }
        Ok(())
    }

    fn zip(a: &[bool], b: &[bool], op: fn(bool, bool) -> bool) -> Vec<bool> {
        a.iter().zip(b).map(|(&x, &y)| op(x, y)).collect()
    }

    /// The fewest CIDR blocks covering `bits` exactly: one per maximal full
    /// aligned block, found by halving.
    fn fewest_blocks(bits: &[bool]) -> usize {
        if bits.iter().all(|&b| b) {
            1
        } else if bits.iter().all(|&b| !b) {
            0
        } else {
            let (left, right) = bits.split_at(bits.len() / 2);
            fewest_blocks(left) + fewest_blocks(right)
        }
    }

    /// Any address, with the ends of the space and their neighbours made likely.
    fn address(family: Family) -> BoxedStrategy<u128> {
        let top = family.max_address();
        let any = match family {
            Family::V4 => any::<u32>().prop_map(u128::from).boxed(),
            Family::V6 => any::<u128>().boxed(),
        };
        prop_oneof![4 => any, 1 => prop::sample::select(vec![0, 1, top - 1, top])].boxed()
    }

    fn full_width_set(family: Family) -> impl Strategy<Value = AddrSet> {
        prop::collection::vec((address(family), address(family)), 0..8).prop_map(move |pairs| {
            AddrSet::from_ranges(family, pairs.into_iter().map(|(a, b)| (a.min(b), a.max(b))))
        })
    }

    fn two_full_width_sets() -> impl Strategy<Value = (AddrSet, AddrSet)> {
        prop_oneof![Just(Family::V4), Just(Family::V6)]
            .prop_flat_map(|family| (full_width_set(family), full_width_set(family)))
    }

    proptest! {
        #[test]
        fn algebra_agrees_with_the_reference((family, base) in window(), a in offsets(), b in offsets()) {
            let (a, abits) = build(family, base, &a);
            let (b, bbits) = build(family, base, &b);
            check_against(&a, base, &abits)?;
            check_against(&a.union(&b), base, &zip(&abits, &bbits, |x, y| x || y))?;
            check_against(&a.intersection(&b), base, &zip(&abits, &bbits, |x, y| x && y))?;
            check_against(&a.difference(&b), base, &zip(&abits, &bbits, |x, y| x && !y))?;
            let complement = a.complement();
            check_against(&complement, base, &zip(&abits, &abits, |x, _| !x))?;
            prop_assert!(complement.union(&a).is_all() && !complement.intersects(&a));
            let subset = abits.iter().zip(&bbits).all(|(&x, &y)| !x || y);
            prop_assert_eq!(a.is_subset(&b), subset);
            let overlap = abits.iter().zip(&bbits).any(|(&x, &y)| x && y);
            prop_assert_eq!(a.intersects(&b), overlap);
            let members = abits.iter().filter(|&&x| x).count() as u128;
            prop_assert_eq!(a.count(), Some(members));
        }

        #[test]
        fn canonical_text_parses_back_and_is_minimal((family, base) in window(), a in offsets()) {
            let (a, abits) = build(family, base, &a);
            prop_assert_eq!(AddrSet::parse_list(family, &a.to_cidr_text()), Ok(a.clone()));
            prop_assert_eq!(a.cidr_blocks().count(), fewest_blocks(&abits));
            check_blocks(&a)?;
            let complement = a.complement();
            prop_assert_eq!(AddrSet::parse_list(family, &complement.to_string()), Ok(complement.clone()));
            check_blocks(&complement)?;
        }

        #[test]
        fn full_width_operations_keep_the_invariants((a, b) in two_full_width_sets()) {
            let results = [
                a.union(&b),
                a.intersection(&b),
                a.difference(&b),
                a.complement(),
                b.complement(),
            ];
            for set in [&a, &b].into_iter().chain(&results) {
                check_invariants(set)?;
                check_blocks(set)?;
                prop_assert_eq!(AddrSet::parse_list(set.family(), &set.to_string()), Ok(set.clone()));
            }
            let [union, intersection, difference, not_a, not_b] = results;
            prop_assert_eq!(&not_a.complement(), &a);
            prop_assert_eq!(&union, &not_a.intersection(&not_b).complement());
            prop_assert_eq!(&intersection.union(&difference), &a);
            prop_assert!(!difference.intersects(&b));
            prop_assert!(a.is_subset(&union) && intersection.is_subset(&b));
            if let (Some(u), Some(i), Some(x), Some(y)) =
                (union.count(), intersection.count(), a.count(), b.count())
            {
                prop_assert_eq!(u.checked_add(i), x.checked_add(y));
            }
        }
    }
}
