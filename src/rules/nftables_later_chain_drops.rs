//! `nftables-later-chain-drops`: see rules/nftables-later-chain-drops.toml.

use super::Rule;
use crate::addrset::Family;
use crate::diag::Diagnostic;
use crate::filter::ir::{Base, BaseKind, Hook, Packet, PortRef, Proto, Ruleset, Target};
use crate::formats::nftables::lower::lower;
use crate::formats::{Document, ParsedFile};
use crate::portset::PortSet;
use crate::source::Span;

pub struct NftablesLaterChainDrops;

impl Rule for NftablesLaterChainDrops {
    fn name(&self) -> &'static str {
        "nftables-later-chain-drops"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Nftables(nft) = &file.doc else {
            return;
        };
        let mut seen: Vec<Span> = Vec::new();
        for family in [Family::V4, Family::V6] {
            let rs = lower(nft, family);
            for hook in [Hook::Prerouting, Hook::Input] {
                let bases: Vec<&Base> = rs
                    .bases_on(hook)
                    .into_iter()
                    .filter(|b| b.kind == BaseKind::Filter)
                    .collect();
                for (i, early) in bases.iter().enumerate() {
                    for (span, ports) in explicit_accepts(&rs, early) {
                        if seen.contains(&span) {
                            continue;
                        }
                        let later = bases[i + 1..]
                            .iter()
                            .filter(|l| l.priority > early.priority)
                            .find_map(|l| Some((*l, dropped_by(&rs, l, &ports)?)));
                        let Some((late, lost)) = later else { continue };
                        seen.push(span);
                        out.push(self.diagnose(early, late, &lost, span, family, &rs));
                    }
                }
            }
        }
    }
}

impl NftablesLaterChainDrops {
    fn diagnose(
        &self,
        early: &Base,
        late: &Base,
        lost: &PortSet,
        span: Span,
        family: Family,
        rs: &Ruleset<'_>,
    ) -> Diagnostic {
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "this accept in {} (priority {}) only ends that chain: {} (priority {}) on the same hook still drops TCP port(s) {} ({} port(s)) for {}, so new connections to them never complete",
                early.label,
                early.priority,
                late.label,
                late.priority,
                lost.summary(6),
                lost.count(),
                family
            ),
            span,
            "accepted here, dropped later",
        )
        .with_help(format!(
            "accept the same ports in {} too (or remove one of the two base chains): every base chain on a hook must accept a packet",
            late.label
        ));
        if let Some(p) = rs
            .chain(late.table, late.chain)
            .and_then(|c| c.policy_span)
        {
            d = d.with_related(p, "this chain's policy drops them");
        }
        d
    }
}

/// Accept rules of a base chain's own body that name TCP ports and hold for
/// every new inbound connection.
fn explicit_accepts(rs: &Ruleset<'_>, base: &Base) -> Vec<(Span, PortSet)> {
    let Some(chain) = rs.chain(base.table, base.chain) else {
        return Vec::new();
    };
    chain
        .rules
        .iter()
        .filter(|r| {
            r.target == Target::Accept
                && r.key_in != PortRef::ALL
                && r.key_in != PortRef::Empty
                && matches!(r.proto, Proto::Tcp | Proto::Any)
                && r.applies[Packet::New as usize].public()
        })
        .map(|r| (r.span, rs.ports(r.key_in)))
        .collect()
}

/// The ports of `ports` that `base`, evaluated alone, lets no new connection through.
fn dropped_by(rs: &Ruleset<'_>, base: &Base, ports: &PortSet) -> Option<PortSet> {
    let alone = Ruleset {
        family: rs.family,
        tables: rs.tables.clone(),
        bases: vec![base.clone()],
        port_sets: rs.port_sets.clone(),
        addr_sets: rs.addr_sets.clone(),
        ifaces: rs.ifaces.clone(),
    };
    let fw = crate::filter::eval::firewall_facts(&alone, crate::source::FileId(0));
    let open = fw.open_to_all.union(&fw.open_to_some);
    let lost = ports.difference(&open);
    (!lost.is_empty()).then_some(lost)
}
