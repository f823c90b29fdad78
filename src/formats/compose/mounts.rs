//! `volumes:` bind mounts, short (`./vsftpd.conf:/etc/vsftpd/vsftpd.conf:ro`) and
//! long (`type: bind`, `source`, `target`, `read_only`) syntax, as the Compose
//! Specification reads them. Named volumes hold no repository file and are skipped.

use super::interp::{self, Vars};
use crate::formats::yaml::Node;
use crate::source::Span;
use std::path::{Component, Path, PathBuf};

/// A repository path a container sees at `target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// Resolved against the compose file's folder, `.` and `..` removed.
    pub source: PathBuf,
    /// The path inside the container, without a trailing `/`.
    pub target: String,
    pub read_only: bool,
    /// The volume entry.
    pub span: Span,
}

pub fn read(list: &Node, dir: Option<&Path>, vars: &Vars) -> Vec<Volume> {
    let (Node::Seq { items, .. }, Some(dir)) = (list, dir) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Node::Map { .. } => long(item, dir, vars),
            _ => short(
                &interp::interpolate(item.as_str()?, vars)?,
                item.span(),
                dir,
            ),
        })
        .collect()
}

/// `SOURCE:TARGET[:MODE]`; the mode is a comma list (`ro`, `rw`, `z`, `cached`, …).
pub fn short(text: &str, span: Span, dir: &Path) -> Option<Volume> {
    let mut parts = text.splitn(3, ':');
    let source = parts.next()?;
    let target = parts.next()?;
    let read_only = parts
        .next()
        .is_some_and(|mode| mode.split(',').any(|m| m == "ro"));
    volume(source, target, read_only, span, dir)
}

fn long(item: &Node, dir: &Path, vars: &Vars) -> Option<Volume> {
    let value = |key: &str| {
        item.get(key)
            .and_then(Node::as_str)
            .and_then(|s| interp::interpolate(s, vars))
    };
    if value("type").is_some_and(|t| t != "bind") {
        return None;
    }
    let read_only = value("read_only").is_some_and(|v| matches!(v.as_str(), "true" | "True"));
    let span = item.get("source").map_or(item.span(), Node::span);
    volume(&value("source")?, &value("target")?, read_only, span, dir)
}

/// A host path (`./x`, `../x`, `/x`) bound at an absolute container path; a
/// named volume or a path under `~` (another user's home) is not a repository file.
fn volume(source: &str, target: &str, read_only: bool, span: Span, dir: &Path) -> Option<Volume> {
    let is_path = source.starts_with("./") || source.starts_with("../") || source == ".";
    if !(is_path || source.starts_with('/')) || !target.starts_with('/') {
        return None;
    }
    let target = target.trim_end_matches('/');
    Some(Volume {
        source: lexical(&dir.join(source)),
        target: if target.is_empty() { "/" } else { target }.to_owned(),
        read_only,
        span,
    })
}

/// `a/./b/../c` as `a/c`, without asking the file system.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Where a container that sees `source` at `target` sees `file`, when the mount brings it.
pub fn seen_at(source: &Path, target: &str, file: &Path) -> Option<String> {
    let file = lexical(file);
    let rel = file.strip_prefix(source).ok()?;
    let mut out = target.to_owned();
    for part in rel.components() {
        let Component::Normal(name) = part else {
            return None;
        };
        if !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(name.to_str()?);
    }
    Some(out)
}

/// Where the daemons read their config when nothing says otherwise: a folder
/// mounted elsewhere (`.:/app`) brings no config the container runs.
pub const DAEMON_CONFIGS: &[&str] = &[
    "/etc/vsftpd.conf",
    "/etc/vsftpd/vsftpd.conf",
    "/etc/proftpd/proftpd.conf",
    "/etc/proftpd.conf",
    "/usr/local/etc/proftpd.conf",
    "/etc/pure-ftpd.conf",
    "/etc/pure-ftpd/pure-ftpd.conf",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn v(text: &str) -> Option<Volume> {
        short(text, Span::new(FileId(0), 0, 1), Path::new("proj"))
    }

    #[test]
    fn short_syntax_binds_paths_not_named_volumes() {
        let f = v("./vsftpd.conf:/etc/vsftpd/vsftpd.conf:ro").unwrap();
        assert_eq!(f.source, Path::new("proj/vsftpd.conf"));
        assert_eq!(f.target, "/etc/vsftpd/vsftpd.conf");
        assert!(f.read_only);
        let d = v("./conf/:/etc/vsftpd/").unwrap();
        assert_eq!(d.target, "/etc/vsftpd");
        assert!(!d.read_only);
        let at = |f: &str| seen_at(&d.source, &d.target, Path::new(f));
        assert_eq!(
            at("proj/./conf/vsftpd.conf").as_deref(),
            Some("/etc/vsftpd/vsftpd.conf")
        );
        assert_eq!(at("proj/other.conf"), None);
        assert!(v("data:/home/vsftpd").is_none());
        assert!(v("~/ftp:/home").is_none());
        assert!(v("./x:relative").is_none());
        assert_eq!(
            v("../shared/p.conf:/etc/p.conf:z,ro").unwrap().source,
            Path::new("shared/p.conf")
        );
    }

    #[test]
    fn long_syntax() {
        let text = "- type: bind\n  source: ./vsftpd.conf\n  target: /etc/vsftpd.conf\n  read_only: true\n- type: volume\n  source: data\n  target: /srv\n";
        let node = crate::formats::yaml::parse(FileId(0), text)
            .unwrap()
            .unwrap();
        let got = read(&node, Some(Path::new("p")), &Vars::default());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].source, Path::new("p/vsftpd.conf"));
        assert!(got[0].read_only);
        assert_eq!(&text[got[0].span.range()], "./vsftpd.conf");
    }
}
