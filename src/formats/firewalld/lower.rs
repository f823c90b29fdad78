//! A firewalld configuration as the iptables restore text that decides what its
//! nftables backend (firewalld 1.3.3, measured with `nft list ruleset`) decides
//! for inbound TCP:
//!
//! ```text
//! filter_INPUT:       ct state established,related accept; ct status dnat accept;
//!                     iifname lo accept;
//!                     ct state invalid drop; jump filter_INPUT_ZONES; reject
//! filter_INPUT_ZONES: ip saddr S goto filter_IN_<zone>   (source zones, by zone name)
//!                     iifname I goto filter_IN_<zone>    (interface zones)
//!                     goto filter_IN_<default zone>
//! filter_IN_<zone>:   jump _pre, _log, _deny, _allow, _post; then the target
//!                     (default: ICMP accepted, the rest rejected)
//! ```
//! Rich rules with a negative priority go to `_pre`, positive to `_post`, both in
//! priority order; priority 0 accepts to `_allow` and drops or rejects to `_deny`.
//! Services and ports accept in `_allow`; a service with the `ftp` helper sets it
//! there for its ports (here: the raw table, dispatched the same way). Forward-ports
//! are the nat table (see `forward`).

use super::shipped;
use super::zone::{Named, RichRule, Service, Target, Verdict, What, Zone};
use crate::addrset::Family;
use crate::source::Span;

/// Everything the lowering reads.
#[derive(Clone, Debug)]
pub struct Config {
    pub zones: Vec<Zone>,
    /// Service files of the host; each overrides the shipped one of its name.
    pub services: Vec<Service>,
    pub default_zone: String,
    /// `DefaultZone=` (or the anchor when firewalld.conf does not set it).
    pub default_span: Span,
    /// Where built-in lines point (the bundle's primary file).
    pub anchor: Span,
}

/// A service's TCP ports and whether it assigns the ftp helper.
pub struct Resolved {
    pub tcp: Vec<(u16, u16)>,
    pub helper: bool,
}

pub(super) type Lines = Vec<(String, Span)>;

impl Config {
    pub fn service(&self, name: &str) -> Option<Resolved> {
        self.service_depth(name, 0)
    }

