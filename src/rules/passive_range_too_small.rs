//! `passive-range-too-small`: see rules/passive-range-too-small.toml.

use super::{Rule, passive_spans};
use crate::diag::Diagnostic;
use crate::facts::FtpServer;
use crate::hosts::Host;
use crate::policy::Policy;
use crate::source::Span;

pub struct PassiveRangeTooSmall;

impl Rule for PassiveRangeTooSmall {
    fn name(&self) -> &'static str {
        "passive-range-too-small"
    }

    fn check_host(&self, host: &Host, policy: &Policy, out: &mut Vec<Diagnostic>) {
        out.extend(host.servers.iter().filter_map(|s| self.check_server(s, policy)));
    }
}

/// How many sessions must fit, and who says so.
struct Demand {
    sessions: u32,
    source: String,
    span: Option<Span>,
}

fn demand(server: &FtpServer, policy: &Policy) -> Option<Demand> {
    if let Some(n) = policy.expected_sessions {
        return Some(Demand {
            sessions: n,
            source: format!("[policy] expected_sessions={n}"),
            span: None,
        });
    }
    let n = server.max_sessions.value??;
    let name = server.vocabulary().max_sessions;
    let source = match server.max_sessions.span {
        Some(_) => format!("{name}={n}"),
        None => format!("{}'s default {name}={n}", server.vocabulary().product),
    };
    Some(Demand {
        sessions: n,
        source,
        span: server.max_sessions.span,
    })
}

impl PassiveRangeTooSmall {
    fn check_server(&self, server: &FtpServer, policy: &Policy) -> Option<Diagnostic> {
        let ports = server.passive.ports()?;
        let demand = demand(server, policy)?;
        let per_session = policy.ports_per_session();
        let needed = u64::from(demand.sessions) * u64::from(per_session);
        let available = u64::from(ports.count());
        if available >= needed {
            return None;
        }
        let words = server.vocabulary();
        let (primary, others) = passive_spans(server);
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "passive range {} has {available} port{} for up to {} concurrent sessions ({}){}",
                ports.summary(4),
                if available == 1 { "" } else { "s" },
                demand.sessions,
                demand.source,
                if per_session > 1 { format!(" at {per_session} ports each") } else { String::new() },
            ),
            primary,
            format!("{available} port{}", if available == 1 { "" } else { "s" }),
        );
        for span in others {
            d = d.with_related(span, "range set here");
        }
        if let Some(span) = demand.span {
            d = d.with_related(span, format!("admits {} sessions", demand.sessions));
        }
        let lo = ports.first().unwrap_or(1024);
        let hi = (u64::from(lo) + needed - 1).min(65535) as u16;
        let fits = available / u64::from(per_session);
        Some(d.with_help(format!(
            "widen the range to at least {needed} ports (e.g. set {}) and open them in the firewall, or lower {} to {fits}",
            (words.range)(lo, hi),
            words.max_sessions,
        )))
    }
}
