//! The FTP server of a container started with a command line in place of its
//! image's default: `pure-ftpd` with its flags, or stilliard/pure-ftpd's
//! `run.sh` with other arguments ([`super::run_sh`]). The flags are read by
//! the one Pure-FTPd flag reader ([`crate::formats::pureftpd::args`]).

use super::command::Word;
use super::images::Image;
use super::{Service, run_sh};
use crate::facts::{FtpServer, Located, Passive};
use crate::formats::pureftpd::{args, facts};
use crate::source::{SourceFile, Span};

/// `pure-ftpd ARGS`, as the daemon's option loop reads them (`src/ftpd.c`).
pub fn pure_ftpd(words: &[Word], source: &SourceFile, image_span: Option<Span>) -> FtpServer {
    let config = args::parse(&as_args(words));
    let mut server = facts::server(&config.flags, facts::refusal(&config.findings), source);
    if let Some(span) = image_span {
        server.anchor = span;
    }
    // `pure-ftpd FILE` (one argument, not an option) reads its settings from a
    // config file in the container (`ftpd.c`: `argc == 2 && *argv[1] != '-'`).
    if let [only] = words {
        if only.text.as_deref().is_some_and(|t| !t.starts_with('-')) {
            server.passive = Passive::Unknown {
                spans: vec![only.span],
                reason: format!(
                    "pure-ftpd reads its settings from {} inside the container, which pasvlint does not follow",
                    only.text.as_deref().unwrap_or("")
                ),
            };
            server.max_sessions = Located::new(None, Some(only.span));
        }
    }
    server
}

/// stilliard/pure-ftpd's `run.sh ARGS`: the flags it hands pure-ftpd. Fixes
/// name the image's variables when run.sh appended the range itself.
pub fn run_sh(
    image: &'static Image,
    words: &[Word],
    service: &Service,
    source: &SourceFile,
) -> FtpServer {
    let image_span = service
        .image
        .as_ref()
        .map_or(source.span(0, 0), |(_, s)| *s);
    match run_sh::flags(words, service, image_span) {
        Ok(flags) => {
            let mut server = pure_ftpd(&flags.words, source, Some(image_span));
            if flags.appended_range {
                server.server = image.name;
            }
            server
        }
        Err((reason, span)) => {
            let mut server = pure_ftpd(&[], source, Some(image_span));
            server.server = image.name;
            server.passive = Passive::Unknown {
                spans: vec![span],
                reason,
            };
            server.max_sessions = Located::new(None, Some(span));
            server
        }
    }
}

fn as_args(words: &[Word]) -> Vec<args::Arg<'_>> {
    words
        .iter()
        .map(|w| args::Arg {
            text: w.text.as_deref().unwrap_or(""),
            span: w.span,
            unknown: w.text.is_none(),
        })
        .collect()
}
