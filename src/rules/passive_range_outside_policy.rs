//! `passive-range-outside-policy`: see rules/passive-range-outside-policy.toml.

use super::{Rule, passive_spans};
use crate::diag::Diagnostic;
use crate::hosts::Host;
use crate::policy::Policy;

pub struct PassiveRangeOutsidePolicy;

impl Rule for PassiveRangeOutsidePolicy {
    fn name(&self) -> &'static str {
        "passive-range-outside-policy"
    }

    fn check_host(&self, host: &Host, policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(allowed) = &policy.allowed_passive_ports else {
            return;
        };
        for server in &host.servers {
            let Some(ports) = server.passive.ports() else {
                continue;
            };
            let outside = ports.difference(allowed);
            if outside.is_empty() {
                continue;
            }
            let (primary, others) = passive_spans(server);
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "passive ports {} ({} ports) lie outside the site's allowed band {}",
                    outside.summary(6),
                    outside.count(),
                    allowed.summary(6)
                ),
                primary,
                format!("{} hands out {}", server.vocabulary().product, ports.summary(4)),
            );
            for span in others {
                d = d.with_related(span, "range set here");
            }
            let inside = ports.intersection(allowed);
            let help = match inside.widest_range().or_else(|| allowed.widest_range()) {
                Some((lo, hi)) => format!(
                    "set {} (inside [policy] allowed_passive_ports)",
                    (server.vocabulary().range)(lo, hi)
                ),
                None => "choose a range inside [policy] allowed_passive_ports".to_owned(),
            };
            out.push(d.with_help(help));
        }
    }
}
