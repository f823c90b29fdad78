//! `passive-ports-blocked`: see rules/passive-ports-blocked.toml.

use super::{Rule, audience, by_the_firewall, closing_label, families_to_check, passive_spans};
use crate::diag::{Diagnostic, Severity};
use crate::facts::{
    ControlTls, Family, Firewall, FtpServer, Passive, SourceClass, UserKind, Verdict,
};
use crate::helper::{self, Admission, Mismatch};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct PassivePortsBlocked;

impl Rule for PassivePortsBlocked {
    fn name(&self) -> &'static str {
        "passive-ports-blocked"
    }

    fn check_host(&self, host: &Host, policy: &Policy, out: &mut Vec<Diagnostic>) {
        for server in &host.servers {
            let families = families_to_check(host, server);
            let named = families.len() > 1;
            for (family, fw) in families {
                let admission = helper::admission(server, fw, Some(family), &host.platform);
                self.check_family(server, fw, (admission, named.then_some(family)), policy, out);
            }
        }
    }
}

/// Clients of one family whose control connections reach the server but whose data
/// connections are closed on the same ports.
struct Blocked<'a> {
    ports: PortSet,
    classes: Vec<&'a SourceClass>,
}

impl PassivePortsBlocked {
    /// `seen`: what the firewall's FTP helper does for the server, and the family
    /// to name.
    fn check_family(
        &self,
        server: &FtpServer,
        fw: &Firewall,
        seen: (Admission, Option<Family>),
        policy: &Policy,
        out: &mut Vec<Diagnostic>,
    ) {
        let (admission, family) = seen;
        let Some(ports) = server.passive.ports() else {
            return;
        };
        let ports = ports.intersection(&PortSet::connectable());
        let Some(control) = server.control_port.value else {
            return;
        };
        let tls = TlsNeeds::of(server);
        let helper = matches!(admission, Admission::Every(_));
        if helper && tls.required.is_empty() && tls.optional.is_empty() {
            return;
        }
        let classes = fw.source_classes();
        let all_classes = classes.len();
        let undecided: Vec<_> = fw.uncertain.iter().chain(&fw.conditions).cloned().collect();
        for mut blocked in blocked_by_class(&classes, &ports, control) {
            let (maybe, why) = blocked.classes[0].maybe_opened(&blocked.ports, &undecided);
            if maybe == blocked.ports {
                let audience_of = (all_classes, family);
                out.push(self.maybe_blocked(server, fw, &ports, &blocked, &why, audience_of));
                continue;
            }
            // Ports a rule may open are not said to be blocked.
            blocked.ports = blocked.ports.difference(&maybe);
            let mut d = self.report(server, fw, &ports, &blocked, (all_classes, family), policy);
            if helper {
                d = tls.explain(d, fw.dialect);
            }
            if let Admission::OtherAddress(m) = &admission {
                d = explain_other_address(d, m, fw);
            }
            out.push(d);
        }
    }

    /// Every blocked port is one a rule may open that the firewall's reader could
    /// not read whole (`--dport $FTP_PASV` with the variable unset): a warning that
    /// says what was not known.
    fn maybe_blocked(
        &self,
        server: &FtpServer,
        fw: &Firewall,
        ports: &PortSet,
        blocked: &Blocked,
        why: &[&crate::facts::Uncertainty],
        audience_of: (usize, Option<Family>),
    ) -> Diagnostic {
        let words = server.vocabulary();
        let shut = &blocked.ports;
        let who = audience(audience_of.1, &blocked.classes, audience_of.0);
        let mut what: Vec<&str> = why.iter().take(2).map(|u| u.what.as_str()).collect();
        if why.len() > 2 {
            what.push("…");
        }
        let what = what.join("; ");
        let message = format!(
            "passive ports {} may be blocked {}{who}: only a rule whose condition pasvlint cannot decide may open them ({what})",
            shut.summary(6),
            by_the_firewall(fw),
        );
        let (primary, others) = passive_spans(server);
        let mut d = Diagnostic::new(
            self.name(),
            message,
            primary,
            format!("{} hands out {}", words.product, ports.summary(4)),
        )
        .at_most(Severity::Warning);
        for span in others {
            d = d.with_related(span, "range set here");
        }
        for u in why.iter().take(3) {
            d = d.with_related(u.span, "not known here");
        }
        d.with_help(format!(
            "make sure the rule opens {}/tcp ({}), or open the range with literal ports",
            shut.summary(6),
            where_values_come_from(fw.dialect)
        ))
    }

