//! `ports:` entries, short (`[HOST_IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTO]`)
//! and long (`target`, `published`, `host_ip`, `protocol`) syntax, as the Compose
//! Specification and `docker/go-connections` `nat.ParsePortSpec` read them.

use super::interp::{self, Vars};
use crate::formats::yaml::Node;
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortEntry {
    pub span: Span,
    pub host_ip: Option<String>,
    /// Host ports, in the order of `target`; `None` when Docker picks them
    /// (a bare `"21"`, `"127.0.0.1::21"`, or a host range for one container port).
    pub published: Option<(u16, u16)>,
    /// Container ports.
    pub target: (u16, u16),
    pub protocol: Protocol,
}

impl PortEntry {
    /// Published only on a loopback address: no client off the host reaches it.
    pub fn loopback_only(&self) -> bool {
        self.host_ip
            .as_deref()
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback())
    }
}

pub fn read(list: &Node, vars: &Vars, problems: &mut Vec<(Span, String)>) -> Vec<PortEntry> {
    let Node::Seq { items, .. } = list else {
        problems.push((list.span(), "`ports` must be a list".into()));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let result = match item {
            Node::Map { .. } => long(item, vars),
            _ => match item.as_str().map(|s| interp::interpolate(s, vars)) {
                Some(Some(text)) => short(&text, item.span()),
                // Depends on a variable not known here: nothing can be said.
                Some(None) => continue,
                None => Err("not a port mapping".into()),
            },
        };
        match result {
            Ok(entry) => out.push(entry),
            Err(why) => problems.push((item.span(), why)),
        }
    }
    out
}

/// `"127.0.0.1:21:21"`, `"21100-21110:21100-21110"`, `"21/tcp"`, `"[::1]:21:21"`.
pub fn short(text: &str, span: Span) -> Result<PortEntry, String> {
    let (spec, protocol) = match text.rsplit_once('/') {
        Some((spec, proto)) => (spec, protocol(proto)?),
        None => (text, Protocol::Tcp),
    };
    let (rest, container) = match spec.rsplit_once(':') {
        Some((rest, c)) => (Some(rest), c),
        None => (None, spec),
    };
    let target = range(container)?;
    let (host_ip, host) = match rest {
        None => (None, ""),
        Some(rest) => split_host(rest),
    };
    let published = if host.is_empty() {
        None
    } else {
        pair(range(host)?, target)?
    };
    Ok(PortEntry {
        span,
        host_ip,
        published,
        target,
        protocol,
    })
}

/// `IP:HOST`, `[IPv6]:HOST`, or `HOST`.
fn split_host(rest: &str) -> (Option<String>, &str) {
    if let Some(inner) = rest.strip_prefix('[') {
        if let Some((ip, host)) = inner.split_once("]:") {
            return (Some(ip.to_owned()), host);
        }
    }
    match rest.rsplit_once(':') {
        Some((ip, host)) => (Some(ip.trim_matches(['[', ']']).to_owned()), host),
        None => (None, rest),
    }
}

/// Host ports for a container range: the same length, or one container port
/// on a host range (Docker picks a free one of them).
fn pair(host: (u16, u16), target: (u16, u16)) -> Result<Option<(u16, u16)>, String> {
    let len = |r: (u16, u16)| r.1 - r.0;
    if len(host) == len(target) {
        Ok(Some(host))
    } else if len(target) == 0 {
        Ok(None)
    } else {
        Err(format!(
            "host range {}-{} has {} ports and container range {}-{} has {}: Docker refuses ranges of different sizes",
            host.0,
            host.1,
            len(host) + 1,
            target.0,
            target.1,
            len(target) + 1
        ))
    }
}

pub(super) fn range(text: &str) -> Result<(u16, u16), String> {
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("`{p}` is not a port number (1-65535)"))
    };
    match text.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (port(lo)?, port(hi)?);
            if hi < lo {
                return Err(format!("range {lo}-{hi} ends below its start"));
            }
            Ok((lo, hi))
        }
        None => port(text).map(|p| (p, p)),
    }
}

fn protocol(text: &str) -> Result<Protocol, String> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "sctp" => Ok(Protocol::Sctp),
        other => Err(format!("`{other}` is not tcp, udp or sctp")),
    }
}

/// `{target: 21, published: "21", host_ip: 0.0.0.0, protocol: tcp}`.
fn long(item: &Node, vars: &Vars) -> Result<PortEntry, String> {
    let value = |key: &str| -> Option<String> {
        item.get(key)
            .and_then(Node::as_str)
            .and_then(|s| interp::interpolate(s, vars))
    };
    let target = range(&value("target").ok_or("a long-syntax port needs `target`")?)?;
    let published = match value("published") {
        Some(p) if !p.is_empty() => pair(range(&p)?, target)?,
        _ => None,
    };
    let protocol = match value("protocol") {
        Some(p) => protocol(&p)?,
        None => Protocol::Tcp,
    };
    Ok(PortEntry {
        span: item.get("published").map_or(item.span(), Node::span),
        host_ip: value("host_ip").filter(|s| !s.is_empty()),
        published,
        target,
        protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn s(text: &str) -> PortEntry {
        short(text, Span::new(FileId(0), 0, text.len())).unwrap()
    }

    #[test]
    fn short_syntax() {
        assert_eq!(s("21:21").published, Some((21, 21)));
        let r = s("21100-21110:21100-21110");
        assert_eq!(
            (r.published, r.target),
            (Some((21100, 21110)), (21100, 21110))
        );
        let lo = s("127.0.0.1:21:21");
        assert_eq!(lo.host_ip.as_deref(), Some("127.0.0.1"));
        assert!(lo.loopback_only());
        assert_eq!(s("21/tcp").published, None);
        assert_eq!(s("21").published, None);
        assert_eq!(s("21/udp").protocol, Protocol::Udp);
        assert_eq!(s("[::1]:2121:21").host_ip.as_deref(), Some("::1"));
        assert_eq!(s("127.0.0.1::21").published, None);
        assert_eq!(s("31100-31110:21100-21110").published, Some((31100, 31110)));
    }

    #[test]
    fn bad_short_syntax_says_why() {
        let span = Span::new(FileId(0), 0, 1);
        assert!(short("21100-21110:21100-21105", span).is_err());
        assert!(short("abc", span).is_err());
        assert!(short("70000:21", span).is_err());
        assert!(short("21/icmp", span).is_err());
    }
}
