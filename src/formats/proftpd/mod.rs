//! ProFTPD: `proftpd.conf` and the files it `Include`s (Debian's `modules.conf`,
//! `tls.conf`, `conf.d/*.conf`), read as the daemon's `src/parser.c` reads them.
//!
//! Each file is lexed alone ([`lexer`]); the directives are then walked from the
//! main file through its includes in the daemon's order ([`walk`]), since which
//! modules are loaded, which `<IfModule>` blocks count and which context a line
//! stands in depend on everything read before it. [`facts`] computes the servers
//! (the main server and each `<VirtualHost>`) the walk leaves behind.

pub mod bundle;
pub mod directives;
pub mod facts;
pub mod lexer;
mod table;
pub mod values;
pub mod walk;

use crate::source::{SourceFile, Span};
use std::path::Path;

/// A walked configuration; `None` for a file no main configuration includes.
#[derive(Debug)]
pub struct Assembled {
    pub model: Option<Box<walk::Model>>,
}

/// What the daemon does with a mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// `proftpd -t` fails: the daemon does not start.
    Invalid,
    /// A `PassivePorts` the daemon refuses (it does not start).
    RangeInvalid,
    /// An error inside an included file: the daemon logs it, says "unable to
    /// include", and starts anyway.
    Skipped,
    /// An `Include` that names no file: the daemon warns and goes on.
    IncludeMissing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub span: Span,
    pub label: String,
    pub message: String,
    pub help: String,
    /// About `PassivePorts` (reported by `proftpd-passive-ports-invalid`).
    pub range: bool,
}

/// One file, lexed.
#[derive(Clone, Debug)]
pub struct Config {
    pub lines: Vec<lexer::Line>,
    /// Whether this is a main configuration (`proftpd.conf`) rather than a file
    /// some other one includes.
    pub main: bool,
}

/// Whether a path is a ProFTPD configuration: `proftpd.conf` anywhere, or a
/// `.conf` file under a `proftpd` folder (`/etc/proftpd/modules.conf`,
/// `/etc/proftpd/conf.d/tls.conf`).
pub fn sniff(path: &Path) -> bool {
    if is_main(path) {
        return true;
    }
    let conf = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("conf"));
    conf && path
        .ancestors()
        .skip(1)
        .take(2)
        .any(|a| a.file_name().is_some_and(|n| n == "proftpd"))
}

fn is_main(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "proftpd.conf")
}

pub fn parse(source: &SourceFile) -> Config {
    Config {
        lines: lexer::lines(source),
        main: is_main(&source.path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_it_reads() {
        assert!(sniff(Path::new("h/etc/proftpd/proftpd.conf")));
        assert!(sniff(Path::new("h/etc/proftpd.conf")));
        assert!(sniff(Path::new("h/etc/proftpd/conf.d/pasv.conf")));
        assert!(sniff(Path::new("h/etc/proftpd/tls.conf")));
        assert!(!sniff(Path::new("h/etc/proftpd/conf.d/README")));
        assert!(!sniff(Path::new("h/etc/vsftpd.conf")));
    }
}
