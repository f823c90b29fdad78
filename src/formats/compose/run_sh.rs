//! stilliard/pure-ftpd's `run.sh` (https://github.com/stilliard/docker-pure-ftpd/blob/master/run.sh)
//! as written: it builds `PURE_FTPD_FLAGS=" $@ $ADDED_FLAGS "`, appends
//! `-p $FTP_PASSIVE_PORTS` (default `30000:30009`) only when the string lacks
//! `" -p "`, `-c $FTP_MAX_CLIENTS` (default 5) only when it lacks `" -c "`,
//! `-C $FTP_MAX_CONNECTIONS` (default 5) only when it lacks `" -C "`, then runs
//! `exec /usr/sbin/pure-ftpd $PURE_FTPD_FLAGS`, unquoted: split on blanks.
//!
//! The tests are substring tests: `-p30000:30009` or `--passiveportrange=…`
//! do not contain `" -p "`, so run.sh appends its own `-p` after them, and
//! pure-ftpd takes the last `-p` (`ftpd.c`: each `-p` overwrites the range).

use super::command::Word;
use super::{EnvVar, Service};
use crate::source::Span;

/// A part of the flag string: its text and where it comes from; `exact`
/// when the text is the file's bytes at `span`.
struct Piece {
    text: String,
    span: Span,
    exact: bool,
}

/// The arguments `exec /usr/sbin/pure-ftpd $PURE_FTPD_FLAGS` passes.
pub struct Flags {
    pub words: Vec<Word>,
    /// run.sh appended `-p $FTP_PASSIVE_PORTS` (the last `-p`, so the one that counts).
    pub appended_range: bool,
}

/// The flags run.sh passes, or why they are not known (and where).
pub fn flags(args: &[Word], service: &Service, image_span: Span) -> Result<Flags, (String, Span)> {
    let mut pieces = vec![blank(image_span)];
    for (k, word) in args.iter().enumerate() {
        if k > 0 {
            pieces.push(blank(image_span));
        }
        let text = word.text.clone().ok_or_else(|| {
            (
                "an argument of run.sh depends on a value not known here, and run.sh looks for -p and -c in its arguments".to_owned(),
                word.span,
            )
        })?;
        pieces.push(Piece {
            text,
            span: word.span,
            exact: false,
        });
    }
    pieces.push(blank(image_span));
    if let Some(added) = service.env("ADDED_FLAGS") {
        pieces.push(from_var(added, "ADDED_FLAGS")?);
    }
    pieces.push(blank(image_span));
    let appended_range = !joined(&pieces).contains(" -p ");
    for (flag, var, default) in [
        ("-p", "FTP_PASSIVE_PORTS", "30000:30009"),
        ("-c", "FTP_MAX_CLIENTS", "5"),
        ("-C", "FTP_MAX_CONNECTIONS", "5"),
    ] {
        if joined(&pieces).contains(&format!(" {flag} ")) {
            continue;
        }
        // `if [ -z "$VAR" ]; then VAR=default; fi`: empty counts as unset.
        let value = match service.env(var) {
            Some(v) => match v.value.as_deref() {
                None => {
                    return Err((
                        format!("{var} depends on a value not known here"),
                        v.value_span,
                    ));
                }
                Some("") => None,
                Some(_) => Some(from_var(v, var)?),
            },
            None => None,
        };
        let value = value.unwrap_or_else(|| Piece {
            text: default.to_owned(),
            span: image_span,
            exact: false,
        });
        pieces.push(Piece {
            text: format!(" {flag} "),
            span: value.span,
            exact: false,
        });
        pieces.push(value);
    }
    Ok(Flags {
        words: pieces.iter().flat_map(words_of).collect(),
        appended_range,
    })
}

fn blank(span: Span) -> Piece {
    Piece {
        text: " ".to_owned(),
        span,
        exact: false,
    }
}

