//! What a dump is about to build, counted by looking ahead in its text: each
//! table's chains and each chain's rules are then allocated once, at their size.
//! Grown by doubling instead, a kube-proxy dump's 285,000 two-rule chains each
//! keep room for four. `iptables-save` writes a table's `:CHAIN` lines together
//! after its `*table` line and a chain's `-A` lines together, so both counts are
//! runs of lines read right before they are parsed (no pass over the whole dump,
//! no table of hints): a hand-written file that splits a chain's rules only grows
//! that chain's vector as usual.

/// How many `:CHAIN` lines follow one another from offset `from`.
pub fn chains_ahead(text: &str, from: usize) -> usize {
    run(text.as_bytes(), from, |line| line.starts_with(b":")).0
}

/// How many lines appending to `chain` follow one another from offset `from`
/// (the start of a line), and the offset where that run ends.
pub fn rules_ahead(text: &str, from: usize, chain: &str) -> (usize, usize) {
    let (n, end) = run(text.as_bytes(), from, |line| {
        appends_to(line, chain.as_bytes())
    });
    (n, end.max(from + 1))
}

/// The lines from `from` on for which `starts` holds of their start, each tested
/// before its end is looked for: how many, and the offset after the last.
fn run(bytes: &[u8], from: usize, starts: impl Fn(&[u8]) -> bool) -> (usize, usize) {
    let (mut n, mut at) = (0, from);
    while at < bytes.len() && starts(&bytes[at..]) {
        n += 1;
        at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
    }
    (n, at)
}

fn appends_to(line: &[u8], chain: &[u8]) -> bool {
    line.strip_prefix(b"-A ")
        .and_then(|rest| rest.strip_prefix(chain))
        .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b'\r' | b'\n')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_runs_of_chain_and_rule_lines() {
        let text = "*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n-A INPUT -j A\n-A INPUT -j DROP\n-A A -j ACCEPT\n-A INPUTX -j DROP\n-A INPUT -j ACCEPT\nCOMMIT\n";
        assert_eq!(chains_ahead(text, "*filter\n".len()), 2);
        let first = text.find("-A INPUT").unwrap();
        let (n, end) = rules_ahead(text, first, "INPUT");
        assert_eq!(n, 2);
        assert_eq!(&text[end..end + 6], "-A A -");
        assert_eq!(rules_ahead(text, end, "A").0, 1);
        assert_eq!(
            rules_ahead(text, text.find("-A INPUTX").unwrap(), "INPUT").0,
            0
        );
        assert_eq!(rules_ahead(text, text.len(), "INPUT"), (0, text.len() + 1));
        assert_eq!(rules_ahead("-A INPUT", 0, "INPUT"), (1, 8));
    }
}
