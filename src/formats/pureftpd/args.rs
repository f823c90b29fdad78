//! `pure-ftpd` command lines (`pure-ftpd -p 30000:30009 -P host -c 5 -B`), as
//! `getopt_long` hands them to the daemon: short flags bundled or apart
//! (`-p30000:30009`, `-p 30000:30009`), long ones with `=` or a separate word.

use super::options::{long_flag, takes_argument};
use super::{Config, Flag, Layout};
use crate::scripts::Command;
use crate::source::Span;

/// One argument as the script passes it.
pub struct Arg<'a> {
    pub text: &'a str,
    pub span: Span,
    /// The script cannot know the word (`"$PUBLICHOST"`).
    pub unknown: bool,
}

/// The index of the first argument when `c` runs `pure-ftpd`.
pub fn program_of(c: &Command) -> Option<usize> {
    let (p, first) = c.program()?;
    (p.name == "pure-ftpd").then_some(first)
}

/// The flags of a script's `pure-ftpd` command.
pub fn from_command(c: &Command, first: usize) -> Config {
    let args: Vec<Arg> = c
        .argv
        .get(first..)
        .unwrap_or(&[])
        .iter()
        .map(|w| Arg {
            text: &w.text,
            span: w.span,
            unknown: !w.is_known(),
        })
        .collect();
    parse(&args)
}

/// The flags of `args` (the words after the program name).
pub fn parse(args: &[Arg]) -> Config {
    let mut flags = Vec::new();
    let mut k = 0;
    while k < args.len() {
        let word = &args[k];
        k += 1;
        if word.text == "--" {
            break;
        }
        if word.unknown && !word.text.starts_with('-') {
            // `pure-ftpd $FLAGS`: a word the script cannot know may expand to
            // any flags (or name a config file): what it sets is not known.
            flags.push(Flag {
                flag: super::OPAQUE,
                arg: None,
                span: word.span,
                setting: word.span,
                written: String::new(),
            });
            continue;
        }
        if let Some(long) = word.text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let Some(flag) = long_flag(name) else {
                continue;
            };
            let (arg, span) = match inline {
                Some(v) => (Some(v.to_owned()), word.span),
                None if takes_argument(flag) => match args.get(k) {
                    Some(next) => {
                        k += 1;
                        (Some(next.text.to_owned()), next.span)
                    }
                    None => (None, word.span),
                },
                None => (None, word.span),
            };
            flags.push(flag_of(flag, arg, span, word, &args[k.saturating_sub(1)]));
            continue;
        }
        let Some(bundle) = word.text.strip_prefix('-').filter(|b| !b.is_empty()) else {
            continue;
        };
        for (at, flag) in bundle.char_indices() {
            if !takes_argument(flag) {
                flags.push(flag_of(flag, None, word.span, word, word));
                continue;
            }
            let rest = &bundle[at + flag.len_utf8()..];
            let (arg, last) = if !rest.is_empty() {
                (rest.to_owned(), word)
            } else if let Some(next) = args.get(k) {
                k += 1;
                (next.text.to_owned(), next)
            } else {
                break;
            };
            let span = if rest.is_empty() {
                last.span
            } else {
                word.span
            };
            flags.push(flag_of(flag, Some(arg), span, word, last));
            break;
        }
    }
    let findings = super::daemon::check(&flags);
    Config {
        layout: Layout::CommandLine,
        flags,
        findings,
    }
}

fn flag_of(flag: char, arg: Option<String>, span: Span, first: &Arg, last: &Arg) -> Flag {
    let arg = arg.filter(|_| !last.unknown);
    let written = if std::ptr::eq(first, last) {
        first.text.to_owned()
    } else {
        format!("{} {}", first.text, last.text)
    };
    Flag {
        flag,
        arg,
        span,
        setting: first.span.to(last.span),
        written,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn run(words: &[&str]) -> Vec<(char, Option<String>)> {
        let args: Vec<Arg> = words
            .iter()
            .map(|w| Arg {
                text: w,
                span: Span::new(FileId(0), 0, 0),
                unknown: false,
            })
            .collect();
        parse(&args)
            .flags
            .into_iter()
            .map(|f| (f.flag, f.arg))
            .collect()
    }

    #[test]
    fn a_word_not_known_is_kept_as_opaque() {
        let args = [
            Arg {
                text: "-c",
                span: Span::new(FileId(0), 0, 0),
                unknown: false,
            },
            Arg {
                text: "5",
                span: Span::new(FileId(0), 0, 0),
                unknown: false,
            },
            Arg {
                text: "\u{E0FF}",
                span: Span::new(FileId(0), 3, 9),
                unknown: true,
            },
        ];
        let flags = parse(&args).flags;
        assert_eq!(flags.len(), 2);
        assert_eq!(flags[1].flag, super::super::OPAQUE);
        assert_eq!(flags[1].span, Span::new(FileId(0), 3, 9));
    }

    #[test]
    fn short_long_and_bundled_flags() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            run(&[
                "-p",
                "30000:30009",
                "-P",
                "ftp.example.com",
                "-c5",
                "-BH",
                "--tls=1",
                "--bind",
                ",2121"
            ]),
            [
                ('p', s("30000:30009")),
                ('P', s("ftp.example.com")),
                ('c', s("5")),
                ('B', None),
                ('H', None),
                ('Y', s("1")),
                ('S', s(",2121")),
            ]
        );
        assert_eq!(
            run(&["--passiveportrange=30000:30009"]),
            [('p', s("30000:30009"))]
        );
    }
}
