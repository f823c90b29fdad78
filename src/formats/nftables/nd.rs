//! ICMPv6 neighbour discovery through an input chain that drops by policy:
//! without it no IPv6 client learns the host's link address, so nothing
//! reaches the host over IPv6 whatever the rules accept.

use super::model::{BaseSpec, Chain, File, Item, Table, TableFamily, Value, Verdict};
use crate::facts::{NdBlocked, NdPacket};
use crate::source::{SourceFile, Span};

/// The rule that lets neighbour discovery in.
pub const ND_RULE: &str =
    "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept";

/// The fact for a chain [`blocking_chains`] found; `source` (the file the chain
/// is written in, when a fix may edit it) places the accept after its policy line.
pub fn blocked(table: &Table, chain: &Chain, span: Span, source: Option<&SourceFile>) -> NdBlocked {
    let family = if table.family == TableFamily::Inet {
        "inet"
    } else {
        "ip6"
    };
    let insert = source.zip(chain.base.as_ref()).and_then(|(src, base)| {
        (base.span.file == src.id)
            .then(|| nd_rule_edit(src, base))
            .flatten()
    });
    NdBlocked {
        by: span,
        policy: true,
        chain: format!("{family} {} {}", table.name, chain.name),
        packet: NdPacket::SolicitIn,
        meant: None,
        accept_line: ND_RULE.to_owned(),
        insert,
        nftables: Some(format!("{family} {}", table.name)),
    }
}

/// The ND rule inserted on a line of its own after the base chain's `type ...;
/// policy drop;` line, indented as that line; `None` when more follows on it.
fn nd_rule_edit(source: &SourceFile, base: &BaseSpec) -> Option<(Span, String)> {
    let end = base
        .policy_span
        .map_or(base.span.end, |p| p.end.max(base.span.end)) as usize;
    let text = source.text.as_str();
    let line_end = text.get(end..)?.find('\n').map_or(text.len(), |i| end + i);
    let rest = text[end..line_end].trim_matches([' ', '\t', '\r', ';']);
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let line_start = text[..base.span.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    let eol = if text[..line_end].ends_with('\r') {
        "\r\n"
    } else {
        "\n"
    };
    let at = (line_end + 1).min(text.len());
    let lead = if line_end == text.len() { eol } else { "" };
    Some((source.span(at, at), format!("{lead}{indent}{ND_RULE}{eol}")))
}

/// Input base chains of `inet`/`ip6` tables that drop neighbour solicitations:
/// table, chain, and the policy (or chain type) span.
pub fn blocking_chains(file: &File) -> Vec<(&Table, &Chain, Span)> {
    let mut out = Vec::new();
    for table in &file.tables {
        if !matches!(table.family, TableFamily::Inet | TableFamily::Ip6) {
            continue;
        }
        for chain in &table.chains {
            let Some(base) = &chain.base else { continue };
            if base.hook == "input" && base.drop && !admits_nd(table, chain, 0) {
                out.push((table, chain, base.policy_span.unwrap_or(base.span)));
            }
        }
    }
    out
}

const ND: &[&str] = &["nd-neighbor-solicit", "135"];

/// A rule of `chain` (or a chain it jumps to) accepts neighbour solicitations
/// from everyone.
pub fn admits_nd(table: &Table, chain: &Chain, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    chain.rules.iter().any(|rule| {
        let mut icmp = false;
        let mut restricted = false;
        let mut accept = false;
        let mut jump: Option<&str> = None;
        for item in &rule.items {
            match item {
                Item::Match {
                    key,
                    value,
                    negated,
                } => match key.as_str() {
                    "icmpv6 type" => {
                        icmp = !negated
                            && names(table, value).iter().any(|w| ND.contains(&w.as_str()));
                        restricted |= !icmp;
                    }
                    "meta l4proto" | "ip6 nexthdr" => {
                        let v = names(table, value);
                        icmp |= !negated
                            && v.iter()
                                .any(|w| matches!(w.as_str(), "ipv6-icmp" | "icmpv6" | "58"));
                    }
                    "meta nfproto" => {}
                    _ => restricted = true,
                },
                Item::Verdict(Verdict::Accept) => accept = true,
                Item::Verdict(Verdict::Jump(n) | Verdict::Goto(n)) => jump = Some(n),
                Item::Limit => restricted = true,
                _ => {}
            }
        }
        if restricted {
            return false;
        }
        let bare = rule
            .items
            .iter()
            .all(|i| matches!(i, Item::Verdict(Verdict::Accept) | Item::Other));
        if accept && (icmp || bare) {
            return true;
        }
        jump.and_then(|n| table.chains.iter().find(|c| c.name == n))
            .is_some_and(|c| admits_nd(table, c, depth + 1))
    })
}

fn names(table: &Table, value: &Value) -> Vec<String> {
    match value {
        Value::List(w) => w.clone(),
        Value::Anon(e) => e.iter().flat_map(|e| e.key.clone()).collect(),
        Value::Named(n) => table
            .sets
            .iter()
            .find(|s| &s.name == n)
            .map(|s| s.elements.iter().flat_map(|e| e.key.clone()).collect())
            .unwrap_or_default(),
    }
}
