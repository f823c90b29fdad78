//! Server configs a pod reads from a ConfigMap: a `data:` key that a
//! container's `volumeMounts` puts at a path is a file there. A key mounted on
//! its own (`subPath`) counts wherever it lands; the keys of a whole-volume
//! mount only where one lands on a daemon's own config path
//! ([`DAEMON_CONFIGS`]), as compose bind mounts are read. Each such file is
//! handed on as a file the cluster writes, so it is read by its format's
//! parser and rules, with spans into the manifest: a literal block scalar
//! (`|`) maps line for line onto its indented lines; any other style maps
//! onto the value as a whole.
//!
//! A container of an image pasvlint has no entry for runs the config as
//! mounted. For an image in the table, only a key at the config path its
//! daemon reads counts, and its entrypoint decides what wins, as for a compose
//! bind mount ([`crate::mounted`]); the kubelet mounts ConfigMap volumes
//! read-only (since Kubernetes 1.10, CVE-2017-1002102), so an entrypoint that
//! appends to the file (fauria/vsftpd) fails and the file runs as written. A
//! file the entrypoint's range would win over (delfer/alpine-ftp-server's
//! `-o` options, when the file sets no range) is not read here, and the
//! image's server stays.

use super::Manifests;
use super::objects::{ConfigMap, Container, DataEntry, Meta, Object, VolumeMount, Workload};
use crate::facts::MountedConfig;
use crate::formats::bundle::Bundle;
use crate::formats::compose::mounts::DAEMON_CONFIGS;
use crate::formats::compose::{command, images};
use crate::formats::{Document, ParsedFile};
use crate::scripts::{Outcome, Text, Word, Write, WriteOp};
use crate::source::Span;

/// A ConfigMap key a container reads as a file.
pub struct Mounted<'a> {
    pub workload: &'a Workload,
    /// Where the container sees it.
    pub path: String,
    pub entry: &'a DataEntry,
    /// The file holding the ConfigMap.
    pub part: &'a ParsedFile,
    pub mount: &'a VolumeMount,
    /// The image server the file replaces: the container's image, when in the table.
    pub replaces: Option<Span>,
    /// Mounted on its own (`subPath`), not as one file of a mounted folder.
    alone: bool,
    /// vsftpd's `-o` settings the command gives before and after the file.
    before: Vec<command::Word>,
    after: Vec<command::Word>,
}

fn manifests(part: &ParsedFile) -> Option<&Manifests> {
    match &part.doc {
        Document::Kubernetes(m) => Some(m),
        _ => None,
    }
}

fn same_namespace(a: &Meta, b: &Meta) -> bool {
    a.namespace.as_deref().unwrap_or("") == b.namespace.as_deref().unwrap_or("")
}

