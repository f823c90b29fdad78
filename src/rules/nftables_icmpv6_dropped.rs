//! `nftables-icmpv6-dropped`: see rules/nftables-icmpv6-dropped.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::nftables::model::TableFamily;
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
        for (table, _, span) in blocking_chains(nft) {
                out.push(
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
                    .with_help("add `icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept` before the other rules"),
                );
        }
    }
}
