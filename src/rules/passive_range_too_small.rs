//! `passive-range-too-small`: see rules/passive-range-too-small.toml.

use super::{Rule, passive_spans};
use crate::diag::Diagnostic;
use crate::facts::{FtpServer, Vocabulary};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;
use crate::source::Span;

pub struct PassiveRangeTooSmall;

impl Rule for PassiveRangeTooSmall {
    fn name(&self) -> &'static str {
        "passive-range-too-small"
    }

    fn check_host(&self, host: &Host, policy: &Policy, out: &mut Vec<Diagnostic>) {
        out.extend(
            host.servers
                .iter()
                .filter_map(|s| self.check_server(s, policy, host)),
        );
    }
}

/// How many sessions must fit, and who says so.
struct Demand {
    sessions: u32,
    source: String,
    span: Option<Span>,
    unlimited: bool,
}

fn demand(server: &FtpServer, policy: &Policy) -> Option<Demand> {
    if let Some(n) = policy.expected_sessions {
        return Some(Demand {
            sessions: n,
            source: format!("[policy] expected_sessions={n}"),
            span: None,
            unlimited: false,
        });
    }
    let name = server.vocabulary().max_sessions;
    let (sessions, source) = match server.max_sessions.value? {
        Some(n) => match server.max_sessions.span {
            Some(_) => (n, format!("{name}={n}")),
            None => (n, format!("{}'s default {name}={n}", server.vocabulary().product)),
        },
        // Unlimited: any range is "too small", but only one that cannot carry
        // even two sessions at once is worth saying so without a policy.
        None => (2, format!("{name} is unlimited")),
    };
    Some(Demand {
        sessions,
        source,
        span: server.max_sessions.span,
        unlimited: server.max_sessions.value == Some(None),
    })
}

/// Chance of a failed PASV we accept for the last session to arrive.
const ACCEPTED_FAILURE: f64 = 0.01;

/// Ports needed so that the last of `held + 1` data connections gets a port.
/// A server that tries `attempts` random ports fails with probability
/// (held/ports)^attempts, so it needs held / 0.01^(1/attempts) ports, not held + 1.
fn ports_needed(held: u64, attempts: Option<u32>) -> u64 {
    let enough_for_all = held + 1;
    match attempts {
        Some(a) if held > 0 => {
            let free_share = ACCEPTED_FAILURE.powf(1.0 / f64::from(a));
            enough_for_all.max((held as f64 / free_share).ceil() as u64)
        }
        _ => enough_for_all,
    }
}

/// Passive ports a server needs for the sessions it must carry, if known.
/// `None` when the server admits unlimited sessions and no policy says how many
/// to expect: no band is enough for them.
pub(crate) fn ports_for_sessions(server: &FtpServer, policy: &Policy) -> Option<u64> {
    let demand = demand(server, policy).filter(|d| !d.unlimited)?;
    let connections = u64::from(demand.sessions) * u64::from(policy.ports_per_session());
    Some(ports_needed(
        connections.saturating_sub(1),
        server.vocabulary().random_bind_attempts,
    ))
}

fn failure_chance(held: u64, ports: u64, attempts: u32) -> f64 {
    if held >= ports {
        return 1.0;
    }
    (held as f64 / ports as f64).powi(attempts as i32)
}

impl PassiveRangeTooSmall {
    fn check_server(&self, server: &FtpServer, policy: &Policy, host: &Host) -> Option<Diagnostic> {
        let ports = server.passive.ports()?;
        let demand = demand(server, policy)?;
        let per_session = policy.ports_per_session();
        let words = server.vocabulary();
        let connections = u64::from(demand.sessions) * u64::from(per_session);
        let needed = ports_needed(connections.saturating_sub(1), words.random_bind_attempts);
        let available = u64::from(ports.count());
        if available >= needed {
            return None;
        }
        let (primary, others) = passive_spans(server);
        let mut d = Diagnostic::new(
            self.name(),
            self.message(server, ports, &demand, per_session, connections),
            primary,
            format!("{available} port{}", if available == 1 { "" } else { "s" }),
        );
        for span in others {
            d = d.with_related(span, "range set here");
        }
        if let Some(span) = demand.span {
            d = d.with_related(span, format!("admits {} sessions", demand.sessions));
        }
        let d = d.with_help(help(&words, ports, &demand, needed, per_session));
        Some(match widened_fix(server, ports, &demand, needed, host) {
            Some((title, edits)) => d.with_unsafe_fix(title, edits),
            None => d,
        })
    }

    fn message(
        &self,
        server: &FtpServer,
        ports: &PortSet,
        demand: &Demand,
        per_session: u32,
        connections: u64,
    ) -> String {
        let available = u64::from(ports.count());
        if demand.unlimited {
            return format!(
                "passive range {} has {available} port{}: one data connection at a time, while {}",
                ports.summary(4),
                if available == 1 { "" } else { "s" },
                demand.source
            );
        }
        let mut message = format!(
            "passive range {} has {available} port{} for up to {} concurrent sessions ({}){}",
            ports.summary(4),
            if available == 1 { "" } else { "s" },
            demand.sessions,
            demand.source,
            if per_session > 1 { format!(" at {per_session} ports each") } else { String::new() },
        );
        let words = server.vocabulary();
        if let (Some(attempts), true) = (words.random_bind_attempts, available >= connections) {
            let held = connections - 1;
            message.push_str(&format!(
                ": {} tries {attempts} random ports per PASV, so with {held} busy the last session's PASV fails {:.0}% of the time",
                words.product,
                100.0 * failure_chance(held, available, attempts)
            ));
        }
        if server.falls_back_outside_range {
            let (lo, hi) = crate::facts::EPHEMERAL_PORTS;
            message.push_str(&format!(
                "; when every port is busy {} does not refuse PASV but binds a kernel-chosen port outside the range ({lo}-{hi}), which a firewall opening only the range blocks",
                words.product
            ));
        }
        message
    }
}

