//! `ip6tables-icmpv6-dropped`: see rules/ip6tables-icmpv6-dropped.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{Families, Family, FtpServer, NdBlocked, NdPacket};
use crate::hosts::Host;
use crate::policy::Policy;

pub struct Ip6tablesIcmpv6Dropped;

impl Rule for Ip6tablesIcmpv6Dropped {
    fn name(&self) -> &'static str {
        "ip6tables-icmpv6-dropped"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(nd) = host
            .firewall_for(Family::V6)
            .and_then(|fw| fw.nd_blocked.as_ref())
        else {
            return;
        };
        // nftables-icmpv6-dropped says it for nftables.
        if nd.nftables.is_some() {
            return;
        }
        for server in ipv6_servers(host) {
            out.push(self.report(nd, server));
        }
    }
}

/// The host's FTP servers that take IPv6 clients (vsftpd `listen_ipv6=YES`,
/// ProFTPD and Pure-FTPd by default); one that listens on IPv4 only (vsftpd
/// `listen=YES`, measured with `ss -ltn`: `0.0.0.0:21` alone) loses nothing
/// when IPv6 is unreachable.
pub fn ipv6_servers(host: &Host) -> Vec<&FtpServer> {
    host.servers
        .iter()
        .filter(|s| matches!(s.families.value, Some(Families::Ipv6 | Families::Both)))
        .collect()
}

impl Ip6tablesIcmpv6Dropped {
    fn report(&self, nd: &NdBlocked, server: &FtpServer) -> Diagnostic {
        let product = server.vocabulary().product;
        let mut d = Diagnostic::new(self.name(), message(nd, server), nd.by, label(nd));
        if let Some(meant) = nd.meant {
            d = d.with_related(
                meant,
                "`-p icmp` is ICMP for IPv4 (protocol 1): it admits no ICMPv6 (protocol 58)",
            );
        }
        if let Some(span) = server.families.span {
            d = d.with_related(span, format!("{product} listens for IPv6 clients here"));
        }
        let d = d.with_help(help(nd));
        match &nd.insert {
            // Unsafe: every ICMPv6 type gets in, router advertisements included.
            Some(edit) => d.with_unsafe_fix(
                "accept ICMPv6 before the rule that drops it",
                vec![edit.clone()],
            ),
            None => d,
        }
    }
}

/// The ports a client would use, in numbers.
fn reached(server: &FtpServer, conjunction: &str) -> String {
    let control = match server.control_port.value {
        Some(port) => format!("control port {port}"),
        None => "the control port".to_owned(),
    };
    match server.passive.ports() {
        Some(ports) if !ports.is_empty() => {
            format!("{control} {conjunction} passive ports {}", ports.summary(6))
        }
        _ => control,
    }
}

/// What users see, then why, in numbers.
fn message(nd: &NdBlocked, server: &FtpServer) -> String {
    let drops = what_drops(nd);
    match nd.packet {
        NdPacket::SolicitIn | NdPacket::AdvertOut => format!(
            "IPv6 clients cannot reach this host at all, not even {}: {drops}, so no client or router learns the host's link address",
            reached(server, "or")
        ),
        NdPacket::SolicitOut | NdPacket::AdvertIn => format!(
            "IPv6 clients reach this host only briefly: within a minute, when the host re-checks the link address it sends to, {} stop answering: {drops}",
            reached(server, "and")
        ),
    }
}

fn packet(nd: &NdBlocked) -> &'static str {
    match nd.packet {
        NdPacket::SolicitIn => "neighbour solicitation (type 135) arriving",
        NdPacket::AdvertOut => "neighbour advertisement (type 136) the host answers with",
        NdPacket::SolicitOut => "neighbour solicitation (type 135) the host sends",
        NdPacket::AdvertIn => "neighbour advertisement (type 136) arriving",
    }
}

fn what_drops(nd: &NdBlocked) -> String {
    let (how, tail) = match nd.policy {
        true => ("drops by its DROP policy", "as no rule accepts one"),
        false => ("drops at this rule", "before anything accepts one"),
    };
    format!(
        "the {} chain {how} every ICMPv6 {}, {tail}",
        nd.chain,
        packet(nd)
    )
}

fn label(nd: &NdBlocked) -> String {
    let what = match nd.packet {
        NdPacket::SolicitIn => "neighbour solicitations (ICMPv6 type 135) arriving",
        NdPacket::AdvertOut => "the host's neighbour advertisements (ICMPv6 type 136)",
        NdPacket::SolicitOut => "the host's neighbour solicitations (ICMPv6 type 135)",
        NdPacket::AdvertIn => "neighbour advertisements (ICMPv6 type 136) arriving",
    };
    match nd.policy {
        true => format!("this policy drops {what}"),
        false => format!("drops {what}"),
    }
}

fn help(nd: &NdBlocked) -> String {
    let add = if nd.policy {
        format!("add `{}` to the chain", nd.accept_line)
    } else {
        format!("add `{}` before this rule", nd.accept_line)
    };
    match nd.meant {
        Some(_) => format!(
            "{add}, or make the `-p icmp` accept `-p ipv6-icmp` (ICMPv6 carries neighbour discovery)"
        ),
        None => format!("{add} (ICMPv6 carries neighbour discovery)"),
    }
}
