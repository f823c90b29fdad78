//! Dockerfiles, read as far as pairing needs: the final stage's base image, its
//! `ENV` values, the files `COPY`/`ADD` put into it, whether it replaces how the
//! base image starts (`CMD`/`ENTRYPOINT`), and its `EXPOSE` ports (which publish
//! nothing: they are metadata for `docker run -P` and readers).

use crate::formats::compose::mounts::{Volume, lexical};
use crate::source::Span;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stage {
    /// The `FROM` reference; `None` before any `FROM`, or when it names a variable.
    pub from: Option<String>,
    /// In order; `None` for a value that depends on a build variable.
    pub env: Vec<(String, Option<String>)>,
    /// `COPY`/`ADD` from the build context: sources (relative to it) and destination.
    pub copies: Vec<(Vec<String>, String)>,
    /// The stage sets `CMD` or `ENTRYPOINT`: the base image's entrypoint may not run.
    pub starts_itself: bool,
    /// The program of the stage's last `ENTRYPOINT` and `CMD` (the first word of
    /// the exec or shell form), when the stage sets them.
    pub entrypoint: Option<String>,
    pub cmd: Option<String>,
    /// `EXPOSE` ranges, TCP only.
    pub expose: Vec<(u16, u16)>,
}

/// Each stage may copy an earlier one: a bound keeps a hostile file linear.
const MAX_STAGES: usize = 64;

