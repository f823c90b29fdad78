//! `puppet-value-unresolved`: see rules/puppet-value-unresolved.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};

pub struct PuppetValueUnresolved;

impl Rule for PuppetValueUnresolved {
    fn name(&self) -> &'static str {
        "puppet-value-unresolved"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Puppet(project) = &bundle.doc else {
            return;
        };
        if project.failed.is_some() {
            // puppet-syntax-error says why nothing of the catalog is known.
            return;
        }
        let lowered = crate::formats::puppet::firewall::lower(&project.resources);
        for u in &lowered.unknowns {
            let mut d = Diagnostic::new(self.name(), u.what.clone(), u.span, "not known here")
                .with_help("give the value a literal in the manifest (a class parameter's default, a variable assigned unconditionally), or pair the host with `[[hosts]]` in pasvlint.toml and check the rules Puppet applied (`iptables-save`) instead");
            if let Some(data) = u.data {
                d = d.with_related(data, "the Hiera data it comes from");
            }
            out.push(d);
        }
        if let Some(at) = project.limited {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "stopped reading the catalog here: {} resources or {} levels of nested includes and defined types reached; what is declared after this point is not checked",
                        crate::formats::puppet::project::MAX_RESOURCES,
                        crate::formats::puppet::project::MAX_NESTING
                    ),
                    at,
                    "the catalog budget ran out here",
                )
                .with_help("split the node's catalog, or check the firewall Puppet applied (`iptables-save` on the host) instead"),
            );
        }
    }
}
