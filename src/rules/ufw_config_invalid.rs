//! `ufw-config-invalid`: see rules/ufw-config-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iptables::Ruleset;
use crate::formats::ufw::Rejected;
use crate::formats::{Document, ParsedFile};
use crate::source::SourceFile;

pub struct UfwConfigInvalid;

const POLICIES: &[&str] = &["ACCEPT", "DROP", "REJECT"];

impl Rule for UfwConfigInvalid {
    fn name(&self) -> &'static str {
        "ufw-config-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        if let Document::Iptables(rs) = &file.doc {
            for r in &rs.ufw_rejected {
                out.push(self.refused(rs, r, &file.source));
            }
            return;
        }
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

impl UfwConfigInvalid {
    /// A script's `ufw` command that ufw refuses.
    fn refused(&self, rs: &Ruleset, r: &Rejected, source: &SourceFile) -> Diagnostic {
        let written = first_line(source.slice(r.span));
        let stops = super::iptables_syntax_error::stops_the_script(rs, r.span).is_some();
        let tail = if stops {
            ", and `set -e` stops the script here: no command after this line runs"
        } else {
            ""
        };
        let d = Diagnostic::new(
            self.name(),
            format!(
                "`{written}` fails: ufw prints \"ERROR: {}\", exits 1 and adds no rule, so the command opens no port{tail}",
                r.message
            ),
            r.span,
            "ufw refuses this command",
        );
        d.with_help(help(r))
    }
}

fn help(r: &Rejected) -> String {
    let m = r.message.as_str();
    match &r.instead {
        Some(instead) if m.starts_with("Wrong number of arguments") => {
            return format!("with an interface ufw takes only the long form: `{instead}`");
        }
        Some(instead) => {
            return format!(
                "name the protocol, as ufw needs for a port list or range: `{instead}`"
            );
        }
        None => {}
    }
    if m.starts_with("Bad port") {
        "give ports 1-65535, a range as LOW:HIGH with LOW below HIGH, `/tcp` or `/udp` after them, and at most 15 ports in one rule (a range counts two)".to_owned()
    } else if m.starts_with("Port ranges must be numeric") {
        "list port numbers only (`ufw allow 21,40000:40100/tcp`); open a service by name in a rule of its own".to_owned()
    } else if m.starts_with("Wrong number of arguments") {
        "with an interface ufw takes only the long form: `ufw allow in on IFACE to any port PORTS proto tcp`".to_owned()
    } else if m.starts_with("Invalid port with protocol") {
        "drop the port (that protocol has none), or use `proto tcp` or `proto udp`".to_owned()
    } else {
        "use a protocol ufw knows: tcp, udp, ipv6, esp, ah, igmp, gre, vrrp or any (lower case)"
            .to_owned()
    }
}

/// The command as written, up to its first line break and 60 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
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
