//! The server pure-ftpd runs with a set of flags, as `src/ftpd.c` computes it.

use super::daemon::{port_range, tls_level, user_limit};
use super::{Config, Finding, FindingKind, Flag};
use crate::facts::{
    Active, ControlTls, Families, FtpServer, Located, Passive, RangeSetting, UserClass, UserKind,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};

/// `globals.h`: `firstport = 1024U`, `lastport = 65535U`.
pub const DEFAULT_RANGE: (u16, u16) = (1024, 65535);
/// `ftpd.h`: `DEFAULT_MAX_USERS 50`.
pub const DEFAULT_MAX_USERS: u32 = 50;

pub fn facts(config: &Config, source: &SourceFile) -> Vec<FtpServer> {
    vec![server(&config.flags, refusal(&config.findings), source)]
}

/// The first finding that keeps the daemon from starting.
pub fn refusal<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Option<&'a Finding> {
    findings
        .into_iter()
        .find(|f| matches!(f.kind, FindingKind::Invalid | FindingKind::RangeInvalid))
}

/// The server the daemon runs with `flags` (in the order it reads them); a
/// daemon that refuses to start serves nothing anyone can check.
pub fn server(flags: &[Flag], refused: Option<&Finding>, source: &SourceFile) -> FtpServer {
    let anchor = flags.first().map_or(source.span(0, 0), |f| f.setting);
    let tls = control_tls(flags);
    let user_classes = user_classes(flags, &tls);
    if let Some(refused) = refused {
        return FtpServer {
            file: source.id,
            server: "pure-ftpd",
            control_port: Located::new(None, Some(refused.span)),
            passive: Passive::Unknown {
                spans: vec![refused.span],
                reason: "pure-ftpd refuses to start with this configuration".to_owned(),
            },
            max_sessions: Located::new(None, Some(refused.span)),
            tls,
            families: Located::new(None, Some(refused.span)),
            user_classes,
            active: Active::Unknown,
            passive_address: Located::default_value(None),
            listen_address: crate::facts::Located::default_value(None),
            falls_back_outside_range: false,
            range_setting: None,
            anchor: refused.span,
            container: None,
        };
    }
    FtpServer {
        file: source.id,
        server: "pure-ftpd",
        control_port: control_port(flags),
        passive: passive(flags),
        max_sessions: max_sessions(flags),
        tls,
        families: families(flags),
        user_classes,
        active: Active::Unknown,
        passive_address: passive_address(flags),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting: range_setting(flags, source),
        anchor,
        container: None,
    }
}

/// `-P` / `ForcePassiveIP`: the daemon keeps the first one.
fn passive_address(flags: &[Flag]) -> Located<Option<String>> {
    flags.iter().find(|f| f.flag == 'P').map_or_else(
        || Located::default_value(None),
        // No argument known: set, to a value not known here.
        |f| Located::new(f.arg.clone(), Some(f.setting)),
    )
}

fn last(flags: &[Flag], flag: char) -> Option<&Flag> {
    flags.iter().rev().find(|f| f.flag == flag)
}

fn arg(flag: &Flag) -> &str {
    flag.arg.as_deref().unwrap_or("")
}

/// The last word the script does not know, when no `flag` follows it: that
/// word may set `flag` itself.
fn opaque_after(flags: &[Flag], flag: char) -> Option<&Flag> {
    let opaque = flags.iter().rposition(|f| f.flag == super::OPAQUE)?;
    let known = flags.iter().rposition(|f| f.flag == flag);
    (!matches!(known, Some(k) if k > opaque)).then(|| &flags[opaque])
}

fn passive(flags: &[Flag]) -> Passive {
    if let Some(opaque) = opaque_after(flags, 'p') {
        return Passive::Unknown {
            spans: vec![opaque.span],
            reason: "the pure-ftpd command line takes words the script does not know here, which may set the passive range".to_owned(),
        };
    }
    let Some(flag) = last(flags, 'p') else {
        let (lo, hi) = DEFAULT_RANGE;
        return Passive::Enabled {
            ports: PortSet::range(lo, hi),
            deliberate: false,
            spans: Vec::new(),
        };
    };
    if flag.arg.is_none() {
        return Passive::Unknown {
            spans: vec![flag.span],
            reason: "the passive range comes from a value the script does not set".to_owned(),
        };
    }
    match port_range(arg(flag)) {
        Ok((lo, hi)) => Passive::Enabled {
            ports: PortSet::range(lo, hi),
            deliberate: true,
            spans: vec![flag.span],
        },
        Err(why) => Passive::Unknown {
            spans: vec![flag.span],
            reason: format!("pure-ftpd refuses the passive range ({why}) and does not start"),
        },
    }
}

/// The last `-p` / `PassivePortRange`, when its value is written plainly in `source`.
fn range_setting(flags: &[Flag], source: &SourceFile) -> Option<RangeSetting> {
    let flag = last(flags, 'p')?;
    let (lo, hi) = port_range(flag.arg.as_deref()?).ok()?;
    if flag.span.file != source.id {
        return None;
    }
    let written = source.text.get(flag.span.range())?;
    RangeSetting::joined_as_written(flag.span, written, lo, hi)
}

