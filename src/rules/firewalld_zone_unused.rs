//! `firewalld-zone-unused`: see rules/firewalld-zone-unused.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::Document;
use crate::formats::bundle::{Bundle, BundleDoc};

pub struct FirewalldZoneUnused;

impl Rule for FirewalldZoneUnused {
    fn name(&self) -> &'static str {
        "firewalld-zone-unused"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Firewalld(host) = &bundle.doc else {
            return;
        };
        let config = &host.written;
        for part in &bundle.parts {
            let Document::FirewalldZone(zone) = &part.doc else {
                continue;
            };
            let opens = zone.services.len() + zone.ports.len() + zone.rules.len();
            if opens == 0 || config.is_active(zone) || !zone.problems.is_empty() {
                continue;
            }
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "zone {} has {} service(s), {} port(s) and {} rich rule(s), but no <interface> or <source> binds it and it is not the default zone ({}): firewalld sends no packet through it",
                    zone.name,
                    zone.services.len(),
                    zone.ports.len(),
                    zone.rules.len(),
                    config.default_zone
                ),
                zone.span,
                "no traffic reaches this zone",
            )
            .with_help(format!(
                "bind it (`firewall-cmd --permanent --zone={0} --add-interface=eth0` or --add-source=…), set DefaultZone={0} in firewalld.conf, or move its ports into zone {1}",
                zone.name, config.default_zone
            ));
            if config.default_span != config.anchor {
                d = d.with_related(config.default_span, "the default zone");
            }
            out.push(d);
        }
    }
}
