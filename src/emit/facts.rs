//! `pasvlint facts`: what was extracted, per host (JSON contract of DESIGN.md, or text).

use crate::Report;
use crate::facts::{ControlTls, Firewall, FtpServer, Passive, Profile, Profiles};
use crate::source::{FileId, SourceMap};
use serde_json::{Value, json};
use std::fmt::Write;

pub fn render_json(report: &Report) -> String {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|(id, format)| json!({ "path": path(&report.sources, *id), "format": format.name() }))
        .collect();
    let hosts: Vec<Value> = report
        .hosts
        .iter()
        .map(|h| {
            json!({
                "name": h.name,
                "files": h.files.iter().map(|f| path(&report.sources, *f)).collect::<Vec<_>>(),
                "ftp": h.servers.iter().map(|s| server_json(s, &report.sources)).collect::<Vec<_>>(),
                "firewall": h.firewall.as_ref().map(|f| firewall_json(f, &report.sources)),
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
    })
}

fn firewall_json(f: &Firewall, sources: &SourceMap) -> Value {
    json!({
        "files": f.files.iter().map(|id| path(sources, *id)).collect::<Vec<_>>(),
        "default_policy": f.default_policy.value.as_str(),
        "tcp_open_to_all": f.open_to_all.to_string(),
        "tcp_open_to_some": f.open_to_some.to_string(),
        "ftp_helper": f.admits_related && !f.ftp_helpers.is_empty(),
        "profiles": f.profiles.as_ref().map(|p| json!({
            "domain": p.domain.open_to_all.to_string(),
            "private": p.private.open_to_all.to_string(),
            "public": p.public.open_to_all.to_string(),
        })),
    })
}

pub fn render_human(report: &Report) -> String {
    let mut out = String::new();
    for h in &report.hosts {
        let _ = writeln!(out, "host {}", h.name);
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
                "  ftp {} ({}): control {control}, {ports}, max sessions {sessions}, tls {:?}",
                path(&report.sources, s.file),
                s.server,
                s.tls.value
            );
        }
        match &h.firewall {
            Some(f) => {
                let files: Vec<String> = f
                    .files
                    .iter()
                    .map(|id| path(&report.sources, *id))
                    .collect();
                let _ = writeln!(
                    out,
                    "  firewall {}: policy {}, open to all {}, open to some {}, ftp helper {}",
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
                    profiles_human(&mut out, p);
                }
            }
            None => out.push_str("  firewall: none found\n"),
        }
    }
    out
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