/// `-c` (default 50), then capped at half the passive range (`ftpd.c`:
/// `portmax = (lastport - firstport + 1) / 2; if (!maxusers || maxusers > portmax)
/// maxusers = portmax;`); a one-port range makes the cap 0, which is no limit.
fn max_sessions(flags: &[Flag]) -> Located<Option<Option<u32>>> {
    if let Some(opaque) = opaque_after(flags, 'c').or(opaque_after(flags, 'p')) {
        return Located::new(None, Some(opaque.span));
    }
    let limit = last(flags, 'c');
    let asked = limit.map_or(Some(DEFAULT_MAX_USERS), |f| user_limit(arg(f)));
    let Some(asked) = asked else {
        return Located::new(None, limit.map(|f| f.span));
    };
    let range = last(flags, 'p');
    let (lo, hi) = match range {
        Some(f) => match port_range(arg(f)) {
            Ok(r) => r,
            Err(_) => return Located::new(None, Some(f.span)),
        },
        None => DEFAULT_RANGE,
    };
    let size = u32::from(hi) - u32::from(lo) + 1;
    let cap = size / 2;
    let (users, span) = if asked > cap {
        (cap, range.map(|f| f.span).or(limit.map(|f| f.span)))
    } else {
        (asked, limit.map(|f| f.span))
    };
    Located::new(Some(Some(users).filter(|&n| n > 0)), span)
}

fn control_tls(flags: &[Flag]) -> Located<ControlTls> {
    let Some(flag) = last(flags, 'Y') else {
        return Located::default_value(ControlTls::Never);
    };
    let level = match tls_level(arg(flag)) {
        Some(0) | None => ControlTls::Never,
        Some(1) => ControlTls::Optional,
        Some(_) => ControlTls::Required,
    };
    Located::new(level, Some(flag.span))
}

/// Anonymous (the `ftp` account) and local users, unless `-e` (anonymous only)
/// or `-E` (no anonymous) says otherwise; the last of the two wins. With TLS 2
/// and 3, `USER` is refused before `AUTH TLS` for every class alike.
fn user_classes(flags: &[Flag], tls: &Located<ControlTls>) -> Vec<UserClass> {
    let only = flags.iter().rev().find(|f| f.flag == 'e' || f.flag == 'E');
    let kinds: &[UserKind] = match only.map(|f| f.flag) {
        Some('e') => &[UserKind::Anonymous],
        Some(_) => &[UserKind::Local],
        None => &[UserKind::Anonymous, UserKind::Local],
    };
    let spans: Vec<Span> = only.map(|f| f.span).into_iter().chain(tls.span).collect();
    kinds
        .iter()
        .map(|&kind| UserClass {
            kind,
            tls: tls.value,
            spans: spans.clone(),
        })
        .collect()
}

/// `-S [address],[port]`: the port is the last one given (default 21); a
/// value without `,` is a port (`-S 2121`).
fn control_port(flags: &[Flag]) -> Located<Option<u16>> {
    if let Some(opaque) = opaque_after(flags, 'S') {
        return Located::new(None, Some(opaque.span));
    }
    let bound = flags.iter().rev().filter(|f| f.flag == 'S').find_map(|f| {
        let text = arg(f);
        let port = text.rsplit_once(',').map_or(text, |(_, p)| p);
        (!port.is_empty()).then_some((port, f.span))
    });
    match bound {
        None => Located::default_value(Some(21)),
        Some((port, span)) => Located::new(service_port(port), Some(span)),
    }
}

fn service_port(text: &str) -> Option<u16> {
    match text {
        "ftp" => Some(21),
        "ftps" => Some(990),
        _ => text.parse().ok().filter(|&p| p != 0),
    }
}

/// `-4` skips IPv6, `-6` skips IPv4; a bound address picks its family.
fn families(flags: &[Flag]) -> Located<Option<Families>> {
    let bound_address = flags.iter().filter(|f| f.flag == 'S').find_map(|f| {
        arg(f)
            .split_once(',')
            .map(|(a, _)| (a, f.span))
            .filter(|(a, _)| !a.is_empty())
    });
    if let Some((address, span)) = bound_address {
        let family = if address.contains(':') {
            Families::Ipv6
        } else if address.parse::<std::net::Ipv4Addr>().is_ok() {
            Families::Ipv4
        } else {
            return Located::new(None, Some(span));
        };
        return Located::new(Some(family), Some(span));
    }
    let v4_only = last(flags, '4');
    let v6_only = last(flags, '6');
    match (v4_only, v6_only) {
        (None, None) => Located::default_value(Some(Families::Both)),
        (Some(f), None) => Located::new(Some(Families::Ipv4), Some(f.span)),
        (None, Some(f)) => Located::new(Some(Families::Ipv6), Some(f.span)),
        (Some(_), Some(f)) => Located::new(None, Some(f.span)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn flags(list: &[(char, Option<&str>)], source: &SourceFile) -> Vec<Flag> {
        list.iter()
            .map(|(c, a)| Flag {
                flag: *c,
                arg: a.map(str::to_owned),
                span: source.span(0, 0),
                setting: source.span(0, 0),
                written: String::new(),
            })
            .collect()
    }

    fn server_of(flags: &[Flag], source: &SourceFile) -> FtpServer {
        server(flags, None, source)
    }

    #[test]
    fn defaults_and_the_half_range_cap() {
        let source = SourceFile::new(FileId(0), "pure-ftpd.conf", b"");
        let plain = server_of(&[], &source);
        assert_eq!(plain.passive.ports(), Some(&PortSet::range(1024, 65535)));
        assert_eq!(plain.max_sessions.value, Some(Some(50)));
        assert_eq!(plain.control_port.value, Some(21));
        let small = server_of(
            &flags(&[('p', Some("30000:30009")), ('c', Some("100"))], &source),
            &source,
        );
        assert_eq!(small.max_sessions.value, Some(Some(5)));
        let one = server_of(&flags(&[('p', Some("30000:30000"))], &source), &source);
        assert_eq!(one.max_sessions.value, Some(None), "a cap of 0 is no limit");
        let bound = server_of(
            &flags(&[('S', Some("198.51.100.5,2121")), ('4', None)], &source),
            &source,
        );
        assert_eq!(bound.control_port.value, Some(2121));
        assert_eq!(bound.families.value, Some(Families::Ipv4));
    }
}