    /// `audience_of`: how many classes the firewall has, and the family to name.
    fn report(
        &self,
        server: &FtpServer,
        fw: &Firewall,
        ports: &PortSet,
        blocked: &Blocked,
        audience_of: (usize, Option<Family>),
        policy: &Policy,
    ) -> Diagnostic {
        let (all_classes, family) = audience_of;
        let words = server.vocabulary();
        let who = audience(family, &blocked.classes, all_classes);
        let by = by_the_firewall(fw);
        let shut = &blocked.ports;
        let message = if shut == ports {
            format!(
                "all {} passive ports {} are blocked {by}{who}",
                ports.count(),
                ports.summary(6)
            )
        } else {
            format!(
                "passive ports {} are blocked {by}{who} ({} of the {} ports {} hands out)",
                shut.summary(6),
                shut.count(),
                ports.count(),
                words.product
            )
        };
        let elsewhere = super::open_in_unassumed_profiles(fw, shut);
        let message = match elsewhere.as_slice() {
            [] => message,
            [one] => format!(
                "{message}, which holds only when the host is on a public network (the {} profile opens them)",
                one.name()
            ),
            profiles => format!(
                "{message}, which holds only when the host is on a public network (the {} profiles open them)",
                profiles.iter().map(|p| p.name()).collect::<Vec<_>>().join(" and ")
            ),
        };
        let (primary, others) = passive_spans(server);
        let mut d = Diagnostic::new(
            self.name(),
            message,
            primary,
            format!("{} hands out {}", words.product, ports.summary(4)),
        );
        if !elsewhere.is_empty() {
            // The public profile is assumed: no file says which network the host is on.
            d = d.at_most(crate::diag::Severity::Warning);
        }
        for span in others {
            d = d.with_related(span, "range set here");
        }
        let class = &blocked.classes[0];
        for blocker in class.blockers(shut).take(3) {
            if let Some(span) = blocker.span {
                d = d.with_related(span, closing_label(blocker, shut));
            }
        }
        let later_only = class.blockers(shut).all(|b| b.later_packets);
        if later_only {
            for opener in class.openers(shut).take(2) {
                if let Some(span) = opener.span {
                    let hit = opener.ports.intersection(shut).summary(4);
                    d = d.with_related(span, format!("lets in only the SYN of connections to {hit}"));
                }
            }
        }
        let open_part = ports.difference(shut);
        for opener in class.openers(&open_part).take(2) {
            if let Some(span) = opener.span {
                let opened = opener.ports.intersection(ports);
                // A layer that opens the whole range is not what narrows it.
                let only = if &opened == ports { "" } else { " only" };
                d = d.with_related(span, format!("opens{only} {}", opened.summary(4)));
                if let Some((_, data)) = fw.port_data.iter().find(|(rule, _)| *rule == span) {
                    d = d.with_related(*data, "the ports it opens, as the data gives them");
                }
            }
        }
        let disabled: Vec<&(crate::source::Span, PortSet)> = fw
            .disabled
            .iter()
            .filter(|(_, p)| !p.intersection(shut).is_empty())
            .take(2)
            .collect();
        for (span, opens) in &disabled {
            let would = opens.intersection(shut).summary(4);
            d = d.with_related(*span, format!("would open {would}, but is disabled"));
        }
        if later_only {
            return d.with_help(later_packets_help(fw.dialect, shut));
        }
        let d = match disabled.is_empty() {
            true => d.with_help(help(server, fw, shut, &open_part, policy)),
            false => d.with_help(format!(
                "enable the rule that opens {} (netsh ... set rule name=\"…\" new enable=yes, Enable-NetFirewallRule, or -Enabled True where it is made)",
                shut.summary(6)
            )),
        };
        let d = match narrowed_range_fix(server, &open_part, policy) {
            Some((title, edits)) => d.with_unsafe_fix(title, edits),
            None => d,
        };
        d.with_fixes(crate::firewall_fix::widen(fw, class, ports, shut))
    }
}

