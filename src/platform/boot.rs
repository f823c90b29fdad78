//! What a host's boot files set for the kernel's FTP conntrack helper, beside
//! loading `nf_conntrack_ftp`: automatic assignment turned back on
//! (`net.netfilter.nf_conntrack_helper=1` in sysctl.conf or sysctl.d, or the
//! `nf_conntrack` module parameter of that name in modprobe.d), and
//! `options nf_conntrack_ftp loose=1`, which lets the helper expect a data
//! connection to an address other than the control connection's.

use super::{Clue, Says, lines};
use crate::source::{SourceFile, Span};
use std::path::Path;

/// `/etc/sysctl.conf`, `…/sysctl.d/*.conf`, `…/modprobe.d/*.conf`.
pub fn sniff(name: &str, parent: &str) -> bool {
    (parent == "etc" && name == "sysctl.conf")
        || (matches!(parent, "sysctl.d" | "modprobe.d") && name.ends_with(".conf"))
}

/// The clues of a file [`sniff`] accepts.
pub fn read(source: &SourceFile) -> Vec<Clue> {
    let parent = super::parent_name(&source.path);
    if parent == "modprobe.d" {
        return modprobe_options(source);
    }
    sysctl_settings(source, order_key(&source.path))
}

/// systemd-sysctl and `sysctl --system` apply sysctl.d files in the order of
/// their names, then `/etc/sysctl.conf`: a later setting wins.
fn order_key(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "sysctl.conf" && super::parent_name(path) == "etc" {
        "~".to_owned()
    } else {
        name.to_owned()
    }
}

/// `net.netfilter.nf_conntrack_helper = 1` (or `net/netfilter/...`).
fn sysctl_settings(source: &SourceFile, order: String) -> Vec<Clue> {
    lines(source)
        .filter_map(|(line, span)| {
            let line = line.trim();
            if line.starts_with(['#', ';']) {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            let key = key.trim().trim_start_matches('-').replace('/', ".");
            (key == "net.netfilter.nf_conntrack_helper")
                .then(|| toggle(value.trim(), span, line, order.clone()))
                .flatten()
        })
        .collect()
}

fn toggle(value: &str, span: Span, line: &str, order: String) -> Option<Clue> {
    let on = match value {
        "1" | "Y" | "y" => true,
        "0" | "N" | "n" => false,
        _ => return None,
    };
    Some(Clue {
        says: Says::AutoHelper { on, order },
        span,
        reason: line.to_owned(),
    })
}

/// `options nf_conntrack nf_conntrack_helper=1` and `options nf_conntrack_ftp loose=1`.
fn modprobe_options(source: &SourceFile) -> Vec<Clue> {
    let order = String::new();
    let mut clues = Vec::new();
    for (line, span) in lines(source) {
        let mut words = line.split_whitespace();
        if words.next() != Some("options") {
            continue;
        }
        let module = words.next().unwrap_or("").replace('-', "_");
        for param in words.take_while(|w| !w.starts_with('#')) {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            let clue = match (module.as_str(), name) {
                ("nf_conntrack", "nf_conntrack_helper") => {
                    toggle(value, span, line.trim(), order.clone())
                }
                ("nf_conntrack_ftp" | "ip_conntrack_ftp", "loose") => {
                    matches!(value, "1" | "Y" | "y").then(|| Clue {
                        says: Says::FtpHelperLoose,
                        span,
                        reason: line.trim().to_owned(),
                    })
                }
                _ => None,
            };
            clues.extend(clue);
        }
    }
    clues
}

/// The setting of automatic assignment that wins: the last one applied.
pub fn auto_assign(clues: &[Clue]) -> Option<(bool, Span)> {
    clues
        .iter()
        .filter_map(|c| match &c.says {
            Says::AutoHelper { on, order } => Some((order, c.span, *on)),
            _ => None,
        })
        .max_by(|a, b| (a.0, a.1.file, a.1.start).cmp(&(b.0, b.1.file, b.1.start)))
        .map(|(_, span, on)| (on, span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn source(path: &str, text: &str) -> SourceFile {
        SourceFile::new(FileId(0), path, text.as_bytes())
    }

    #[test]
    fn the_sysctl_that_turns_automatic_assignment_on() {
        let clues = read(&source(
            "h/etc/sysctl.d/70-conntrack.conf",
            "# helper\nnet.netfilter.nf_conntrack_helper=1\n",
        ));
        assert_eq!(auto_assign(&clues).map(|(on, _)| on), Some(true));
        let slashes = read(&source(
            "h/etc/sysctl.conf",
            "net/netfilter/nf_conntrack_helper = 0\n",
        ));
        assert_eq!(auto_assign(&slashes).map(|(on, _)| on), Some(false));
        let both: Vec<Clue> = clues.into_iter().chain(slashes).collect();
        assert_eq!(
            auto_assign(&both).map(|(on, _)| on),
            Some(false),
            "/etc/sysctl.conf is applied last"
        );
        assert!(
            read(&source(
                "h/etc/sysctl.conf",
                "#net.netfilter.nf_conntrack_helper=1\n"
            ))
            .is_empty()
        );
    }

    #[test]
    fn modprobe_options_for_the_helper() {
        let clues = read(&source(
            "h/etc/modprobe.d/ftp.conf",
            "options nf_conntrack_ftp loose=1\noptions nf_conntrack nf_conntrack_helper=1\noptions nf_conntrack_ftp loose=0\n",
        ));
        assert_eq!(
            clues
                .iter()
                .filter(|c| c.says == Says::FtpHelperLoose)
                .count(),
            1
        );
        assert_eq!(auto_assign(&clues).map(|(on, _)| on), Some(true));
    }
}
