//! The port map `pasvlint facts` draws for a host: one row for what each server
//! hands out, one per firewall layer and family, one per source class that reaches
//! more, and a verdict row, over the port ranges where any of them changes, so a
//! mismatch is seen at a glance.

use crate::facts::{ControlTls, Family, Firewall, FtpServer};
use crate::helper::{self, Admission};
use crate::hosts::Host;
use crate::portset::PortSet;
use std::fmt::Write as _;

/// Columns beyond this are summarised: a map must fit a terminal.
const MAX_COLUMNS: usize = 10;

struct Row {
    label: String,
    cells: Vec<&'static str>,
}

/// The map, or `None` when the host has no server with a known passive range.
pub fn render(host: &Host) -> Option<String> {
    let served = served_ports(host);
    if served.is_empty() {
        return None;
    }
    let filters: Vec<(Family, &Firewall)> = host
        .firewalls()
        .filter(|(family, _)| *family == Family::V4 || host.firewall_v6.is_some())
        .collect();
    let mut sets: Vec<PortSet> = vec![served.clone()];
    for (_, f) in &filters {
        sets.extend(f.own_layers().iter().map(|l| l.open_to_all.clone()));
        sets.push(f.open_to_any());
    }
    let (columns, left_out) = columns(&sets, &served);
    let mut rows = server_rows(host, &columns);
    for (family, f) in &filters {
        rows.extend(filter_rows(
            *family,
            f,
            &columns,
            host.firewall_v6.is_some(),
        ));
    }
    rows.push(verdict_row(host, &filters, &served, &columns));
    Some(draw(&columns, &rows, left_out))
}

/// The ports servers hand out or listen on, and those nat redirects to a
/// control port (the port clients connect to).
fn served_ports(host: &Host) -> PortSet {
    host.servers.iter().fold(PortSet::empty(), |acc, s| {
        let mut ports = acc.union(s.passive.ports().unwrap_or(&PortSet::empty()));
        if let Some(p) = s.control_port.value {
            ports = ports.union(&PortSet::single(p));
        }
        ports.union(&redirected_to_control(host, s))
    })
}

/// The ports clients connect to that nat moves to the server's control port.
fn redirected_to_control(host: &Host, server: &FtpServer) -> PortSet {
    let Some(control) = server.control_port.value else {
        return PortSet::empty();
    };
    host.firewalls()
        .filter_map(|(_, fw)| fw.redirected_to(control))
        .fold(PortSet::empty(), |acc, r| acc.union(&r.from))
}

/// Passive ports `fw`'s FTP helper admits for every session of their server.
fn helper_admitted(host: &Host, family: Family, fw: &Firewall) -> PortSet {
    host.servers
        .iter()
        .filter(|s| s.tls.value == ControlTls::Never)
        .filter(|s| {
            matches!(
                helper::admission(s, fw, Some(family), &host.platform),
                Admission::Every(_)
            )
        })
        .filter_map(|s| s.passive.ports())
        .fold(PortSet::empty(), |acc, p| acc.union(p))
}

