//! Pure-FTPd: the daemon's own `pure-ftpd.conf`, Debian's one-file-per-option
//! `/etc/pure-ftpd/conf/` directory (read by `pure-ftpd-wrapper`), and
//! `pure-ftpd` command lines in scripts.
//!
//! Every reader turns what it reads into the daemon's command-line flags, as
//! the daemon (or the wrapper) does before it starts; [`daemon`] then checks the
//! flags as the daemon's option loop does and [`facts`] computes what it serves.

pub mod args;
pub mod bundle;
pub mod conf;
pub mod daemon;
pub mod debian;
pub mod facts;
pub mod options;

use crate::source::{SourceFile, Span};
use std::path::Path;

pub use facts::facts;

/// The flags the daemon receives, and what nothing reads.
#[derive(Debug)]
pub struct Assembled {
    pub layout: Layout,
    pub flags: Vec<Flag>,
    /// Findings about the bundle as a whole (a `pure-ftpd.conf` the wrapper never reads).
    pub findings: Vec<Finding>,
}

/// Where a configuration was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `pure-ftpd.conf`, read by the daemon itself.
    ConfFile,
    /// One file of Debian's `/etc/pure-ftpd/conf/`, read by `pure-ftpd-wrapper`.
    OptionFile,
    /// A `pure-ftpd` command line.
    CommandLine,
}

/// The flag of a command-line word the script cannot know (`pure-ftpd
/// $FLAGS`): it may expand to any flags, so what a later one of them would
/// set is not known ([`facts`] reads the passive range, the control port and
/// the session limit as unknown when no known flag follows it).
pub const OPAQUE: char = '\0';

/// One flag as the daemon receives it: `-p 30000:30009`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub flag: char,
    pub arg: Option<String>,
    /// The value as written (or the option name of a boolean).
    pub span: Span,
    /// The whole setting (line, file or command-line words).
    pub setting: Span,
    /// The setting as the user wrote it, for messages: `PassivePortRange 30000 29000`.
    pub written: String,
}

/// What pure-ftpd (or its wrapper) does with a mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// The daemon or the wrapper refuses to start.
    Invalid,
    /// The passive range is refused (the daemon does not start).
    RangeInvalid,
    /// A setting nothing reads.
    Ignored,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub span: Span,
    pub label: &'static str,
    pub message: String,
    pub help: String,
}

/// A parsed Pure-FTPd source.
#[derive(Clone, Debug)]
pub struct Config {
    pub layout: Layout,
    pub flags: Vec<Flag>,
    pub findings: Vec<Finding>,
}

impl Config {
    /// The last value of `flag` (getopt: a later flag overrides an earlier one).
    pub fn last(&self, flag: char) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.flag == flag)
    }

    /// The first value of `flag` (for the options whose first value sticks).
    pub fn first(&self, flag: char) -> Option<&Flag> {
        self.flags.iter().find(|f| f.flag == flag)
    }
}

/// Which Pure-FTPd source a path is.
pub fn sniff(path: &Path) -> Option<Layout> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "pure-ftpd.conf" || lower == "pureftpd.conf" {
        return Some(Layout::ConfFile);
    }
    let dir = path.parent()?;
    let parent = dir.parent()?.file_name()?.to_str()?;
    (dir.file_name()? == "conf" && parent == "pure-ftpd").then_some(Layout::OptionFile)
}

pub fn parse(source: &SourceFile, layout: Layout) -> Config {
    let mut config = match layout {
        Layout::ConfFile => conf::parse(source),
        Layout::OptionFile => debian::parse(source),
        Layout::CommandLine => Config {
            layout,
            flags: Vec::new(),
            findings: Vec::new(),
        },
    };
    let refused = daemon::check(&config.flags);
    config.findings.extend(refused);
    config
}

/// The daemon's name for a flag's option, for messages: `PassivePortRange`, `-p`.
pub fn shown_name(flag: char, layout: Layout) -> String {
    match (layout, options::flag_option(flag)) {
        (Layout::CommandLine, Some(o)) => format!("--{}", o.long),
        (_, Some(o)) => o.name.to_owned(),
        (_, None) => format!("-{flag}"),
    }
}

/// The Pure-FTPd findings of a parsed file (a config, an option file, or the
/// `pure-ftpd` command lines of a script).
pub fn findings_of(file: &crate::formats::ParsedFile) -> Vec<&Finding> {
    match &file.doc {
        crate::formats::Document::PureFtpd(config) => config.findings.iter().collect(),
        crate::formats::Document::Iptables(rs) => rs
            .pure_ftpd
            .iter()
            .flat_map(|c| c.findings.iter())
            .collect(),
        _ => Vec::new(),
    }
}

/// The servers a script's `pure-ftpd` command lines start.
pub fn script_facts(lines: &[Config], source: &SourceFile) -> Vec<crate::facts::FtpServer> {
    lines.iter().flat_map(|c| facts(c, source)).collect()
}
