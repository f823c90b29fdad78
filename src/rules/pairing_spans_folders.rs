//! `pairing-spans-folders`: see rules/pairing-spans-folders.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::hosts::{Host, LoosePairing};
use crate::policy::Policy;
use crate::source::Span;

pub struct PairingSpansFolders;

impl Rule for PairingSpansFolders {
    fn name(&self) -> &'static str {
        "pairing-spans-folders"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(loose) = &host.loose else {
            return;
        };
        let anchor = |file| {
            host.servers
                .iter()
                .find(|s| s.file == file)
                .map_or(Span::new(file, 0, 0), |s| s.anchor)
        };
        let Some(((first, _), others)) = loose.servers.split_first() else {
            return;
        };
        let mut d = Diagnostic::new(
            self.name(),
            message(loose),
            anchor(*first),
            "paired only through a common folder",
        );
        for (id, _) in others {
            d = d.with_related(anchor(*id), "another server paired the same way");
        }
        for (id, _) in &loose.firewalls {
            d = d.with_related(first_rule(host, *id), "a firewall every server above is checked against");
        }
        out.push(d.with_help(help(loose)));
    }
}

fn message(loose: &LoosePairing) -> String {
    format!(
        "{} FTP server file{} and {} firewall file{} from different folders pair only because they share {}: \
         each server is checked against the {} firewall files together, as if they were one machine",
        loose.servers.len(),
        plural(loose.servers.len()),
        loose.firewalls.len(),
        plural(loose.firewalls.len()),
        loose.dir,
        loose.firewalls.len(),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Where in a firewall file its first deciding rule is, else the file's start.
fn first_rule(host: &Host, file: crate::source::FileId) -> Span {
    host.firewalls()
        .flat_map(|(_, fw)| fw.decisions.iter())
        .filter_map(|d| d.span)
        .filter(|s| s.file == file)
        .min()
        .unwrap_or(Span::new(file, 0, 0))
}

/// A `[[hosts]]` entry per server, each with the firewall files to pair it with.
fn help(loose: &LoosePairing) -> String {
    let mut out = String::from(
        "if these are different machines, say which firewall guards which server in pasvlint.toml \
         (paths relative to it), e.g.:",
    );
    for (i, (_, server)) in loose.servers.iter().enumerate() {
        let firewall = loose.firewalls.get(i).or(loose.firewalls.first());
        let files: Vec<String> = std::iter::once(server)
            .chain(firewall.map(|(_, f)| f))
            .map(|p| format!("{p:?}"))
            .collect();
        out.push_str(&format!(
            "\n[[hosts]]\nname = \"ftp{}\"\nfiles = [{}]",
            i + 1,
            files.join(", ")
        ));
    }
    out.push_str("\nif they are one machine, keep the server configs and firewall files in one folder");
    out
}