/// A fix that can be followed: a range the product accepts, or, when none is wide
/// enough, the session limit to set instead.
fn help(
    words: &Vocabulary,
    ports: &PortSet,
    demand: &Demand,
    needed: u64,
    per_session: u32,
) -> String {
    let attempts = words.random_bind_attempts;
    let available = u64::from(ports.count());
    let fits_now = fitting_sessions(available, per_session, attempts);
    let (allowed_lo, allowed_hi) = words.ports_allowed;
    let widest = u64::from(allowed_hi - allowed_lo) + 1;
    if demand.unlimited {
        return format!(
            "no range carries unlimited sessions: set {} to the sessions this host must carry and give the range that many ports{}",
            words.max_sessions,
            per_port_note(per_session)
        );
    }
    if needed > widest {
        let fits_widest = fitting_sessions(widest, per_session, attempts);
        return format!(
            "no passive range {} accepts can carry {} sessions ({needed} ports needed, {allowed_lo}-{allowed_hi} has {widest}): lower {} to {fits_widest} with {} open in the firewall, or to {fits_now} for the current range",
            words.product,
            demand.sessions,
            words.max_sessions,
            (words.range)(allowed_lo, allowed_hi),
        );
    }
    let (lo, hi) = widened(ports.first().unwrap_or(allowed_lo), needed, words.ports_allowed);
    format!(
        "widen the range to at least {needed} ports (e.g. set {}) and open them in the firewall, or lower {} to {fits_now}",
        (words.range)(lo, hi),
        words.max_sessions,
    )
}

/// The range of the help written into the server's own setting, where a range
/// the product accepts carries the sessions and the host's firewall already
/// opens all of it to everyone: a wider range the firewall closed would only
/// trade this finding for `passive-ports-blocked` (whose fix narrows it back).
/// Unsafe all the same: the server then takes more ports.
fn widened_fix(
    server: &FtpServer,
    ports: &PortSet,
    demand: &Demand,
    needed: u64,
    host: &Host,
) -> Option<(String, Vec<(crate::source::Span, String)>)> {
    let (allowed_lo, allowed_hi) = server.vocabulary().ports_allowed;
    if demand.unlimited || needed > u64::from(allowed_hi - allowed_lo) + 1 {
        return None;
    }
    let (lo, hi) = widened(ports.first().unwrap_or(allowed_lo), needed, (allowed_lo, allowed_hi));
    let range = PortSet::range(lo, hi);
    let firewalls = [&host.firewall, &host.firewall_v6];
    let open = firewalls.iter().any(|f| f.is_some())
        && firewalls
            .iter()
            .filter_map(|f| f.as_ref())
            .all(|f| range.is_subset(&f.open_to_all));
    if !open {
        return None;
    }
    let edits = server.range_setting.as_ref()?.rewrite(lo, hi)?;
    Some((format!("hand out {lo}-{hi} ({needed} ports)"), edits))
}

fn per_port_note(per_session: u32) -> String {
    if per_session > 1 {
        format!(" ({per_session} per session)")
    } else {
        String::new()
    }
}

/// `needed` ports from `lo`, moved down where they would pass the top of what the
/// product accepts (`needed` fits in `allowed`).
fn widened(lo: u16, needed: u64, (allowed_lo, allowed_hi): (u16, u16)) -> (u16, u16) {
    let top = u64::from(allowed_hi);
    let lo = u64::from(lo.max(allowed_lo)).min(top + 1 - needed);
    (lo as u16, (lo + needed - 1) as u16)
}

/// The most sessions `ports` carries within the accepted failure chance.
fn fitting_sessions(ports: u64, per_session: u32, attempts: Option<u32>) -> u64 {
    let per = u64::from(per_session);
    let mut sessions = ports / per;
    while sessions > 0 && ports_needed(sessions * per - 1, attempts) > ports {
        sessions -= 1;
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_choice_needs_headroom() {
        assert_eq!(ports_needed(59, None), 60);
        // 60 sessions on vsftpd: 59 held, (59/n)^9 <= 1% needs n >= 99.
        assert_eq!(ports_needed(59, Some(9)), 99);
        assert!(failure_chance(59, 60, 9) > 0.85);
        assert!(failure_chance(59, 99, 9) <= 0.01);
        assert_eq!(ports_needed(0, Some(9)), 1);
        assert_eq!(fitting_sessions(99, 1, Some(9)), 60);
        assert_eq!(fitting_sessions(6, 1, None), 6);
    }

    #[test]
    fn a_widened_range_stays_within_what_the_product_accepts() {
        assert_eq!(widened(9981, 100, (1024, 65535)), (9981, 10080));
        assert_eq!(widened(65000, 3335, (1024, 65535)), (62201, 65535));
        assert_eq!(widened(1000, 10, (1025, 65535)), (1025, 1034));
        assert_eq!(widened(5001, 60535, (5001, 65535)), (5001, 65535));
    }
}