/// Every ConfigMap key mounted at a server config path of a container that runs it.
pub fn mounted(bundle: &Bundle) -> Vec<Mounted<'_>> {
    let objects: Vec<(&ParsedFile, &Object)> = bundle
        .parts
        .iter()
        .filter_map(|p| Some((p, manifests(p)?)))
        .flat_map(|(p, m)| m.objects.iter().map(move |o| (p, o)))
        .collect();
    let maps: Vec<(&ParsedFile, &ConfigMap)> = objects
        .iter()
        .filter_map(|(p, o)| match o {
            Object::ConfigMap(c) => Some((*p, c)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (_, obj) in &objects {
        let Object::Workload(w) = obj else { continue };
        for c in &w.containers {
            let Some(reads) = reads_config(c) else {
                continue;
            };
            for mount in &c.mounts {
                out.extend(
                    files_of(w, mount, &maps)
                        .into_iter()
                        .filter_map(|m| reads.keeps(m)),
                );
            }
        }
    }
    out
}

/// Which mounted files a container's daemon runs.
enum Reads {
    /// No known image, no command starting a daemon with flags of its own:
    /// the config it finds at its path.
    AnyConfig,
    /// A known image started as it is: the file at its config path, as its
    /// entrypoint treats it.
    Image(&'static images::ConfigUse, Span),
    /// `vsftpd [FILE] [-oSETTING]…` or `proftpd -c FILE` as the container's
    /// command: the file it names, with vsftpd's `-o` settings around it.
    Named {
        path: String,
        before: Vec<command::Word>,
        after: Vec<command::Word>,
    },
}

fn reads_config(c: &Container) -> Option<Reads> {
    let image = c.image.as_ref().and_then(|(r, _)| images::lookup(r));
    let runs = command::runs(image, c.command.as_ref(), c.args.as_ref());
    match (image, runs) {
        // Another program (a wrapper script) is taken to start the daemon on
        // its own config path, where the file was mounted for it.
        (None, None) => Some(named(c).unwrap_or(Reads::AnyConfig)),
        (Some(image), Some(command::Runs::Image)) => {
            Some(Reads::Image(image.config.as_ref()?, c.image.as_ref()?.1))
        }
        _ => None,
    }
}

/// The config a container's own command names. vsftpd(8): "Any command line
/// option not starting with a "-" character is treated as a config file",
/// loaded in order with the `-o` settings; without one it loads
/// /etc/vsftpd.conf after all options. ProFTPD: `-c FILE` / `--config FILE`.
/// `None` for another program, several vsftpd files, or a word not known.
fn named(c: &Container) -> Option<Reads> {
    let words: Vec<&command::Word> = c
        .command
        .iter()
        .chain(&c.args)
        .flat_map(|a| &a.words)
        .collect();
    let (program, args) = words.split_first()?;
    let text = |w: &command::Word| w.text.clone();
    let name = text(program)?;
    match name.rsplit('/').next()? {
        "vsftpd" => {
            let mut path = None;
            let (mut before, mut after) = (Vec::new(), Vec::new());
            for w in args {
                let t = text(w)?;
                if t.starts_with("-o") {
                    if path.is_some() {
                        after.push((*w).clone())
                    } else {
                        before.push((*w).clone())
                    }
                } else if t.starts_with('-') || path.replace(t).is_some() {
                    // `-v` prints the version; another option stops vsftpd.
                    return None;
                }
            }
            Some(Reads::Named {
                path: path.unwrap_or_else(|| "/etc/vsftpd.conf".to_owned()),
                before,
                after,
            })
        }
        "proftpd" => {
            let at = args
                .iter()
                .position(|w| matches!(w.text.as_deref(), Some("-c" | "--config")));
            let path = match at {
                Some(i) => text(args.get(i + 1)?)?,
                None => return Some(Reads::AnyConfig),
            };
            Some(Reads::Named {
                path,
                before: Vec::new(),
                after: Vec::new(),
            })
        }
        _ => None,
    }
}

impl Reads {
    fn keeps<'a>(&self, mut m: Mounted<'a>) -> Option<Mounted<'a>> {
        let (config, image_span) = match self {
            Reads::AnyConfig => {
                let at_daemon_path = m.alone || DAEMON_CONFIGS.contains(&m.path.as_str());
                return at_daemon_path.then_some(m);
            }
            Reads::Named {
                path,
                before,
                after,
            } => {
                m.before.clone_from(before);
                m.after.clone_from(after);
                return (&m.path == path).then_some(m);
            }
            Reads::Image(config, image_span) => (config, image_span),
        };
        if m.path != config.path {
            return None;
        }
        let file_wins = match config.mounted {
            // Read-only: the entrypoint's appends fail.
            MountedConfig::ImageRangeWins | MountedConfig::FileIsConfig => true,
            MountedConfig::FileRangeWins => sets_range(&m.path, &m.entry.text),
            MountedConfig::NotRead => false,
        };
        m.replaces = Some(*image_span);
        file_wins.then_some(m)
    }
}

/// The text sets vsftpd's `pasv_min_port` and `pasv_max_port`.
fn sets_range(path: &str, text: &str) -> bool {
    let file = crate::source::SourceFile::new(crate::source::FileId(0), path, text.as_bytes());
    let config = crate::formats::vsftpd::parse(&file);
    ["pasv_min_port", "pasv_max_port"]
        .iter()
        .all(|d| config.uint_value(d).setting().is_some())
}

/// The image servers a ConfigMap's file replaces, by their image's span.
pub fn replaced_images(bundle: &Bundle) -> Vec<Span> {
    mounted(bundle).iter().filter_map(|m| m.replaces).collect()
}

/// The files `mount` shows the container, from the ConfigMap of its volume.
fn files_of<'a>(
    w: &'a Workload,
    mount: &'a VolumeMount,
    maps: &[(&'a ParsedFile, &'a ConfigMap)],
) -> Vec<Mounted<'a>> {
    let Some(volume) = w.config_volumes.iter().find(|v| v.name == mount.name) else {
        return Vec::new();
    };
    let Some((part, map)) = maps
        .iter()
        .find(|(_, m)| m.meta.name == volume.config_map && same_namespace(&m.meta, &w.meta))
    else {
        return Vec::new();
    };
    // `items` choose the keys and their paths; without them every key is a
    // file named after it.
    let files: Vec<(&str, &DataEntry)> = if volume.items.is_empty() {
        map.data.iter().map(|e| (e.key.as_str(), e)).collect()
    } else {
        volume
            .items
            .iter()
            .filter_map(|(key, path)| {
                Some((path.as_str(), map.data.iter().find(|e| &e.key == key)?))
            })
            .collect()
    };
    let dir = mount.mount_path.trim_end_matches('/');
    files
        .into_iter()
        .filter_map(|(path, entry)| {
            let seen_at = match &mount.sub_path {
                Some(sub) if sub.trim_end_matches('/') == path => mount.mount_path.clone(),
                Some(_) => return None,
                None => format!("{dir}/{path}"),
            };
            Some(Mounted {
                workload: w,
                path: seen_at,
                entry,
                part,
                mount,
                replaces: None,
                alone: mount.sub_path.is_some(),
                before: Vec::new(),
                after: Vec::new(),
            })
        })
        .collect()
}

