//! `ufw-config-invalid`: see rules/ufw-config-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct UfwConfigInvalid;

const POLICIES: &[&str] = &["ACCEPT", "DROP", "REJECT"];

impl Rule for UfwConfigInvalid {
    fn name(&self) -> &'static str {
        "ufw-config-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::UfwSettings(settings) = &file.doc else {
            return;
        };
        for s in &settings.values {
            let Some(chain) = policy_chain(&s.name) else {
                continue;
            };
            if POLICIES.contains(&s.value.as_str()) {
                continue;
            }
            let upper = s.value.to_ascii_uppercase();
            let help = if POLICIES.contains(&upper.as_str()) {
                format!("write the policy in capitals: {}=\"{upper}\"", s.name)
            } else {
                format!("set {}=\"DROP\" (or ACCEPT or REJECT)", s.name)
            };
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "{}=\"{}\": ufw-init hands the value to iptables-restore as the {chain} policy, which accepts only ACCEPT, DROP or REJECT (in capitals), so loading the policy fails and {chain} keeps ACCEPT",
                        s.name, s.value
                    ),
                    s.value_span,
                    "not ACCEPT, DROP or REJECT",
                )
                .with_help(help),
            );
        }
    }
}

fn policy_chain(name: &str) -> Option<&'static str> {
    Some(match name {
        "DEFAULT_INPUT_POLICY" => "INPUT",
        "DEFAULT_OUTPUT_POLICY" => "OUTPUT",
        "DEFAULT_FORWARD_POLICY" => "FORWARD",
        _ => return None,
    })
}
