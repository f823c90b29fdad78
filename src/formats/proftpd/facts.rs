//! The servers ProFTPD runs: the main server (with `<Global>`) and each
//! `<VirtualHost>` (with `<Global>`, but nothing of the main server's).
//! Measured with Debian's 1.3.8: the first `PassivePorts` of a server wins and
//! its own comes before `<Global>`'s; a vhost does not inherit the main server's.
//! Without `PassivePorts`, PASV binds port 0 and the kernel picks from
//! `ip_local_port_range` (measured: 32835-46331 in 40 PASVs) while EPSV picks
//! anywhere in 1024-65535 (measured: 1175-64177 in 40 EPSVs), so the server
//! hands out 1024-65535. With a range, when every port of it is busy the daemon
//! logs "unable to find open port in PassivePorts range … defaulting to
//! INPORT_ANY" and binds a kernel-chosen port outside it (measured with 49152-49153:
//! 49152, 49153, then 34279, 43757, 41879, 37459).

use super::lexer::Word;
use super::values;
use super::walk::{Model, Scope, Setting};
use crate::facts::{
    Active, ControlTls, Families, FtpServer, Located, Passive, RangeSetting, UserClass, UserKind,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};

/// The main server and the vhosts the walk found; none when the daemon refuses
/// to start, beyond one server that says so.
pub fn servers(model: &Model, source: &SourceFile) -> Vec<FtpServer> {
    if let Some(refused) = model.refusal() {
        return vec![refused_server(refused.span, source)];
    }
    let tls_module = model.loaded.iter().any(|m| m == "mod_tls.c");
    let mut out = vec![server(model, &model.main, source, tls_module)];
    out.extend(
        model
            .vhosts
            .iter()
            .map(|v| server(model, v, source, tls_module)),
    );
    out
}

fn refused_server(span: Span, source: &SourceFile) -> FtpServer {
    FtpServer {
        file: source.id,
        server: "proftpd",
        control_port: Located::new(None, Some(span)),
        passive: Passive::Unknown {
            spans: vec![span],
            reason: "proftpd refuses to start with this configuration".to_owned(),
        },
        max_sessions: Located::new(None, Some(span)),
        tls: Located::default_value(ControlTls::Never),
        families: Located::new(None, Some(span)),
        user_classes: Vec::new(),
        active: Active::Unknown,
        passive_address: Located::default_value(None),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting: None,
        anchor: span,
        container: None,
    }
}

/// A server's settings in the order the daemon looks them up: its own, then `<Global>`'s.
struct Lookup<'a> {
    own: &'a Scope,
    global: &'a Scope,
    main: &'a Scope,
}

impl Lookup<'_> {
    fn first(&self, name: &str) -> Option<&Setting> {
        self.own.first(name).or_else(|| self.global.first(name))
    }

    /// Server-config-only directives (`MaxInstances`, `ServerType`, `UseIPv6`).
    fn main_only(&self, name: &str) -> Option<&Setting> {
        self.main.first(name)
    }
}

fn server(model: &Model, own: &Scope, source: &SourceFile, tls_module: bool) -> FtpServer {
    let look = Lookup {
        own,
        global: &model.global,
        main: &model.main,
    };
    let anchor = own
        .vhost
        .as_ref()
        .map(|(_, span)| *span)
        .or_else(|| own.settings.first().map(|s| s.line.span))
        .unwrap_or(source.span(0, 0));
    let passive = passive(&look);
    let deliberate = matches!(
        passive,
        Passive::Enabled {
            deliberate: true,
            ..
        }
    );
    let tls = tls(&look, tls_module);
    FtpServer {
        file: source.id,
        server: "proftpd",
        control_port: control_port(&look),
        passive,
        max_sessions: max_sessions(&look),
        user_classes: user_classes(&look, &tls),
        tls,
        families: families(&look),
        active: Active::Unknown,
        passive_address: look.first("masqueradeaddress").map_or_else(
            || Located::default_value(None),
            |s| Located::new(s.arg(0).map(str::to_owned), Some(s.line.span)),
        ),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: deliberate,
        range_setting: look
            .first("passiveports")
            .and_then(|s| range_setting(s, source)),
        anchor,
        container: None,
    }
}

