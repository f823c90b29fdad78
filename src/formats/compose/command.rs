//! What a container runs: its image's ENTRYPOINT and CMD, or what a compose
//! `entrypoint:`/`command:` (a Kubernetes `command:`/`args:`) puts in their
//! place. Both tools follow Docker: an entrypoint given replaces the image's
//! ENTRYPOINT and drops its CMD; a command given replaces CMD only (compose
//! spec `entrypoint`; Kubernetes "Define a Command and Arguments for a
//! Container": `command` is the entrypoint, `args` the CMD).

use super::images::Image;
use super::interp;
use crate::formats::yaml::Node;
use crate::source::Span;

/// One argument; `text` is `None` where it depends on a value not known here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: Option<String>,
    pub span: Span,
}

impl Word {
    pub fn known(text: &str, span: Span) -> Word {
        Word {
            text: Some(text.to_owned()),
            span,
        }
    }
}

/// An `entrypoint:`/`command:` value: its words and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argv {
    pub words: Vec<Word>,
    pub span: Span,
}

/// A compose `command:`/`entrypoint:`: a list, one word an item, or a string
/// split as docker-py's `split_command` does (`shlex.split`: POSIX quoting,
/// no comments, no expansion); either after Compose's interpolation.
pub fn read(node: &Node, vars: &interp::Vars) -> Option<Argv> {
    let words = match node {
        Node::Seq { items, .. } => items
            .iter()
            .map(|item| Word {
                text: item.as_str().and_then(|t| interp::interpolate(t, vars)),
                span: item.span(),
            })
            .collect(),
        Node::Scalar { text, span, .. } if !node.is_null() => {
            match interp::interpolate(text, vars) {
                Some(done) => {
                    // Offsets in the text map onto the file when it is written as read.
                    let exact = done == *text && span.len() == text.len();
                    split(&done, *span, exact)?
                }
                None => vec![Word {
                    text: None,
                    span: *span,
                }],
            }
        }
        _ => return None,
    };
    Some(Argv {
        words,
        span: node.span(),
    })
}

/// `shlex.split(text)` (POSIX mode); `None` where shlex raises (an unclosed
/// quote, a trailing backslash), which docker-compose reports as an error.
pub fn split(text: &str, span: Span, exact: bool) -> Option<Vec<Word>> {
    let at = |a: usize, b: usize| {
        if exact {
            Span::new(span.file, span.start as usize + a, span.start as usize + b)
        } else {
            span
        }
    };
    let mut words = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if let Some((w, start)) = current.take() {
                    words.push(Word::known(&w, at(start, i)));
                }
            }
            '\'' | '"' => {
                let (w, _) = current.get_or_insert_with(|| (String::new(), i));
                loop {
                    let (_, q) = chars.next()?;
                    if q == c {
                        break;
                    }
                    // In double quotes a backslash escapes only `"` and itself.
                    if c == '"' && q == '\\' {
                        if let Some(&(_, next)) = chars.peek() {
                            if next == '"' || next == '\\' {
                                chars.next();
                                w.push(next);
                                continue;
                            }
                        }
                    }
                    w.push(q);
                }
            }
            '\\' => {
                let (w, _) = current.get_or_insert_with(|| (String::new(), i));
                let (_, next) = chars.next()?;
                w.push(next);
            }
            _ => current.get_or_insert_with(|| (String::new(), i)).0.push(c),
        }
    }
    if let Some((w, start)) = current {
        words.push(Word::known(&w, at(start, text.len())));
    }
    Some(words)
}

/// What starts in the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runs {
    /// The image's own ENTRYPOINT and CMD: its variables decide ([`super::images`]).
    Image,
    /// The image's start script, with other arguments than its CMD gives it.
    Script(Vec<Word>),
    /// `pure-ftpd` itself, with these arguments.
    PureFtpd(Vec<Word>),
    /// Something pasvlint does not follow: why, and where it is written.
    Unknown(String, Span),
}

