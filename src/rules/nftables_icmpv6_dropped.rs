//! `nftables-icmpv6-dropped`: see rules/nftables-icmpv6-dropped.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::nftables::model::{BaseSpec, TableFamily};
use crate::source::{SourceFile, Span};
use crate::formats::nftables::nd::blocking_chains;
use crate::formats::{Document, ParsedFile};

pub struct NftablesIcmpv6Dropped;

impl Rule for NftablesIcmpv6Dropped {
    fn name(&self) -> &'static str {
        "nftables-icmpv6-dropped"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Nftables(nft) = &file.doc else {
            return;
        };
        for (table, chain, span) in blocking_chains(nft) {
                let fix = chain.base.as_ref().and_then(|b| nd_rule_edit(&file.source, b));
                let d =
                    Diagnostic::new(
                        self.name(),
                        format!(
                            "the {} table {} input chain drops by policy and accepts no ICMPv6 neighbour discovery: the host answers no neighbour solicitation, so no IPv6 client reaches the FTP control port or any passive port",
                            if table.family == TableFamily::Inet { "inet" } else { "ip6" },
                            table.name
                        ),
                        span,
                        "drops ICMPv6 neighbour solicitations",
                    )
                    .with_help(format!("add `{ND_RULE}` before the other rules"));
                // Unsafe: router advertisements then reach the host too.
                out.push(match fix {
                    Some(edit) => d.with_unsafe_fix("accept neighbour discovery first", vec![edit]),
                    None => d,
                });
        }
    }
}

const ND_RULE: &str = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept";

/// The ND rule inserted on a line of its own after the base chain's `type ...;
/// policy drop;` line, indented as that line; `None` when more follows on it.
fn nd_rule_edit(source: &SourceFile, base: &BaseSpec) -> Option<(Span, String)> {
    let end = base.policy_span.map_or(base.span.end, |p| p.end.max(base.span.end)) as usize;
    let text = source.text.as_str();
    let line_end = text.get(end..)?.find('\n').map_or(text.len(), |i| end + i);
    let rest = text[end..line_end].trim_matches([' ', '\t', '\r', ';']);
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let line_start = text[..base.span.start as usize].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    let eol = if text[..line_end].ends_with('\r') { "\r\n" } else { "\n" };
    let at = (line_end + 1).min(text.len());
    let lead = if line_end == text.len() { eol } else { "" };
    Some((
        source.span(at, at),
        format!("{lead}{indent}{ND_RULE}{eol}"),
    ))
}