/// `PassivePorts`' two numbers, when they are written plainly (no quotes, no
/// continuation) and the daemon takes them.
fn range_setting(setting: &Setting, source: &SourceFile) -> Option<RangeSetting> {
    let args = setting.line.args();
    values::passive_ports(args).ok()?;
    // An Included file's words are not in `source`'s text.
    let plain = |w: &Word| {
        w.span.file == source.id && source.text.get(w.span.range()) == Some(w.text.as_str())
    };
    let [min, max, ..] = args else { return None };
    if !plain(min) || !plain(max) {
        return None;
    }
    Some(RangeSetting {
        distinct_ends: true,
        ..RangeSetting::ends(min.span, max.span)
    })
}

/// What PASV and EPSV hand out together without `PassivePorts`.
pub const UNSET_RANGE: (u16, u16) = (1024, 65535);

fn passive(look: &Lookup) -> Passive {
    let Some(setting) = look.first("passiveports") else {
        return Passive::Enabled {
            ports: PortSet::range(UNSET_RANGE.0, UNSET_RANGE.1),
            deliberate: false,
            spans: Vec::new(),
        };
    };
    match values::passive_ports(setting.line.args()) {
        Ok((lo, hi)) => Passive::Enabled {
            ports: PortSet::range(lo, hi),
            deliberate: true,
            spans: vec![setting.line.span],
        },
        Err(why) => Passive::Unknown {
            spans: vec![setting.line.span],
            reason: format!("proftpd refuses PassivePorts ({why})"),
        },
    }
}

fn control_port(look: &Lookup) -> Located<Option<u16>> {
    match look.first("port") {
        None => Located::default_value(Some(21)),
        Some(s) => Located::new(
            s.arg(0).and_then(values::port_value).filter(|&p| p != 0),
            Some(s.line.span),
        ),
    }
}

/// `MaxInstances` caps the daemon's sessions, `MaxClients` a server's logins;
/// both default to no limit.
fn max_sessions(look: &Lookup) -> Located<Option<Option<u32>>> {
    let limit = |s: &Setting| s.arg(0).and_then(values::limit_value);
    let instances = look.main_only("maxinstances");
    let clients = look.first("maxclients");
    let candidates = [instances, clients]
        .into_iter()
        .flatten()
        .filter_map(|s| limit(s).flatten().map(|n| (n, s.line.span)));
    match candidates.min_by_key(|(n, _)| *n) {
        Some((n, span)) => Located::new(Some(Some(n)), Some(span)),
        None => Located::default_value(Some(None)),
    }
}

fn tls(look: &Lookup, tls_module: bool) -> Located<ControlTls> {
    let engine = look.first("tlsengine").filter(|_| tls_module);
    let on = engine.and_then(|s| s.arg(0)).and_then(values::boolean) == Some(true);
    if !on {
        return Located::new(ControlTls::Never, engine.map(|s| s.line.span));
    }
    let required = look
        .first("tlsrequired")
        .filter(|s| s.arg(0).and_then(values::tls_required_control) == Some(true));
    match required {
        Some(s) => Located::new(ControlTls::Required, Some(s.line.span)),
        None => Located::new(ControlTls::Optional, engine.map(|s| s.line.span)),
    }
}

/// Local accounts always; anonymous logins where an `<Anonymous>` block names a `User`.
fn user_classes(look: &Lookup, tls: &Located<ControlTls>) -> Vec<UserClass> {
    let spans: Vec<Span> = tls.span.into_iter().collect();
    let mut classes = Vec::new();
    let anonymous: Vec<Span> = look
        .own
        .anonymous
        .iter()
        .chain(&look.global.anonymous)
        .copied()
        .collect();
    if !anonymous.is_empty() {
        classes.push(UserClass {
            kind: UserKind::Anonymous,
            tls: tls.value,
            spans: anonymous
                .iter()
                .copied()
                .chain(spans.iter().copied())
                .collect(),
        });
    }
    classes.push(UserClass {
        kind: UserKind::Local,
        tls: tls.value,
        spans,
    });
    classes
}

/// `ServerType inetd` leaves listening to inetd; `UseIPv6 off` keeps to IPv4
/// (Debian's build has IPv6 on by default).
fn families(look: &Lookup) -> Located<Option<Families>> {
    if let Some(s) = look.main_only("servertype")
        && s.arg(0).is_some_and(|v| v.eq_ignore_ascii_case("inetd"))
    {
        return Located::new(None, Some(s.line.span));
    }
    match look.main_only("useipv6") {
        Some(s) if s.arg(0).and_then(values::boolean) == Some(false) => {
            Located::new(Some(Families::Ipv4), Some(s.line.span))
        }
        Some(s) => Located::new(Some(Families::Both), Some(s.line.span)),
        None => Located::default_value(Some(Families::Both)),
    }
}
