//! `iptables-multiport-too-many-ports`: see rules/iptables-multiport-too-many-ports.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iptables::ProblemKind;
use crate::formats::{Document, ParsedFile};
use crate::portset::PortSet;
use crate::source::Span;

pub struct IptablesMultiportTooManyPorts;

impl Rule for IptablesMultiportTooManyPorts {
    fn name(&self) -> &'static str {
        "iptables-multiport-too-many-ports"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Iptables(rs) = &file.doc else {
            return;
        };
        for p in &rs.problems {
            let ProblemKind::TooManyPorts { slots, ports } = &p.kind else {
                continue;
            };
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "multiport list for ports {ports} uses {slots} slots (a range counts 2): the limit is 15, so the whole rule is rejected with \"{}\"",
                    p.message
                ),
                p.span,
                format!("{slots} slots"),
            )
            .with_help(
                "split the list over two rules of at most 15 slots each, or write a contiguous run as one range (9981:9990 uses 2 slots)",
            );
            if let Some(list) = compacted(file, p.span, ports) {
                d = d.with_fix(format!("write the list as {list}"), vec![(p.span, list)]);
            }
            out.push(d);
        }
    }
}

/// The same ports with every contiguous run written as one range, when that fits
/// in 15 slots and the span holds the plain list (no quotes or variables around it).
fn compacted(file: &ParsedFile, span: Span, ports: &PortSet) -> Option<String> {
    let written = (span.file == file.source.id).then(|| file.source.slice(span))?;
    let plain = |c: char| c.is_ascii_digit() || c == ',' || c == ':';
    if written.is_empty() || !written.chars().all(plain) {
        return None;
    }
    let mut slots = 0;
    let parts: Vec<String> = ports
        .ranges()
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                slots += 1;
                lo.to_string()
            } else {
                slots += 2;
                format!("{lo}:{hi}")
            }
        })
        .collect();
    (slots <= 15).then(|| parts.join(","))
}
