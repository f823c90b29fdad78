//! `pasvlint facts`: what was extracted, per host (JSON contract of DESIGN.md, or text).

use crate::Report;
use crate::facts::{ControlTls, Family, Firewall, FtpServer, Passive, Profile, Profiles};
use crate::source::{FileId, SourceMap};
use serde_json::{Value, json};
use std::fmt::Write;

pub fn render_json(report: &Report) -> String {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|(id, format)| {
            json!({
                "path": path(&report.sources, *id),
                "format": format.name(),
                "backup": report.backups.contains(id),
            })
        })
        .collect();
    let hosts: Vec<Value> = report
        .hosts
        .iter()
        .map(|h| {
            json!({
                "name": h.name,
                "files": h.files.iter().map(|f| path(&report.sources, *f)).collect::<Vec<_>>(),
                "platform": h.platform.id(),
                "platform_evidence": platform_evidence(&h.platform, &report.sources),
                "ftp": h.servers.iter().map(|s| server_json(s, &report.sources)).collect::<Vec<_>>(),
                "firewall": host_firewall_json(h, &report.sources),
                "joined": joined_json(h, &report.sources),
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({
        "version": 1,
        "files": files,
        "hosts": hosts,
    }))
    .unwrap_or_default();
    s.push('\n');
    s
}

/// Why each file is on the host.
fn joined_json(h: &crate::hosts::Host, sources: &SourceMap) -> Vec<Value> {
    h.joined
        .iter()
        .map(|(id, why)| {
            json!({
                "file": path(sources, *id),
                "why": why.describe(|f| path(sources, f)),
            })
        })
        .collect()
}

/// Why the platform is believed, and what else it could be when not known.
fn platform_evidence(p: &crate::platform::HostPlatform, sources: &SourceMap) -> Value {
    if p.evidence.is_none() {
        return Value::Null;
    }
    json!({
        "source": p.describe(sources),
        "candidates": p.candidates.iter().map(|d| d.id()).collect::<Vec<_>>(),
        "ftp_helper_module": p.helper.module.map(|s| location(sources, s)),
        "ftp_helper_auto_assign": p.helper.auto_assign.map(|(on, s)| json!({ "on": on, "at": location(sources, s) })),
        "ftp_helper_loose": p.helper.loose.map(|s| location(sources, s)),
    })
}

fn location(sources: &SourceMap, span: crate::source::Span) -> String {
    sources.get(span.file).map_or(String::new(), |f| {
        format!("{}:{}", f.display_path(), f.line_col(span.start).0)
    })
}

fn platform_line(p: &crate::platform::HostPlatform, sources: &SourceMap) -> Option<String> {
    p.evidence.as_ref()?;
    let why = p.describe(sources);
    Some(match p.id() {
        Some(id) => format!("  platform {id}, from {why}"),
        None => {
            let names: Vec<&str> = p.candidates.iter().map(|d| d.id()).collect();
            format!(
                "  platform unknown: one of {}, from {why}",
                names.join(", ")
            )
        }
    })
}

fn path(sources: &SourceMap, id: FileId) -> String {
    sources
        .get(id)
        .map(|f| f.display_path())
        .unwrap_or_default()
}

fn server_json(s: &FtpServer, sources: &SourceMap) -> Value {
    let (enabled, ports, set) = match &s.passive {
        Passive::Disabled { .. } => (false, Some(String::new()), false),
        Passive::Enabled {
            ports, deliberate, ..
        } => (true, Some(ports.to_string()), *deliberate),
        Passive::Unknown { .. } => (true, None, true),
    };
    json!({
        "file": path(sources, s.file),
        "server": s.server,
        "control_port": s.control_port.value,
        "passive_enabled": enabled,
        "passive_ports": ports,
        "passive_range_set": set,
        "max_sessions": s.max_sessions.value.flatten(),
        "tls": s.tls.value != ControlTls::Never,
        "families": s.families.value.map(|f| f.names()),
        "user_classes": s.user_classes.iter().map(|c| json!({
            "class": c.kind.as_str(),
            "tls": c.tls.as_str(),
        })).collect::<Vec<_>>(),
        "passive_address": s.passive_address.value,
    })
}

/// The top-level fields describe IPv4 (or every family, for a filter that does not
/// tell them apart); `ipv6` the host's IPv6 filter, `null` when none is known.
fn host_firewall_json(h: &crate::hosts::Host, sources: &SourceMap) -> Value {
    if h.firewall.is_none() && h.firewall_v6.is_none() {
        return Value::Null;
    }
    let mut files: Vec<FileId> = h
        .firewall
        .iter()
        .chain(&h.firewall_v6)
        .flat_map(|f| f.files.iter().copied())
        .collect();
    files.sort();
    files.dedup();
    let unknown = Firewall::default_for(Family::V4);
    let mut out = json!({
        "files": files.iter().map(|id| path(sources, *id)).collect::<Vec<_>>(),
    });
    if let (Value::Object(out), Value::Object(fields)) = (
        &mut out,
        family_json(h.firewall.as_ref().unwrap_or(&unknown), sources),
    ) {
        out.extend(fields);
        let v6 = h
            .firewall_for(Family::V6)
            .map_or(Value::Null, |f| family_json(f, sources));
        out.insert("ipv6".into(), v6);
    }
    out
}

fn family_json(f: &Firewall, sources: &SourceMap) -> Value {
    json!({
        "default_policy": f.default_policy.value.as_str(),
        "tcp_open_to_all": f.open_to_all.to_string(),
        "tcp_open_to_some": f.open_to_some.to_string(),
        "ftp_helper": f.admits_related && !f.ftp_helpers.is_empty(),
        "open_by_source": open_by_source(f),
        "client_interface": f.client_interface,
        "profiles": f.profiles.as_ref().map(|p| json!({
            "domain": p.domain.open_to_all.to_string(),
            "private": p.private.open_to_all.to_string(),
            "public": p.public.open_to_all.to_string(),
        })),
        "layers": f.own_layers().iter().map(|l| json!({
            "kind": l.kind,
            "files": l.files.iter().map(|id| path(sources, *id)).collect::<Vec<_>>(),
            "tcp_open_to_all": l.open_to_all.to_string(),
        })).collect::<Vec<_>>(),
        "uncertain": uncertain(f).map(|u| json!({
            "file": path(sources, u.span.file),
            "line": line(sources, u.span),
            "what": u.what,
        })).collect::<Vec<_>>(),
    })
}

/// What the firewall's readers could not know, each once, in file order.
fn uncertain(f: &Firewall) -> impl Iterator<Item = &crate::facts::Uncertainty> {
    let mut seen: Vec<&crate::facts::Uncertainty> = Vec::new();
    for u in f.uncertain.iter().chain(&f.conditions) {
        if !seen.contains(&u) {
            seen.push(u);
        }
    }
    seen.sort_by_key(|u| (u.span.file, u.span.start));
    seen.into_iter()
}

/// The 1-based line a span starts on.
fn line(sources: &SourceMap, span: crate::source::Span) -> usize {
    sources
        .get(span.file)
        .map_or(0, |f| f.line_col(span.start).0)
}

/// Each class of clients that reaches more than every client does, with all it reaches.
fn open_by_source(f: &Firewall) -> Vec<Value> {
    f.classes_reaching_more()
        .filter_map(|c| {
            Some(json!({
                "sources": c.sources.as_ref()?.to_cidr_text(),
                "tcp_open": c.open.to_string(),
            }))
        })
        .collect()
}

pub fn render_human(report: &Report) -> String {
    let mut out = String::new();
    for h in &report.hosts {
        let _ = writeln!(out, "host {}", h.name);
        if let Some(line) = platform_line(&h.platform, &report.sources) {
            let _ = writeln!(out, "{line}");
        }
        for (id, why) in &h.joined {
            let shown = why.describe(|f| path(&report.sources, f));
            let _ = writeln!(out, "  file {}: {shown}", path(&report.sources, *id));
        }
        for id in h.files.iter().filter(|id| report.backups.contains(id)) {
            let _ = writeln!(
                out,
                "  backup {}: a copy the system does not load, left out of the host",
                path(&report.sources, *id)
            );
        }
        for s in &h.servers {
            let ports = match &s.passive {
                Passive::Disabled { .. } => "passive off".to_owned(),
                Passive::Enabled {
                    ports, deliberate, ..
                } => format!(
                    "passive {ports}{}",
                    if *deliberate { "" } else { " (default)" }
                ),
                Passive::Unknown { reason, .. } => format!("passive unknown ({reason})"),
            };
            let control = s
                .control_port
                .value
                .map_or("unknown".to_owned(), |p| p.to_string());
            let sessions = match s.max_sessions.value {
                Some(Some(n)) => n.to_string(),
                Some(None) => "unlimited".to_owned(),
                None => "unknown".to_owned(),
            };
            let _ = writeln!(
                out,
                "  ftp {} ({}): control {control}, {ports}, max sessions {sessions}, tls {:?}, \
                 families {}, users {}",
                path(&report.sources, s.file),
                s.server,
                s.tls.value,
                families_text(s),
                users_text(s),
            );
        }
        if h.firewall.is_none() && h.firewall_v6.is_none() {
            out.push_str("  firewall: none found\n");
        }
        for (family, f) in h.firewalls() {
            if family == Family::V6 && h.firewall_v6.is_none() {
                continue;
            }
            let named = h.firewall_v6.is_some();
            firewall_human(&mut out, f, named.then_some(family), &report.sources);
        }
        if let Some(map) = super::portmap::render(h) {
            out.push_str(&map);
        }
    }
    out
}

fn families_text(s: &FtpServer) -> String {
    s.families
        .value
        .map_or("unknown".to_owned(), |f| f.names().join("+"))
}

fn users_text(s: &FtpServer) -> String {
    let classes: Vec<String> = s
        .user_classes
        .iter()
        .map(|c| format!("{} (tls {})", c.kind.as_str(), c.tls.as_str()))
        .collect();
    if classes.is_empty() {
        "none".to_owned()
    } else {
        classes.join(", ")
    }
}

/// One line per Windows Firewall profile, marking the one the fields above describe.
fn profiles_human(out: &mut String, p: &Profiles) {
    for profile in Profile::ALL {
        let fw = p.get(profile);
        let shown = if profile == p.shown() {
            " (shown above)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {} profile{shown}: policy {}, open to all {}",
            profile.name(),
            fw.default_policy.value.as_str(),
            or_none(&fw.open_to_all.to_string()),
        );
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

fn firewall_human(out: &mut String, f: &Firewall, family: Option<Family>, sources: &SourceMap) {
    let files: Vec<String> = f.files.iter().map(|id| path(sources, *id)).collect();
    let which = family.map_or(String::new(), |f| format!(" {}", f.as_str()));
    let _ = writeln!(
        out,
        "  firewall{which} {}: policy {}, open to all {}, open to some {}, ftp helper {}",
        files.join(", "),
        f.default_policy.value.as_str(),
        or_none(&f.open_to_all.to_string()),
        or_none(&f.open_to_some.to_string()),
        if f.admits_related && !f.ftp_helpers.is_empty() {
            "yes"
        } else {
            "no"
        }
    );
    if let Some(p) = &f.profiles {
        profiles_human(out, p);
    }
    if let Some(name) = &f.client_interface {
        let _ = writeln!(
            out,
            "    clients arrive on {name}: the one interface its rules decide on"
        );
    }
    for class in f.classes_reaching_more() {
        let _ = writeln!(
            out,
            "    {}: open {}",
            class.describe(),
            or_none(&class.open.to_string())
        );
    }
    for u in uncertain(f) {
        let _ = writeln!(
            out,
            "    not known: {}:{}: {}",
            path(sources, u.span.file),
            line(sources, u.span),
            u.what
        );
    }
}
