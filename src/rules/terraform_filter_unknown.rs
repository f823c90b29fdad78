//! `terraform-filter-unknown`: see rules/terraform-filter-unknown.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::terraform::module::{self, Model};

pub struct TerraformFilterUnknown;

impl Rule for TerraformFilterUnknown {
    fn name(&self) -> &'static str {
        "terraform-filter-unknown"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Terraform(_) = &bundle.doc else {
            return;
        };
        let m = Model::of(bundle);
        if m.broken {
            return;
        }
        let instances = module::instances(&m);
        for inst in module::ftp_instances(&instances) {
            for (filter, why) in inst.unknown_filters() {
                out.push(
                    Diagnostic::new(
                        self.name(),
                        format!(
                            "the {} in front of {} is not known: {}; pasvlint counts it as letting some clients through on every port, never as open, so what it says of this instance's ports holds only for the filters it can read",
                            filter.provider.filter_name(),
                            inst.res.address(),
                            why.why
                        ),
                        why.span,
                        "not known here",
                    )
                    .with_related(inst.res.block.head, "the instance it guards")
                    .with_help("define the filter in this module (or give the variable a `default`) so its rules can be checked against the server's passive range"),
                );
            }
        }
    }
}
