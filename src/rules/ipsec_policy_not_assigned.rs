//! `ipsec-policy-not-assigned`: see rules/ipsec-policy-not-assigned.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ipsec::{Assignment, IpsecStore, Unassigned};
use crate::formats::{ParsedFile, ipsec_store};

pub struct IpsecPolicyNotAssigned;

impl Rule for IpsecPolicyNotAssigned {
    fn name(&self) -> &'static str {
        "ipsec-policy-not-assigned"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(store) = ipsec_store(file) else {
            return;
        };
        out.extend(
            store
                .unassigned_with_filters()
                .iter()
                .map(|u| self.report(&store, u)),
        );
    }
}

impl IpsecPolicyNotAssigned {
    fn report(&self, store: &IpsecStore, u: &Unassigned) -> Diagnostic {
        let p = u.policy;
        let filters = if u.filters == 1 {
            "1 filter does".to_owned()
        } else {
            format!("{} filters do", u.filters)
        };
        let mut d = match &p.assignment {
            Assignment::Replaced { by, span } => Diagnostic::new(
                self.name(),
                format!(
                    "IPsec policy \"{}\" is unassigned when policy \"{by}\" is assigned: only one policy filters at a time, so its {filters} nothing",
                    p.name
                ),
                p.span,
                "unassigned later",
            )
            .with_related(*span, format!("assigning \"{by}\" unassigns \"{}\"", p.name))
            .with_help(format!(
                "put the rules of \"{}\" into policy \"{by}\", or assign only one policy",
                p.name
            )),
            _ => Diagnostic::new(
                self.name(),
                format!(
                    "IPsec policy \"{}\" is never assigned: its {filters} nothing",
                    p.name
                ),
                p.span,
                "created, never assigned",
            )
            .with_help(if p.by_ipseccmd {
                format!(
                    "add -x to the ipseccmd command: ipseccmd -w REG -p \"{}\" -x",
                    p.name
                )
            } else {
                format!(
                    "assign it after its rules: netsh ipsec static set policy name=\"{}\" assign=yes",
                    p.name
                )
            }),
        };
        if let Some(rule) = p
            .rules
            .iter()
            .find(|r| r.active && store.filter_list(&r.filter_list).is_some())
        {
            if rule.span != p.span {
                d = d.with_related(rule.span, format!("rule \"{}\" filters nothing", rule.name));
            }
        }
        d
    }
}
