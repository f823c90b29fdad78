//! A host's Pure-FTPd configuration as a whole: Debian's `conf/` directory is
//! one configuration (the wrapper turns every file into one flag), and on such a
//! host `pure-ftpd.conf` beside it is never read (the init script runs
//! `pure-ftpd-wrapper`, which reads only `conf/`). A `pure-ftpd.conf` alone is
//! the configuration.

use super::{Assembled, Config, Finding, FindingKind, Layout};
use crate::facts::FtpServer;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::{Document, ParsedFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn config(part: &ParsedFile) -> Option<&Config> {
    match &part.doc {
        Document::PureFtpd(config) => Some(config),
        _ => None,
    }
}

/// The folder that holds a configuration: `/etc/pure-ftpd` for both
/// `/etc/pure-ftpd/pure-ftpd.conf` and `/etc/pure-ftpd/conf/TLS`.
fn home(part: &ParsedFile) -> PathBuf {
    let path: &Path = &part.source.path;
    let up = match config(part).map(|c| c.layout) {
        Some(Layout::OptionFile) => path.parent().and_then(Path::parent),
        _ => path.parent(),
    };
    up.map(Path::to_path_buf).unwrap_or_default()
}

pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let mut homes: BTreeMap<PathBuf, Vec<ParsedFile>> = BTreeMap::new();
    for part in parts {
        homes.entry(home(&part)).or_default().push(part);
    }
    homes.into_values().map(one).collect()
}

fn one(mut parts: Vec<ParsedFile>) -> Bundle {
    let is_option = |p: &ParsedFile| config(p).is_some_and(|c| c.layout == Layout::OptionFile);
    parts.sort_by_key(|p| (!is_option(p), p.source.path.clone()));
    let wrapper = parts.iter().any(is_option);
    let mut flags = Vec::new();
    let mut findings = Vec::new();
    for part in &parts {
        let Some(c) = config(part) else { continue };
        if wrapper && c.layout == Layout::ConfFile {
            findings.push(conf_not_read(part, c));
        } else {
            flags.extend(c.flags.iter().cloned());
        }
    }
    let primary = parts[0].source.id;
    Bundle {
        primary,
        parts,
        doc: BundleDoc::PureFtpd(Assembled {
            layout: if wrapper {
                Layout::OptionFile
            } else {
                Layout::ConfFile
            },
            flags,
            findings,
        }),
    }
}

fn conf_not_read(part: &ParsedFile, c: &Config) -> Finding {
    let span = c
        .flags
        .iter()
        .find(|f| f.flag == 'p')
        .or(c.flags.first())
        .map_or(part.source.span(0, 0), |f| f.setting);
    Finding {
        kind: FindingKind::Ignored,
        span,
        label: "never read on this host",
        message: format!(
            "{} is never read: beside a conf/ directory, Debian's pure-ftpd-wrapper starts pure-ftpd from conf/ alone",
            part.source.path.file_name().map_or("pure-ftpd.conf".into(), |n| n.to_string_lossy())
        ),
        help: "put each setting in its own file under conf/ (e.g. `echo '30000 30099' > /etc/pure-ftpd/conf/PassivePortRange`), then delete this file".to_owned(),
    }
}

pub fn facts(model: &Assembled, bundle: &Bundle) -> Vec<FtpServer> {
    let primary = bundle.primary_file();
    let source = &primary.source;
    let findings = bundle
        .parts
        .iter()
        .filter_map(config)
        .flat_map(|c| c.findings.iter())
        .chain(&model.findings);
    vec![super::facts::server(
        &model.flags,
        super::facts::refusal(findings),
        source,
    )]
}

/// The bundle's model, for rules.
pub fn assembled(bundle: &Bundle) -> Option<&Assembled> {
    match &bundle.doc {
        BundleDoc::PureFtpd(model) => Some(model),
        _ => None,
    }
}
