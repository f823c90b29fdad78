//! nftables rulesets: `/etc/nftables.conf`, `*.nft`, `nft list ruleset` output,
//! parsed as `nft -f` reads them and lowered onto the filter IR.

pub mod bundle;
pub mod helper_refs;
pub mod lex;
pub mod lower;
pub mod model;
pub mod nd;
pub mod parse;
pub mod script;

pub use model::File;

use crate::addrset::Family;
use crate::facts::Firewall;
use crate::source::SourceFile;
use std::path::Path;

/// By name (`nftables.conf`, `*.nft`, anything under `nftables/`) or by content
/// (`table inet NAME {`, `flush ruleset`).
pub fn sniff(path: &Path, text: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name == "nftables.conf" || name.ends_with(".nft") {
        return true;
    }
    let in_dir = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == "nftables");
    if in_dir && !name.ends_with(".sh") {
        return true;
    }
    let head = crate::formats::head(text);
    head.lines().any(|l| {
        let l = l.trim();
        l == "flush ruleset"
            || ["table inet ", "table ip ", "table ip6 "]
                .iter()
                .any(|p| l.starts_with(p) && l.ends_with('{'))
    }) && !head.starts_with("#!")
}

pub fn parse(src: &SourceFile) -> File {
    parse::parse(src)
}

/// The IPv4 and IPv6 firewalls a file loads; `None` for a family no table filters.
/// `own_text`: `src` is an nftables file (not a script running nft), so a fix may
/// insert lines into it.
pub fn facts(
    file: &File,
    src: &SourceFile,
    own_text: bool,
) -> (Option<Firewall>, Option<Firewall>) {
    let one = |family: Family| {
        file.tables
            .iter()
            .any(|t| lower::filters(t.family, family))
            .then(|| {
                let mut fw =
                    crate::filter::eval::firewall_facts(&lower::lower(file, family), src.id);
                fw.dialect = crate::facts::Dialect::Nftables;
                crate::filter::eval::attach_port_texts(&mut fw, &port_texts(file, src));
                fw
            })
    };
    let mut v6 = one(Family::V6);
    if let (Some(fw), Some((table, chain, span))) = (&mut v6, nd::blocking_chains(file).first()) {
        unreachable_over_ipv6(fw, *span);
        fw.nd_blocked = Some(nd::blocked(table, chain, *span, own_text.then_some(src)));
    }
    (one(Family::V4), v6)
}

/// Where the accept rules' destination ports are written (see `model::Rule::port_text`).
fn port_texts(file: &File, src: &SourceFile) -> Vec<crate::facts::PortText> {
    let rules = file
        .tables
        .iter()
        .flat_map(|t| t.chains.iter().flat_map(|c| c.rules.iter()));
    let positional = edits_by_position(&src.text);
    rules
        .filter(|r| {
            r.items
                .contains(&model::Item::Verdict(model::Verdict::Accept))
        })
        .filter_map(|r| {
            let (syntax, value) = r.port_text?;
            let own = r.span.file == src.id && !positional;
            Some(crate::facts::PortText {
                rule: r.span,
                syntax,
                value,
                second: None,
                line: own
                    .then(|| src.own_lines_commented(r.span, Some('#')))
                    .flatten(),
            })
        })
        .collect()
}

/// `delete rule ... handle N`, `add rule ... index N` or `position N`: deleting
/// a line would shift what they address.
fn edits_by_position(text: &str) -> bool {
    text.split_whitespace()
        .any(|w| matches!(w, "handle" | "index" | "position"))
}

/// Neighbour solicitations dropped: no IPv6 connection gets as far as the rules.
fn unreachable_over_ipv6(fw: &mut Firewall, span: crate::source::Span) {
    let none = crate::portset::PortSet::empty();
    fw.open_to_all = none.clone();
    fw.open_to_some = none.clone();
    for class in &mut fw.classes {
        class.open = none.clone();
        class.open_to_some = none.clone();
    }
    fw.uncertain.push(crate::facts::Uncertainty {
        span,
        what: "ICMPv6 neighbour discovery is dropped: nothing reaches the host over IPv6".into(),
    });
}

#[cfg(test)]
mod tests;