/// The stage `target` names, else the last one; nothing is known of a file
/// with more than [`MAX_STAGES`] stages.
pub fn parse(text: &str, target: Option<&str>) -> Stage {
    // Each named stage as it ends: a later `FROM name` starts from it.
    let mut stages: HashMap<String, Stage> = HashMap::new();
    let mut current = Stage::default();
    let mut name: Option<String> = None;
    let mut froms = 0;
    for line in logical_lines(text) {
        let (word, rest) = split_word(&line);
        match word.to_ascii_uppercase().as_str() {
            "FROM" if froms >= MAX_STAGES => return Stage::default(),
            "FROM" => {
                froms += 1;
                let (base, alias) = from(rest);
                if let Some(n) = name.take() {
                    stages.insert(n, std::mem::take(&mut current));
                }
                current = stages
                    .get(&base.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or(Stage {
                        from: (!base.contains('$')).then_some(base),
                        ..Stage::default()
                    });
                name = alias.map(|a| a.to_ascii_lowercase());
            }
            "ENV" => current.env.extend(env(rest)),
            "COPY" | "ADD" => current.copies.extend(copy(rest)),
            "CMD" | "ENTRYPOINT" => {
                current.starts_itself = true;
                let program = program(rest);
                if word.eq_ignore_ascii_case("ENTRYPOINT") {
                    current.entrypoint = program;
                } else {
                    current.cmd = program;
                }
            }
            "EXPOSE" => current
                .expose
                .extend(rest.split_whitespace().filter_map(expose)),
            _ => {}
        }
    }
    if let Some(n) = name {
        stages.insert(n, current.clone());
    }
    target
        .and_then(|t| stages.remove(&t.to_ascii_lowercase()))
        .unwrap_or(current)
}

/// The program a `CMD`/`ENTRYPOINT` runs: the first string of the exec form
/// (`["/sbin/tini", "--", "/run.sh"]`), else the first word of the shell form.
fn program(rest: &str) -> Option<String> {
    let rest = rest.trim();
    if let Some(list) = rest.strip_prefix('[') {
        let first = list.trim_start().strip_prefix('"')?;
        let end = first.find('"')?;
        return Some(first[..end].to_owned()).filter(|p| !p.is_empty());
    }
    rest.split_whitespace().next().map(str::to_owned)
}

impl Stage {
    /// The program the container starts with when it is not an FTP daemon
    /// whose command line pasvlint reads (`/usr/sbin/run-vsftpd.sh`,
    /// `/sbin/tini`): such a program may change the server's settings before
    /// the daemon starts.
    pub fn starts_other_program(&self) -> Option<&str> {
        let program = self.entrypoint.as_deref().or(self.cmd.as_deref())?;
        let name = program.rsplit('/').next().unwrap_or(program);
        let daemon = matches!(name, "vsftpd" | "proftpd" | "in.proftpd" | "pure-ftpd");
        (!daemon).then_some(program)
    }
}

/// What a service's Dockerfile says; its findings point at `span` (the
/// compose entry naming the Dockerfile), as the Dockerfile is no file of the run.
#[derive(Clone, Debug)]
pub struct Built {
    pub stage: Stage,
    pub span: Span,
    pub context: PathBuf,
    /// The Dockerfile, when it is a file.
    pub dockerfile: Option<PathBuf>,
}

impl Built {
    /// The image whose entrypoint runs: the base, unless the Dockerfile starts
    /// the container its own way.
    pub fn image(&self) -> Option<(String, Span)> {
        let from = self.stage.from.clone()?;
        (!self.stage.starts_itself).then_some((from, self.span))
    }

    /// Each `COPY`/`ADD` of a context path, as the mount it amounts to (the
    /// copy is writable in the container, as a read-write mount is).
    pub fn copies(&self) -> Vec<Volume> {
        let mut out = Vec::new();
        for (sources, dest) in &self.stage.copies {
            if !dest.starts_with('/') {
                continue;
            }
            let into_dir = dest.ends_with('/') || sources.len() > 1;
            let dest = dest.trim_end_matches('/');
            for s in sources {
                let source = lexical(&self.context.join(s));
                if !source.starts_with(&self.context) {
                    continue;
                }
                let target = match source.file_name().and_then(|n| n.to_str()) {
                    Some(name) if into_dir && !source.is_dir() => format!("{dest}/{name}"),
                    _ => dest.to_owned(),
                };
                out.push(Volume {
                    source,
                    target: if target.is_empty() {
                        "/".into()
                    } else {
                        target
                    },
                    read_only: false,
                    span: self.span,
                });
            }
        }
        out
    }
}

/// A Dockerfile read on its own (no compose file builds it) whose image starts
/// with a program other than the FTP daemon: each config it copies in is
/// brought into its image as a mount, so the server it defines is read as
/// started by that program (its passive range unknown, see
/// [`crate::mounted`]). A Dockerfile that starts the daemon itself, or none,
/// brings nothing: its copied config is then the server's.
pub fn started_copies(source: &crate::source::SourceFile) -> Vec<crate::facts::Mount> {
    if !crate::platform::is_dockerfile_path(&source.path) {
        return Vec::new();
    }
    let stage = parse(&source.text, None);
    let Some(program) = stage.starts_other_program().map(str::to_owned) else {
        return Vec::new();
    };
    let span = start_line(source);
    let built = Built {
        stage,
        span,
        context: source
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        dockerfile: Some(source.path.clone()),
    };
    built
        .copies()
        .into_iter()
        // The start script itself is followed as a script where it is read.
        .filter(|v| v.target != program)
        .map(|v| crate::facts::Mount {
            source: v.source,
            target: v.target,
            read_only: false,
            span: v.span,
            image_server: None,
            image_config: None,
            container: None,
            starts_other_program: Some((program.clone(), span)),
        })
        .collect()
}

/// The last `ENTRYPOINT` line (else the last `CMD` line), for findings.
fn start_line(source: &crate::source::SourceFile) -> crate::source::Span {
    let mut at = 0;
    let (mut entrypoint, mut cmd) = (None, None);
    for line in source.text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let word = body.split_whitespace().next().unwrap_or("");
        let span = (at + lead, at + body.len());
        if word.eq_ignore_ascii_case("ENTRYPOINT") {
            entrypoint = Some(span);
        } else if word.eq_ignore_ascii_case("CMD") {
            cmd = Some(span);
        }
        at += line.len();
    }
    let (start, end) = entrypoint.or(cmd).unwrap_or((0, 0));
    source.span(start, end)
}

/// Lines joined at a trailing `\`, comments and blank lines dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                out.push(std::mem::take(&mut pending));
            }
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
    out
}

fn split_word(line: &str) -> (&str, &str) {
    let line = line.trim_start();
    match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim()),
        None => (line, ""),
    }
}

/// `[--platform=…] image [AS name]`.
fn from(rest: &str) -> (String, Option<String>) {
    let words: Vec<&str> = rest
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let base = words.first().copied().unwrap_or("").to_owned();
    let name = match words.as_slice() {
        [_, as_, name, ..] if as_.eq_ignore_ascii_case("as") => Some((*name).to_owned()),
        _ => None,
    };
    (base, name)
}

/// `ENV K=V K2="v 2"` or the legacy `ENV K V with spaces`.
fn env(rest: &str) -> Vec<(String, Option<String>)> {
    let words = shell_words(rest);
    let known = |v: String| (!v.contains('$')).then_some(v);
    if words.first().is_some_and(|w| !w.contains('=')) {
        let (name, value) = split_word(rest);
        return vec![(name.to_owned(), known(unquote(value)))];
    }
    words
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            Some((k.to_owned(), known(v.to_owned())))
        })
        .collect()
}