/// The mounted configs as files the cluster writes, each at its container path.
pub fn outcome(bundle: &Bundle) -> Option<Outcome> {
    let writes: Vec<Write> = mounted(bundle)
        .into_iter()
        .map(|m| Write {
            path: Word::literal(m.path.clone(), m.mount.span),
            op: WriteOp::Replace(with_options(&m)),
            span: m.mount.span,
            uncertain: None,
        })
        .collect();
    (!writes.is_empty()).then(|| Outcome {
        writes,
        ..Outcome::default()
    })
}

/// The file as vsftpd loads it with the command's `-o` settings: each a line,
/// before or after the file's as the command orders them (the last line of a
/// setting wins).
fn with_options(m: &Mounted) -> Text {
    let mut t = Text::default();
    let option = |t: &mut Text, w: &command::Word| {
        let Some(text) = &w.text else { return };
        let setting = &text[2..];
        let exact = w.span.len() == text.len();
        let span = if exact {
            Span::new(w.span.file, w.span.start as usize + 2, w.span.end as usize)
        } else {
            w.span
        };
        t.push(setting, span, exact);
        t.push("\n", w.span, false);
    };
    m.before.iter().for_each(|w| option(&mut t, w));
    let file = embedded(&m.part.source.text, m.entry);
    for (i, piece) in file.pieces.iter().enumerate() {
        let end = file.pieces.get(i + 1).map_or(file.text.len(), |n| n.at);
        t.push(&file.text[piece.at..end], piece.span, piece.verbatim);
    }
    if !file.text.is_empty() && !file.text.ends_with('\n') && !m.after.is_empty() {
        t.push("\n", m.mount.span, false);
    }
    m.after.iter().for_each(|w| option(&mut t, w));
    t
}

/// The key's text with where each part is written in the manifest.
pub fn embedded(file: &str, entry: &DataEntry) -> Text {
    literal_lines(file, entry).unwrap_or_else(|| {
        let mut t = Text::default();
        t.push(&entry.text, entry.span, false);
        t
    })
}

/// A block scalar whose lines are the text's lines, each after the block's
/// indentation: offsets map one to one (`None` where a line does not match,
/// as with folded or quoted values, or CRLF line ends). The parser's span
/// starts at the first line's text.
fn literal_lines(file: &str, entry: &DataEntry) -> Option<Text> {
    let start = entry.span.start as usize;
    let mut pos = file.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    if !file.get(pos..start)?.bytes().all(|b| b == b' ') {
        return None;
    }
    let mut t = Text::default();
    for line in entry.text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let end = file.get(pos..)?.find('\n').map_or(file.len(), |i| pos + i);
        let written = file.get(pos..end)?;
        let indent = written.strip_suffix(body)?;
        if !indent.bytes().all(|b| b == b' ') {
            return None;
        }
        let newline = usize::from(line.ends_with('\n'));
        if end + newline > file.len() {
            return None;
        }
        let at = Span::new(entry.span.file, end - body.len(), end + newline);
        t.push(line, at, true);
        pos = end + 1;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn entry(file: &str) -> DataEntry {
        let root = crate::formats::yaml::parse(FileId(0), file)
            .unwrap()
            .unwrap();
        let v = root.get("data").unwrap().get("vsftpd.conf").unwrap();
        DataEntry {
            key: "vsftpd.conf".into(),
            text: v.as_str().unwrap().into(),
            span: v.span(),
        }
    }

    #[test]
    fn literal_block_lines_map_onto_the_manifest() {
        let file = "data:\n  vsftpd.conf: |\n    listen=YES\n\n    pasv_min_port=30000\n---\n";
        let t = embedded(file, &entry(file));
        let span = t.span_of(12, 31).unwrap();
        assert_eq!(
            &file[span.start as usize..span.end as usize],
            "pasv_min_port=30000"
        );
        for other in [
            "data:\n  vsftpd.conf: \"listen=YES\\npasv_enable=YES\\n\"\n",
            "data:\n  vsftpd.conf: >\n    listen=YES\n    pasv_enable=YES\n",
        ] {
            let t = embedded(other, &entry(other));
            assert!(!t.pieces[0].verbatim, "{other}");
        }
    }
}
