//! `iptables-multiport-too-many-ports`: see rules/iptables-multiport-too-many-ports.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iptables::ProblemKind;
use crate::formats::{Document, ParsedFile};

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
            out.push(
                Diagnostic::new(
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
                ),
            );
        }
    }
}
