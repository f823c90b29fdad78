//! `passive-range-unrestricted`: see rules/passive-range-unrestricted.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::Passive;
use crate::hosts::Host;
use crate::policy::Policy;

pub struct PassiveRangeUnrestricted;

impl Rule for PassiveRangeUnrestricted {
    fn name(&self) -> &'static str {
        "passive-range-unrestricted"
    }

    fn check_host(&self, host: &Host, policy: &Policy, out: &mut Vec<Diagnostic>) {
        for server in &host.servers {
            let Passive::Enabled {
                ports,
                deliberate: false,
                spans,
            } = &server.passive
            else {
                continue;
            };
            let words = server.vocabulary();
            let (span, label) = match spans.first() {
                Some(span) => (*span, "ignored: the range falls back to the default".to_owned()),
                None => (server.anchor, "no passive range set".to_owned()),
            };
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "passive range is not restricted: {} hands out {} ({} ports)",
                    words.product,
                    ports.summary(4),
                    ports.count()
                ),
                span,
                label,
            );
            for extra in spans.iter().skip(1) {
                d = d.with_related(*extra, "ignored");
            }
            let needed = super::passive_range_too_small::ports_for_sessions(server, policy);
            let width = needed.unwrap_or(100).clamp(1, 15536);
            let hi = 50000 + (width as u16 - 1);
            let sizing = match needed {
                Some(_) => "enough for the sessions it admits",
                None => "a band sized for the sessions you expect",
            };
            out.push(d.with_help(format!(
                "set {} ({sizing}) and open exactly that band in the firewall",
                (words.range)(50000, hi)
            )));
        }
    }
}
