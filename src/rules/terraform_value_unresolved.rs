//! `terraform-value-unresolved`: see rules/terraform-value-unresolved.toml.

use super::{Rule, is_cloud_layer};
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::terraform::module::{self, Model};
use crate::hosts::Host;
use crate::policy::Policy;

pub struct TerraformValueUnresolved;

impl Rule for TerraformValueUnresolved {
    fn name(&self) -> &'static str {
        "terraform-value-unresolved"
    }

    /// A rule of a known filter in front of an FTP instance whose ports are not known.
    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Terraform(_) = &bundle.doc else {
            return;
        };
        let m = Model::of(bundle);
        if m.broken {
            return;
        }
        let instances = module::instances(&m);
        let mut seen = Vec::new();
        for inst in module::ftp_instances(&instances) {
            for filter in inst.filters.iter().filter(|f| f.unknown.is_none()) {
                for rule in &filter.rules {
                    let Err(why) = &rule.ports else { continue };
                    if seen.contains(&why.span) {
                        continue;
                    }
                    seen.push(why.span);
                    out.push(
                        Diagnostic::new(
                            self.name(),
                            format!(
                                "the ports of the {} of {} are not known: {}; pasvlint counts the rule as opening them to some clients, so the server's passive range is not checked against it",
                                rule.label,
                                filter.names.join(" + "),
                                why.why
                            ),
                            why.span,
                            "not known here",
                        )
                        .with_related(rule.span, "the rule")
                        .with_help("write the ports as numbers, or give the variable a `default` or a value in terraform.tfvars, so the rule can be checked against the server's passive range"),
                    );
                }
            }
        }
    }

    /// A passive range not known on an instance behind a cloud filter.
    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some((kind, servers)) = super::unknown_ranges_behind(host, is_cloud_layer) else {
            return;
        };
        for (server, span, reason) in servers {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the passive range {} hands out is not known ({reason}), so it is not checked against the {} in front of the instance",
                        server.vocabulary().product,
                        kind
                    ),
                    span,
                    "not known here",
                )
                .with_help("give the values the range is built from as numbers, or as variables with a `default` or a value in terraform.tfvars"),
            );
        }
    }
}