/// The ranges where some set begins or ends, among the ports a server uses or a
/// filter opens; at most [`MAX_COLUMNS`], served ports first.
fn columns(sets: &[PortSet], served: &PortSet) -> (Vec<PortSet>, usize) {
    let mut cuts: Vec<u32> = vec![1, 65536];
    for set in sets {
        for &(lo, hi) in set.ranges() {
            cuts.push(u32::from(lo));
            cuts.push(u32::from(hi) + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut all: Vec<PortSet> = cuts
        .windows(2)
        .filter(|w| w[0] >= 1 && w[1] <= 65536 && w[0] < w[1])
        .map(|w| PortSet::range(w[0] as u16, (w[1] - 1) as u16))
        .filter(|c| c.intersects(served) || sets[1..].iter().any(|s| s.intersects(c)))
        .filter(|c| c.intersects(served) || c.count() < 60000)
        .collect();
    if all.len() > MAX_COLUMNS {
        let mut keep: Vec<PortSet> = all
            .iter()
            .filter(|c| c.intersects(served))
            .cloned()
            .collect();
        keep.extend(all.iter().filter(|c| !c.intersects(served)).cloned());
        keep.truncate(MAX_COLUMNS);
        let left = all.len() - keep.len();
        keep.sort_by_key(|c| c.first());
        return (keep, left);
    }
    all.sort_by_key(|c| c.first());
    (all, 0)
}

fn server_rows(host: &Host, columns: &[PortSet]) -> Vec<Row> {
    host.servers
        .iter()
        .map(|s| {
            let passive = s.passive.ports().cloned().unwrap_or_default();
            let control = s
                .control_port
                .value
                .map(PortSet::single)
                .unwrap_or_default();
            let entry = redirected_to_control(host, s);
            Row {
                label: format!("{} hands out", s.vocabulary().product),
                cells: columns
                    .iter()
                    .map(|c| {
                        if c.is_subset(&control) {
                            "ctl"
                        } else if c.is_subset(&entry) {
                            "to ctl"
                        } else if c.is_subset(&passive) {
                            "pasv"
                        } else {
                            "."
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

fn filter_rows(family: Family, f: &Firewall, columns: &[PortSet], named: bool) -> Vec<Row> {
    let which = if named || f.family.is_some() {
        format!(" {}", family.as_str())
    } else {
        String::new()
    };
    // A firewall of one layer is that layer: what it opens to some clients
    // (an interface or source it does not know to be the clients') shows as
    // `some`, as the verdict row says. Layers do not record that set apart.
    let no_some = PortSet::empty();
    let some = if f.layers.is_empty() {
        &f.open_to_some
    } else {
        &no_some
    };
    let mut rows: Vec<Row> = f
        .own_layers()
        .iter()
        .map(|layer| Row {
            label: format!("{}{which}", layer.kind),
            cells: columns
                .iter()
                .map(|c| open_cell(c, &layer.open_to_all, some))
                .collect(),
        })
        .collect();
    for class in f.classes_reaching_more() {
        rows.push(Row {
            label: format!("  {}", class.describe()),
            cells: columns
                .iter()
                .map(|c| open_cell(c, &class.open, &PortSet::empty()))
                .collect(),
        });
    }
    rows
}

fn open_cell(column: &PortSet, all: &PortSet, some: &PortSet) -> &'static str {
    if column.is_subset(all) {
        "open"
    } else if column.intersects(all) || column.intersects(some) {
        "some"
    } else {
        "-"
    }
}

/// Whether `server` takes clients of `family` (unknown: IPv4, as the checks read it).
fn takes(server: &FtpServer, family: Family) -> bool {
    use crate::facts::Families;
    match server.families.value {
        Some(Families::Ipv6) => family == Family::V6,
        Some(Families::Both) => true,
        _ => family == Family::V4,
    }
}

/// Per column: a served port every client reaches (`ok`), every client reaches as
/// a data connection the FTP helper admits (`helper`), some reach (`some`), none
/// reach (`BLOCKED`), or an opened port nothing serves (`unused`).
fn verdict_row(
    host: &Host,
    filters: &[(Family, &Firewall)],
    served: &PortSet,
    columns: &[PortSet],
) -> Row {
    // A family no server takes clients on decides nothing (vsftpd's
    // `listen=YES` binds IPv4 only), as the checks judge only the others.
    let taken: Vec<(Family, &Firewall)> = filters
        .iter()
        .copied()
        .filter(|(family, _)| host.servers.iter().any(|s| takes(s, *family)))
        .collect();
    let filters = if taken.is_empty() { filters } else { &taken };
    let admitted: Vec<PortSet> = filters
        .iter()
        .map(|(family, f)| helper_admitted(host, *family, f))
        .collect();
    let cells = columns
        .iter()
        .map(|c| {
            if !c.intersects(served) {
                return "unused";
            }
            if filters.is_empty() {
                return "?";
            }
            let open_all = filters.iter().all(|(_, f)| c.is_subset(&f.open_to_all));
            let with_helper = filters
                .iter()
                .zip(&admitted)
                .all(|((_, f), a)| c.is_subset(&f.open_to_all.union(a)));
            let open_any = filters
                .iter()
                .zip(&admitted)
                .all(|((_, f), a)| c.intersects(&f.open_to_any().union(a)));
            match (open_all, with_helper, open_any) {
                (true, _, _) => "ok",
                (false, true, _) => "helper",
                (false, false, true) => "some",
                _ => "BLOCKED",
            }
        })
        .collect();
    Row {
        label: "verdict".to_owned(),
        cells,
    }
}

fn draw(columns: &[PortSet], rows: &[Row], left_out: usize) -> String {
    const TITLE: &str = "port map (tcp)";
    let headers: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let label_width = rows
        .iter()
        .map(|r| r.label.len() + 2)
        .max()
        .unwrap_or(0)
        .max(TITLE.len());
    let widths: Vec<usize> = headers.iter().map(|h| h.len().max(7)).collect();
    let mut out = format!("  {TITLE:label_width$}");
    for (h, w) in headers.iter().zip(&widths) {
        let _ = write!(out, "  {h:w$}");
    }
    if left_out > 0 {
        let _ = write!(out, "  (+{left_out} more ranges)");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for row in rows {
        let _ = write!(out, "    {:w$}", row.label, w = label_width - 2);
        for (cell, w) in row.cells.iter().zip(&widths) {
            let _ = write!(out, "  {cell:w$}");
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}