/// The server's range rewritten to the widest range the firewall opens (and the
/// daemon accepts): unsafe, since the server then carries fewer sessions.
fn narrowed_range_fix(
    server: &FtpServer,
    open_part: &PortSet,
    policy: &Policy,
) -> Option<(String, Vec<(crate::source::Span, String)>)> {
    let (lo, hi) = movable_range(server, open_part, policy)?;
    let edits = server.range_setting.as_ref()?.rewrite(lo, hi)?;
    Some((format!("hand out only the open ports {lo}-{hi}"), edits))
}

/// The widest range of `open_part` the server can be set to hand out, when it
/// is worth proposing: the server's range is its default (any range the
/// firewall opens is then the fix), or the new one keeps at least a quarter of
/// the server's ports, or as many as the sessions the host must carry need (a
/// 2,101-port range cut down to the one port its firewall happens to open is no
/// fix).
fn movable_range(server: &FtpServer, open_part: &PortSet, policy: &Policy) -> Option<(u16, u16)> {
    let (min, max) = server.vocabulary().ports_allowed;
    let (lo, hi) = open_part
        .intersection(&PortSet::range(min, max))
        .widest_range()?;
    let (served, deliberate) = match &server.passive {
        Passive::Enabled {
            ports, deliberate, ..
        } => (u64::from(ports.count()), *deliberate),
        _ => (0, false),
    };
    let kept = u64::from(hi - lo) + 1;
    let carries = super::passive_range_too_small::ports_for_sessions(server, policy)
        .is_some_and(|needed| kept >= needed);
    (!deliberate || 4 * kept >= served || carries).then_some((lo, hi))
}

/// For every class of clients that reaches the control port, the passive ports it
/// cannot reach; classes missing the same ports are reported together.
fn blocked_by_class<'a>(
    classes: &'a [SourceClass],
    ports: &PortSet,
    control: u16,
) -> Vec<Blocked<'a>> {
    let mut out: Vec<Blocked> = Vec::new();
    for class in classes {
        let reachable = if class.open.contains(control) {
            class.open.clone()
        } else if class.open_to_some.contains(control) {
            class.open_to_any()
        } else {
            continue;
        };
        let shut = ports.difference(&reachable);
        if shut.is_empty() {
            continue;
        }
        match out.iter_mut().find(|b| b.ports == shut) {
            Some(same) => same.classes.push(class),
            None => out.push(Blocked {
                ports: shut,
                classes: vec![class],
            }),
        }
    }
    out
}

/// Which user classes put the control channel under TLS, where an FTP helper
/// can no longer read the PASV reply.
struct TlsNeeds {
    required: Vec<UserKind>,
    optional: Vec<UserKind>,
}

impl TlsNeeds {
    fn of(server: &FtpServer) -> TlsNeeds {
        let mut needs = TlsNeeds {
            required: Vec::new(),
            optional: Vec::new(),
        };
        let classes: Vec<(UserKind, ControlTls)> = if server.user_classes.is_empty() {
            vec![(UserKind::All, server.tls.value)]
        } else {
            server.user_classes.iter().map(|c| (c.kind, c.tls)).collect()
        };
        for (kind, tls) in classes {
            match tls {
                ControlTls::Required => needs.required.push(kind),
                ControlTls::Optional => needs.optional.push(kind),
                ControlTls::Never => {}
            }
        }
        needs
    }

