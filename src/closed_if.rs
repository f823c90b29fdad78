//! Findings that hold only if a closing command that may not run does run.
//!
//! A script's firewall is read with its uncertain closing commands run
//! (`if [ -f /etc/firewall.lockdown ]; then iptables -P INPUT DROP; fi`); the
//! firewall also carries what the other branch leaves ([`Firewall::otherwise`]).
//! The host's checks run on both: a finding the other branch does not have holds
//! only when the condition does, so it is at most a warning that names the
//! condition and the command it decides.

use crate::diag::{Diagnostic, Severity};
use crate::facts::{ClosedIf, Firewall};
use crate::hosts::Host;

/// The host as it is when none of its uncertain closing commands runs; `None`
/// when it has none.
pub fn otherwise(host: &Host) -> Option<Host> {
    let has = |fw: &Option<Firewall>| fw.as_ref().is_some_and(|f| f.otherwise.is_some());
    if !has(&host.firewall) && !has(&host.firewall_v6) {
        return None;
    }
    let other = |fw: &Option<Firewall>| {
        fw.as_ref()
            .map(|f| f.otherwise.as_deref().cloned().unwrap_or_else(|| f.clone()))
    };
    let mut host = host.clone();
    host.firewall = other(&host.firewall);
    host.firewall_v6 = other(&host.firewall_v6);
    Some(host)
}

/// Findings of `found` that the other branch's run (`otherwise`) does not have:
/// they hold only if the conditions of the host's closing commands do.
pub fn judge(found: &mut [Diagnostic], otherwise: &[Diagnostic], host: &Host) {
    let closes: Vec<&ClosedIf> = [&host.firewall, &host.firewall_v6]
        .into_iter()
        .flatten()
        .flat_map(|f| f.closes_if.iter())
        .collect();
    let Some(first) = closes.first() else { return };
    for d in found.iter_mut() {
        let anyway = otherwise
            .iter()
            .any(|o| o.rule == d.rule && o.primary.span == d.primary.span);
        if !anyway {
            conditional(d, first, closes.len());
        }
    }
}

fn conditional(d: &mut Diagnostic, closing: &ClosedIf, count: usize) {
    let more = match count {
        1 => String::new(),
        n => format!(" (with {} more closing commands under conditions)", n - 1),
    };
    d.message = format!(
        "if `{}` holds when the script runs (the repository does not show whether it does), `{}` runs{more} and {}",
        closing.condition_text, closing.command_text, d.message
    );
    d.at_most = Some(
        d.at_most
            .map_or(Severity::Warning, |s| s.min(Severity::Warning)),
    );
    d.related
        .push(label(closing.condition, "this condition decides it"));
    d.related.push(label(
        closing.command,
        "closes the ports only when the condition holds",
    ));
}

fn label(span: crate::source::Span, message: &str) -> crate::diag::Label {
    crate::diag::Label {
        span,
        message: message.to_owned(),
    }
}