/// What runs, given the image (when known) and the overrides; `None` when
/// nothing says an FTP server runs.
pub fn runs(
    image: Option<&Image>,
    entrypoint: Option<&Argv>,
    command: Option<&Argv>,
) -> Option<Runs> {
    if entrypoint.is_none() && command.is_none() {
        return image.map(|_| Runs::Image);
    }
    let at = entrypoint.or(command).map(|a| a.span)?;
    let argv: Vec<Word> = match (entrypoint, command, image) {
        (Some(e), Some(c), _) => e.words.iter().chain(&c.words).cloned().collect(),
        (Some(e), None, _) => e.words.clone(),
        (None, Some(c), Some(image)) => match &image.start {
            Some(start) => start
                .entrypoint
                .iter()
                .map(|w| Word::known(w, at))
                .chain(c.words.iter().cloned())
                .collect(),
            None => {
                return Some(Runs::Unknown(
                    format!(
                        "`command` replaces the CMD of {}, whose ENTRYPOINT and CMD pasvlint has not read, so what the server runs is not known",
                        image.name
                    ),
                    at,
                ));
            }
        },
        // An image not in the table: a command naming a daemon is read as
        // running it (an ENTRYPOINT that did not exec its arguments would make
        // such a command pointless).
        (None, Some(c), None) => c.words.clone(),
        (None, None, _) => return None,
    };
    recognise(image, argv, at)
}

fn recognise(image: Option<&Image>, argv: Vec<Word>, at: Span) -> Option<Runs> {
    let Some((program, args)) = argv.split_first() else {
        return image.map(|i| Runs::Unknown(format!("the container is started with an empty command instead of the ENTRYPOINT and CMD of {}", i.name), at));
    };
    let Some(path) = program.text.as_deref() else {
        return Some(Runs::Unknown(
            "the program the container runs depends on a value not known here".to_owned(),
            program.span,
        ));
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "pure-ftpd" {
        return Some(Runs::PureFtpd(args.to_vec()));
    }
    let image = image?;
    let start = image.start.as_ref();
    if start.is_some_and(|s| s.is_default(&argv)) {
        return Some(Runs::Image);
    }
    if start.and_then(|s| s.script) == Some(path) {
        return Some(Runs::Script(args.to_vec()));
    }
    Some(Runs::Unknown(
        format!(
            "the container runs `{path}` instead of the entrypoint of {}, so what the server runs is not known",
            image.name
        ),
        program.span,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn words(text: &str) -> Vec<(String, usize, usize)> {
        split(text, Span::new(FileId(0), 0, text.len()), true)
            .unwrap()
            .into_iter()
            .map(|w| (w.text.unwrap(), w.span.start as usize, w.span.end as usize))
            .collect()
    }

    #[test]
    fn splits_as_shlex_does() {
        let w = |s: &str, a, b| (s.to_owned(), a, b);
        assert_eq!(
            words("/run.sh -c 30  -p 30000:30059"),
            [
                w("/run.sh", 0, 7),
                w("-c", 8, 10),
                w("30", 11, 13),
                w("-p", 15, 17),
                w("30000:30059", 18, 29)
            ]
        );
        assert_eq!(
            words(r#"a "b c" 'd\e' f\ g "h\"i\j""#)
                .into_iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            ["a", "b c", r"d\e", "f g", r#"h"i\j"#]
        );
        assert_eq!(
            words("x#y # z")
                .into_iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            ["x#y", "#", "z"]
        );
        let s = Span::new(FileId(0), 0, 3);
        assert!(split("'ab", s, true).is_none());
        assert!(split("ab\\", s, true).is_none());
    }

    fn argv(words: &[&str]) -> Argv {
        let span = Span::new(FileId(0), 0, 0);
        Argv {
            words: words.iter().map(|w| Word::known(w, span)).collect(),
            span,
        }
    }

    #[test]
    fn overrides_follow_docker_semantics() {
        let stilliard = crate::formats::compose::images::lookup("stilliard/pure-ftpd");
        let fauria = crate::formats::compose::images::lookup("fauria/vsftpd");
        let gareth = crate::formats::compose::images::lookup("garethflowers/ftp-server");
        assert_eq!(runs(stilliard, None, None), Some(Runs::Image));
        assert!(
            matches!(runs(stilliard, None, Some(&argv(&["/run.sh", "-p", "30000:30059"]))), Some(Runs::Script(a)) if a.len() == 2)
        );
        assert!(
            matches!(runs(None, Some(&argv(&["/usr/sbin/pure-ftpd"])), Some(&argv(&["-p", "30000:30001"]))), Some(Runs::PureFtpd(a)) if a.len() == 2)
        );
        assert_eq!(
            runs(fauria, None, Some(&argv(&["/usr/sbin/run-vsftpd.sh"]))),
            Some(Runs::Image)
        );
        assert!(matches!(
            runs(fauria, Some(&argv(&["/bin/bash"])), None),
            Some(Runs::Unknown(..))
        ));
        assert!(matches!(
            runs(gareth, None, Some(&argv(&["vsftpd"]))),
            Some(Runs::Unknown(..))
        ));
        assert_eq!(runs(None, None, Some(&argv(&["nginx"]))), None);
    }
}