    /// The helper admits the plain sessions' data connections: say whose are blocked.
    fn explain(&self, d: Diagnostic, dialect: crate::facts::Dialect) -> Diagnostic {
        let blind = if dialect == crate::facts::Dialect::WindowsFirewall {
            "Windows Firewall's stateful FTP filter cannot read PASV replies on a TLS control channel"
        } else {
            "the FTP helper cannot read PASV replies on a TLS control channel"
        };
        let message = if !self.required.is_empty() {
            match users(&self.required) {
                Some(who) => format!("{} for {who}, who must use TLS: {blind}", d.message),
                None => format!("{}: {blind}", d.message),
            }
        } else {
            let who = users(&self.optional).unwrap_or_else(|| "clients".into());
            format!(
                "{} for sessions that use TLS ({who} may choose it): {blind}",
                d.message
            )
        };
        let d = Diagnostic { message, ..d };
        if self.required.is_empty() {
            d.at_most(Severity::Warning)
        } else {
            d
        }
    }
}

/// The helper is attached, but the PASV reply names an address it does not
/// take for the server's: it records no expectation, so only what is opened
/// explicitly gets in. EPSV replies name no address and are recorded.
fn explain_other_address(d: Diagnostic, m: &Mismatch, fw: &Firewall) -> Diagnostic {
    let announced = &m.announced;
    let why = match (&m.loose, &m.listen) {
        (Some(_), _) => format!(
            "with loose=1 the FTP helper expects each data connection at {announced}, the address PASV replies name, so it admits one only where it reaches this host still addressed to {announced} (a NAT router in front rewrites it to the host's own address)"
        ),
        (None, Some(helper::Bound { address: own, .. })) => format!(
            "the FTP helper records no data connection for a PASV reply naming {announced} on a control connection to {own} (nf_conntrack_ftp compares the two, loose=0 by default)"
        ),
        (None, None) => format!(
            "the FTP helper records no data connection for a PASV reply naming {announced} unless clients connect to {announced} itself (nf_conntrack_ftp compares the two, loose=0 by default; behind NAT it sees the host's private address)"
        ),
    };
    let message = format!(
        "{}: {why}; EPSV clients, whose reply names no address, get in",
        d.message
    );
    let help = d.help.as_ref().map(|h| {
        format!("{h} (the helper cannot admit data connections a PASV reply announces at {announced})")
    });
    let mut d = Diagnostic { message, help, ..d };
    if let Some(span) = m.announced_at {
        d = d.with_related(span, format!("PASV replies name {announced}"));
    }
    if let Some(helper::Bound { address, at: Some(span) }) = &m.listen {
        d = d.with_related(*span, format!("clients connect to {address}"));
    }
    d = d.with_related(m.helper.span, "FTP helper attached to the control connections");
    if let Some(span) = m.loose {
        d = d.with_related(span, "loose=1");
    }
    if let Some(&accept) = fw.related_accepts.first() {
        d = d.with_related(accept, "admits RELATED connections");
    }
    if m.certain() { d } else { d.at_most(Severity::Warning) }
}

