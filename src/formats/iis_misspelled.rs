//! Attribute names one or two edits from a name IIS reads (`highDataChanelPort`
//! for `highDataChannelPort`): IIS does not read them under the name they were
//! meant to have, so a finding about the missing name should say which
//! attribute was meant. A name that differs only in case is
//! `iis-name-wrong-case`'s, not this module's.

/// Most edits between a written name and the name it was meant to be.
const MAX_EDITS: usize = 2;

/// The name of `known` that `written` misspells, when exactly one is that close.
pub fn meant(written: &str, known: &[&'static str]) -> Option<&'static str> {
    if known.iter().any(|k| k.eq_ignore_ascii_case(written)) {
        return None;
    }
    let lower = written.to_ascii_lowercase();
    let mut close = known
        .iter()
        .copied()
        .filter(|k| edits(&lower, &k.to_ascii_lowercase()) <= MAX_EDITS);
    let first = close.next()?;
    close.next().is_none().then_some(first)
}

/// Levenshtein distance over bytes, bounded: names longer than 64 bytes are
/// never close.
fn edits(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 || a.len().abs_diff(b.len()) > MAX_EDITS {
        return usize::MAX;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = prev + usize::from(ca != cb);
            prev = row[j + 1];
            row[j + 1] = substitution.min(prev + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTS: &[&str] = &["lowDataChannelPort", "highDataChannelPort"];

    #[test]
    fn a_dropped_letter_is_a_misspelling() {
        assert_eq!(
            meant("highDataChanelPort", PORTS),
            Some("highDataChannelPort")
        );
        assert_eq!(
            meant("lowDataChannelPorts", PORTS),
            Some("lowDataChannelPort")
        );
    }

    #[test]
    fn case_only_and_far_names_are_not() {
        assert_eq!(meant("highdatachannelport", PORTS), None);
        assert_eq!(meant("externalIp4Address", PORTS), None);
        assert_eq!(meant("configSource", PORTS), None);
    }
}