fn unquote(value: &str) -> String {
    shell_words(value).join(" ")
}

/// Words split at unquoted whitespace, quotes removed.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (q, '\\') if q != Some('\'') => {
                word.extend(chars.next());
                in_word = true;
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// `[--chown=…] src… dest` or the JSON form; a copy from another stage or an
/// image (`--from=`), a URL or a glob brings no repository file.
fn copy(rest: &str) -> Option<(Vec<String>, String)> {
    let words: Vec<String> = match serde_json::from_str::<Vec<String>>(rest.trim()) {
        Ok(list) => list,
        Err(_) => shell_words(rest),
    };
    if words.iter().any(|w| w.starts_with("--from")) {
        return None;
    }
    let mut paths: Vec<String> = words.into_iter().filter(|w| !w.starts_with("--")).collect();
    let dest = paths.pop()?;
    let plain = |s: &String| !s.contains(['*', '?', '[', '$']) && !s.contains("://");
    if paths.is_empty() || !paths.iter().all(plain) || dest.contains('$') {
        return None;
    }
    Some((paths, dest))
}

/// `21`, `21100-21110`, `21/tcp`; UDP and variables are left out.
fn expose(word: &str) -> Option<(u16, u16)> {
    let (ports, proto) = word.split_once('/').unwrap_or((word, "tcp"));
    if !proto.eq_ignore_ascii_case("tcp") {
        return None;
    }
    let (lo, hi) = ports.split_once('-').unwrap_or((ports, ports));
    let (lo, hi) = (lo.parse().ok()?, hi.parse().ok()?);
    (0 < lo && lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stage_env_copies_and_expose() {
        let text = "# syntax=docker/dockerfile:1\nFROM golang AS build\nENV X=1\nFROM docker.io/fauria/vsftpd:latest\nENV PASV_MIN_PORT=30000 \\\n    PASV_MAX_PORT=\"30009\"\nENV PASV_ADDRESS 198.51.100.7\nENV FROM_ARG=$A\nCOPY --chown=root vsftpd.conf /etc/vsftpd/vsftpd.conf\nCOPY --from=build /bin/x /bin/x\nADD [\"conf/\", \"/etc/vsftpd/\"]\nCOPY *.conf /tmp/\nEXPOSE 21 30000-30009/tcp 69/udp\n";
        let s = parse(text, None);
        assert_eq!(s.from.as_deref(), Some("docker.io/fauria/vsftpd:latest"));
        assert_eq!(
            s.env,
            [
                ("PASV_MIN_PORT".into(), Some("30000".into())),
                ("PASV_MAX_PORT".into(), Some("30009".into())),
                ("PASV_ADDRESS".into(), Some("198.51.100.7".into())),
                ("FROM_ARG".into(), None),
            ]
        );
        assert_eq!(
            s.copies,
            [
                (vec!["vsftpd.conf".into()], "/etc/vsftpd/vsftpd.conf".into()),
                (vec!["conf/".into()], "/etc/vsftpd/".into()),
            ]
        );
        assert_eq!(s.expose, [(21, 21), (30000, 30009)]);
        assert!(!s.starts_itself);
    }

    #[test]
    fn many_stages_copying_a_large_one_stay_linear() {
        let mut text = String::from("FROM fauria/vsftpd AS a\n");
        text.push_str(&"ENV A=1\n".repeat(50_000));
        text.push_str(&"FROM a\n".repeat(50_000));
        let started = std::time::Instant::now();
        assert_eq!(parse(&text, None), Stage::default());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_stage_built_on_an_earlier_one_inherits_it() {
        let s = parse(
            "FROM fauria/vsftpd AS base\nENV A=1\nFROM base\nCMD [\"x\"]\n",
            None,
        );
        assert_eq!(s.from.as_deref(), Some("fauria/vsftpd"));
        assert_eq!(s.env.len(), 1);
        assert!(s.starts_itself);
        assert_eq!(s.cmd.as_deref(), Some("x"));
        assert_eq!(s.starts_other_program(), Some("x"));
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "(FROM |ENV |COPY |EXPOSE |AS |\\\\|\\n|\"|'|=|-|/|\\[|\\]|21|a| |#|é)*") {
            let _ = parse(&text, None);
            let _ = parse(&text, Some("a"));
        }
    }
}