/// "local users", "anonymous and local users"; `None` when the server does not
/// tell its users apart.
fn users(kinds: &[UserKind]) -> Option<String> {
    if kinds.contains(&UserKind::All) || kinds.is_empty() {
        return None;
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Some(format!("{} users", names.join(" and ")))
}

/// Every blocker stops the packets after the SYN: what admits them.
fn later_packets_help(dialect: crate::facts::Dialect, blocked: &PortSet) -> String {
    let (rule, state) = match dialect {
        crate::facts::Dialect::Nftables => ("`ct state established,related accept`", "`established` to the `ct state` set"),
        _ => ("`-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`", "ESTABLISHED to the state list"),
    };
    format!(
        "accept the connections' later packets before the drop ({rule}), or add {state} of the rule that opens {}: a data connection needs more than its SYN",
        blocked.summary(6)
    )
}

fn help(
    server: &FtpServer,
    fw: &Firewall,
    blocked: &PortSet,
    open_part: &PortSet,
    policy: &Policy,
) -> String {
    let forwarded = fw
        .decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Forward)
        .fold(PortSet::empty(), |all, d| all.union(&d.ports))
        .intersection(blocked);
    // Windows: a block rule wins over every allow rule, so opening cannot help.
    let windows_blocks = fw
        .own_layers()
        .iter()
        .filter(|l| l.kind == crate::facts::Dialect::WindowsFirewall.as_str())
        .flat_map(|l| l.decisions.iter())
        .filter(|d| !d.is_policy && matches!(d.verdict, Verdict::Drop | Verdict::Reject))
        .fold(PortSet::empty(), |all, d| all.union(&d.ports))
        .intersection(blocked);
    let open = match &fw.profiles {
        _ if !windows_blocks.is_empty() => {
            format!(
                "take {}/tcp out of the block rule (in Windows Firewall a block rule beats every allow rule, whatever their order)",
                windows_blocks.summary(6)
            )
        }
        _ if !forwarded.is_empty() => format!(
            "take {}/tcp out of the DNAT rule that sends it to another address (opening the port cannot help: the connection never reaches this host)",
            forwarded.summary(6)
        ),
        Some(p) if p.worth_naming() => format!(
            "open {}/tcp in the {} profile too (an advfirewall rule with profile=any)",
            blocked.summary(6),
            p.shown().name()
        ),
        _ if fw.dialect == crate::facts::Dialect::DockerCompose => format!(
            "publish {} on the same host port numbers under `ports:` (\"{}\")",
            blocked.summary(6),
            same_number_mappings(blocked)
        ),
        _ if fw.own_layers().iter().any(|l| super::is_cloud_layer(l.kind)) => {
            super::open_in_layers(fw, blocked)
        }
        _ if fw.dialect == crate::facts::Dialect::Kubernetes => format!(
            "expose {} on the same numbers: a Service port each with port = targetPort = nodePort (NodePort allows only 30000-32767; a Service cannot name a range), or hostPort = containerPort",
            blocked.summary(6)
        ),
        _ => format!("open {}/tcp in the firewall", blocked.summary(6)),
    };
    match movable_range(server, open_part, policy) {
        Some((lo, hi)) => format!(
            "{open}, or set {} so the server hands out only open ports",
            range_in_own_words(server, lo, hi)
        ),
        None => open,
    }
}

/// The range as the server's config writes it; a pure-ftpd range written
/// `first:last` is a `-p` flag of a command line (its config files write
/// `PassivePortRange first last`).
fn range_in_own_words(server: &FtpServer, lo: u16, hi: u16) -> String {
    let flag = server.server == "pure-ftpd"
        && server.range_setting.as_ref().is_some_and(|r| {
            r.edits
                .iter()
                .any(|(_, _, part)| *part == crate::facts::RangePart::Both(":"))
        });
    if flag {
        return format!("-p {lo}:{hi}");
    }
    (server.vocabulary().range)(lo, hi)
}

/// `"21106-21110:21106-21110", "21120:21120"`: the compose short syntax that
/// publishes each range on its own numbers.
fn same_number_mappings(ports: &PortSet) -> String {
    let each: Vec<String> = ports
        .ranges()
        .iter()
        .take(4)
        .map(|&(lo, hi)| {
            if lo == hi {
                format!("{lo}:{lo}")
            } else {
                format!("{lo}-{hi}:{lo}-{hi}")
            }
        })
        .collect();
    each.join("\", \"")
}

/// How a user gives pasvlint the value it could not read, in the firewall's own terms.
fn where_values_come_from(dialect: crate::facts::Dialect) -> &'static str {
    use crate::facts::Dialect::*;
    match dialect {
        AwsSecurityGroup | AzureNsg | GcpFirewall => {
            "give the variable a `default` or a value in terraform.tfvars"
        }
        PuppetFirewall => "give the parameter a value in the manifest or its Hiera data",
        WindowsFirewall => "set the value in the script, or keep the rules it enables in the repository",
        _ => "set the value in the script, or keep the file it sources beside it",
    }
}