    fn service_depth(&self, name: &str, depth: usize) -> Option<Resolved> {
        let Some(s) = self.services.iter().find(|s| s.name == name) else {
            let (tcp, helper) = shipped::service(name)?;
            return Some(Resolved { tcp, helper });
        };
        let mut out = Resolved {
            tcp: s
                .ports
                .iter()
                .filter(|p| p.protocol == "tcp")
                .map(|p| (p.lo, p.hi))
                .collect(),
            helper: s.helpers.iter().any(|h| h.name == "ftp"),
        };
        if depth < 8 {
            for inc in &s.includes {
                if let Some(r) = self.service_depth(&inc.name, depth + 1) {
                    out.tcp.extend(r.tcp);
                    out.helper |= r.helper;
                }
            }
        }
        Some(out)
    }

    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }

    /// Where firewalld's own INPUT rules (the RELATED accept, the final reject) are
    /// shown: the default zone's file, which every unbound packet goes through, or
    /// the `DefaultZone=` that names a shipped zone.
    fn built_in_span(&self) -> Span {
        self.zone(&self.default_zone)
            .map(|z| z.span)
            .filter(|&s| s != self.anchor)
            .unwrap_or(self.default_span)
    }

    /// Whether firewalld dispatches packets to `zone` at all.
    pub fn is_active(&self, zone: &Zone) -> bool {
        zone.name == self.default_zone || !zone.sources.is_empty() || !zone.interfaces.is_empty()
    }

    /// The restore text for `family`, each line with the element it stands for.
    pub fn lines(&self, family: Family) -> Lines {
        let a = self.anchor;
        let mut zones: Vec<&Zone> = self.zones.iter().filter(|z| self.is_active(z)).collect();
        zones.sort_by(|x, y| x.name.cmp(&y.name));
        let mut out: Lines = vec![("*raw".into(), a), (":PREROUTING ACCEPT [0:0]".into(), a)];
        out.push((":FWD_ZONES - [0:0]".into(), a));
        for z in &zones {
            out.push((format!(":H_{} - [0:0]", chain(&z.name)), z.span));
        }
        out.push(("-A PREROUTING -j FWD_ZONES".into(), a));
        self.dispatch(&mut out, &zones, family, "H_");
        for z in &zones {
            self.helpers(&mut out, z, family);
        }
        out.push(("COMMIT".into(), a));
        if self.forwards(&zones, family) {
            self.nat_lines(&mut out, &zones, family);
        }
        out.push(("*filter".into(), a));
        out.push((":INPUT DROP [0:0]".into(), a));
        out.push((":FWD_ZONES - [0:0]".into(), a));
        for z in &zones {
            for part in ["", "_pre", "_deny", "_allow", "_post"] {
                out.push((format!(":IN_{}{part} - [0:0]", chain(&z.name)), z.span));
            }
        }
        for rule in [
            "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "-A INPUT -m conntrack --ctstate DNAT -j ACCEPT",
            "-A INPUT -i lo -j ACCEPT",
            "-A INPUT -m conntrack --ctstate INVALID -j DROP",
            "-A INPUT -j FWD_ZONES",
            "-A INPUT -j REJECT",
        ] {
            out.push((rule.into(), self.built_in_span()));
        }
        self.dispatch(&mut out, &zones, family, "IN_");
        for z in &zones {
            self.zone_chains(&mut out, z, family);
        }
        out.push(("COMMIT".into(), a));
        out
    }

    /// Source zones (ordered by zone name), interface zones, the default zone.
    pub(super) fn dispatch(&self, out: &mut Lines, zones: &[&Zone], family: Family, prefix: &str) {
        for z in zones {
            for s in &z.sources {
                if let Some(addr) = s.addr.as_ref().filter(|a| a.family() == family) {
                    out.push((
                        format!(
                            "-A FWD_ZONES -s {} -g {prefix}{}",
                            addr.to_cidr_text(),
                            chain(&z.name)
                        ),
                        s.span,
                    ));
                }
            }
        }
        for z in zones {
            for i in &z.interfaces {
                if valid_iface(&i.name) {
                    out.push((
                        format!("-A FWD_ZONES -i {} -g {prefix}{}", i.name, chain(&z.name)),
                        i.span,
                    ));
                }
            }
        }
        if let Some(z) = zones.iter().find(|z| z.name == self.default_zone) {
            out.push((
                format!("-A FWD_ZONES -g {prefix}{}", chain(&z.name)),
                self.default_span,
            ));
        }
    }

    fn helpers(&self, out: &mut Lines, z: &Zone, family: Family) {
        let c = format!("H_{}", chain(&z.name));
        for s in &z.services {
            if let Some(r) = self.service(&s.name).filter(|r| r.helper) {
                for (lo, hi) in &r.tcp {
                    out.push((
                        format!(
                            "-A {c} -p tcp --dport {} -j CT --helper ftp",
                            range(*lo, *hi)
                        ),
                        s.span,
                    ));
                }
            }
        }
        for rule in z.rules.iter().filter(|r| r.verdict == Verdict::Accept) {
            let What::Service(s) = &rule.what else {
                continue;
            };
            if let Some(m) = self.rule_match(rule, family) {
                if let Some(r) = self.service(&s.name).filter(|r| r.helper) {
                    for (lo, hi) in &r.tcp {
                        out.push((
                            format!(
                                "-A {c}{m} -p tcp --dport {} -j CT --helper ftp",
                                range(*lo, *hi)
                            ),
                            rule.span,
                        ));
                    }
                }
            }
        }
    }

    fn zone_chains(&self, out: &mut Lines, z: &Zone, family: Family) {
        let c = format!("IN_{}", chain(&z.name));
        for part in ["_pre", "_deny", "_allow", "_post"] {
            out.push((format!("-A {c} -j {c}{part}"), z.span));
        }
        let target = match z.target {
            Target::Default | Target::Reject => "REJECT",
            Target::Accept => "ACCEPT",
            Target::Drop => "DROP",
        };
        out.push((
            format!("-A {c} -j {target}"),
            z.target_span.unwrap_or(z.span),
        ));
        for s in &z.services {
            self.service_lines(out, &format!("{c}_allow"), s, "");
        }
        for p in z.ports.iter().filter(|p| p.protocol == "tcp") {
            out.push((
                format!(
                    "-A {c}_allow -p tcp --dport {} -j ACCEPT",
                    range(p.lo, p.hi)
                ),
                p.span,
            ));
        }
        let mut rules: Vec<&RichRule> = z.rules.iter().collect();
        rules.sort_by_key(|r| r.priority);
        for r in rules {
            let part = match (r.priority, r.verdict) {
                (p, _) if p < 0 => "_pre",
                (p, _) if p > 0 => "_post",
                (_, Verdict::Accept) => "_allow",
                _ => "_deny",
            };
            self.rich_lines(out, &format!("{c}{part}"), r, family);
        }
    }

    fn service_lines(&self, out: &mut Lines, chain: &str, s: &Named, m: &str) {
        if let Some(r) = self.service(&s.name) {
            for (lo, hi) in &r.tcp {
                out.push((
                    format!("-A {chain}{m} -p tcp --dport {} -j ACCEPT", range(*lo, *hi)),
                    s.span,
                ));
            }
        }
    }

    /// ` -s A -d B` of a rich rule for `family`; `None` when it is of the other family.
    pub(super) fn rule_match(&self, r: &RichRule, family: Family) -> Option<String> {
        if r.family.is_some_and(|f| f != family) {
            return None;
        }
        let mut m = String::new();
        for (flag, a) in [("-s", &r.source), ("-d", &r.destination)] {
            if let Some(a) = a {
                let not = if a.invert { " !" } else { "" };
                m.push_str(&format!("{not} {flag} {}", a.addr.to_cidr_text()));
            }
        }
        if r.partial {
            // A limit or a MAC/ipset source: the rule decides only some packets.
            m.push_str(" -m limit --limit 1/sec");
        }
        Some(m)
    }

    fn rich_lines(&self, out: &mut Lines, chain: &str, r: &RichRule, family: Family) {
        let Some(m) = self.rule_match(r, family) else {
            return;
        };
        let jump = match r.verdict {
            Verdict::Accept => "ACCEPT",
            Verdict::Reject => "REJECT",
            Verdict::Drop => "DROP",
            Verdict::None => return,
        };
        let ports: Vec<String> = match &r.what {
            What::Any => vec![String::new()],
            What::Port(p) if p.protocol == "tcp" => {
                vec![format!(" -p tcp --dport {}", range(p.lo, p.hi))]
            }
            What::Service(s) => self
                .service(&s.name)
                .map(|res| {
                    res.tcp
                        .iter()
                        .map(|(lo, hi)| format!(" -p tcp --dport {}", range(*lo, *hi)))
                        .collect()
                })
                .unwrap_or_default(),
            What::Port(_) | What::Forward(_) | What::Other => Vec::new(),
        };
        for p in ports {
            out.push((format!("-A {chain}{m}{p} -j {jump}"), r.span));
        }
    }
}

pub(super) fn range(lo: u16, hi: u16) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}:{hi}")
    }
}

/// A zone name as a chain-name part (iptables names are at most 28 bytes).
pub(super) fn chain(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(17)
        .collect()
}

fn valid_iface(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
}