fn from_var(var: &EnvVar, name: &str) -> Result<Piece, (String, Span)> {
    let text = var.value.clone().ok_or_else(|| {
        (
            format!(
                "{name} depends on a value not known here, and run.sh reads pure-ftpd flags from it"
            ),
            var.value_span,
        )
    })?;
    let exact = var.value_span.len() == text.len();
    Ok(Piece {
        text,
        span: var.value_span,
        exact,
    })
}

fn joined(pieces: &[Piece]) -> String {
    pieces.iter().map(|p| p.text.as_str()).collect()
}

/// The words of a piece as an unquoted expansion splits them (default IFS);
/// a word with a glob character depends on the container's files.
fn words_of(piece: &Piece) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    let text = &piece.text;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let blank = matches!(c, ' ' | '\t' | '\n');
        match (blank, start) {
            (false, None) => start = Some(i),
            (true, Some(a)) => {
                let word = &text[a..i];
                let span = if piece.exact {
                    Span::new(
                        piece.span.file,
                        piece.span.start as usize + a,
                        piece.span.start as usize + i,
                    )
                } else {
                    piece.span
                };
                let globbed = word.contains(['*', '?', '[']);
                out.push(Word {
                    text: (!globbed).then(|| word.to_owned()),
                    span,
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The arguments the image's CMD gives run.sh: `-l puredb:… -E -j -R -P
/// $PUBLICHOST`, `$PUBLICHOST` split by `sh -c` (the Dockerfile's
/// `ENV PUBLICHOST localhost` unless the service sets it).
pub fn default_args(service: &Service, image_span: Span) -> Vec<Word> {
    let mut args: Vec<Word> = [
        "-l",
        "puredb:/etc/pure-ftpd/pureftpd.pdb",
        "-E",
        "-j",
        "-R",
        "-P",
    ]
    .iter()
    .map(|w| Word::known(w, image_span))
    .collect();
    match service.env("PUBLICHOST") {
        None => args.push(Word::known("localhost", image_span)),
        Some(v) => match &v.value {
            None => args.push(Word {
                text: None,
                span: v.value_span,
            }),
            Some(text) => args.extend(words_of(&Piece {
                text: text.clone(),
                span: v.value_span,
                exact: v.value_span.len() == text.len(),
            })),
        },
    }
    args
}

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::*;

    fn run(text: &str, args: &[&str]) -> Vec<String> {
        let (d, src) = doc(text);
        let s = &d.services[0];
        let span = src.span(0, 0);
        let args: Vec<Word> = args.iter().map(|a| Word::known(a, span)).collect();
        flags(&args, s, span)
            .unwrap()
            .words
            .into_iter()
            .map(|w| w.text.unwrap())
            .collect()
    }

    #[test]
    fn appends_only_what_the_substring_tests_miss() {
        let base = "services:\n  ftp:\n    image: stilliard/pure-ftpd\n";
        assert_eq!(
            run(base, &["-E"]),
            ["-E", "-p", "30000:30009", "-c", "5", "-C", "5"]
        );
        assert_eq!(
            run(base, &["-c", "30", "-p", "30000:30059"]),
            ["-c", "30", "-p", "30000:30059", "-C", "5"]
        );
        let added = format!(
            "{base}    environment:\n      ADDED_FLAGS: \"--tls=1 --passiveportrange=40000:40009\"\n      FTP_PASSIVE_PORTS: \"30000:30019\"\n"
        );
        assert_eq!(
            run(&added, &[]),
            [
                "--tls=1",
                "--passiveportrange=40000:40009",
                "-p",
                "30000:30019",
                "-c",
                "5",
                "-C",
                "5"
            ]
        );
        let empty = format!("{base}    environment:\n      FTP_MAX_CLIENTS: \"\"\n");
        assert!(run(&empty, &[]).windows(2).any(|w| w == ["-c", "5"]));
    }

    #[test]
    fn an_unknown_added_flags_leaves_the_flags_unknown() {
        let (d, src) = doc(
            "services:\n  ftp:\n    image: stilliard/pure-ftpd\n    environment:\n      ADDED_FLAGS: ${X}\n",
        );
        assert!(flags(&[], &d.services[0], src.span(0, 0)).is_err());
    }
}
