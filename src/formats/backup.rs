//! Backup copies of config files, told by name (`iptables.old`, `rules.v4.bak`,
//! `vsftpd.conf.rpmsave`, `ip6tables~`, ...).
//!
//! Only the files a system loads are its firewall and its servers: the platform's
//! own paths (`/etc/sysconfig/iptables`, `/etc/iptables/rules.v4`, ...) and the files
//! its scripts restore. A backup is still read (its syntax findings matter the day it
//! is restored) and listed in `facts`, but it never joins a host.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// Suffixes that editors, admins and package managers (rpm, dpkg) give to copies.
const BACKUP_SUFFIXES: &[&str] = &[
    ".old",
    ".bak",
    ".backup",
    ".orig",
    "~",
    ".rpmsave",
    ".rpmnew",
    ".rpmorig",
    ".dpkg-old",
    ".dpkg-dist",
    ".dpkg-new",
    ".dpkg-bak",
];

/// `service iptables save` on RHEL copies the previous `/etc/sysconfig/iptables` to
/// `iptables.save`; Debian guides name the live file `/etc/iptables.save` instead. So
/// `.save` marks a backup only beside the file it copies.
const SAVE_SUFFIX: &str = ".save";

/// The name without its backup suffix (`rules.v6.bak` -> `rules.v6`), compared without
/// case; `None` when the name has no such suffix.
pub fn original_name(name: &str) -> Option<&str> {
    BACKUP_SUFFIXES
        .iter()
        .chain([&SAVE_SUFFIX])
        .find_map(|suffix| strip_suffix_ignoring_case(name, suffix))
        .filter(|stem| !stem.is_empty())
}

fn strip_suffix_ignoring_case<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(suffix.len())?;
    let tail = name.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &name[..cut])
}

/// Whether `path` is named as a backup copy. `files` are the other files read in the
/// same run, for the `.save` case.
pub fn named_as_backup(path: &Path, files: &HashSet<&Path>) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if let Some(stem) = strip_suffix_ignoring_case(name, SAVE_SUFFIX) {
        return !stem.is_empty() && files.contains(path.with_file_name(stem).as_path());
    }
    original_name(name).is_some()
}

/// A file a script loads with `iptables-restore FILE` or `iptables-restore < FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restored {
    /// An absolute path on the host (`/etc/iptables.save`).
    OnHost(PathBuf),
    /// A relative path, taken from the script's own directory (its path as read).
    Beside(PathBuf),
}

impl Restored {
    /// `written` as the script names it; relative paths are resolved against `script`.
    pub fn new(written: &str, script: &Path) -> Restored {
        let path = Path::new(written);
        if path.is_absolute() {
            Restored::OnHost(path.to_path_buf())
        } else {
            let dir = script.parent().unwrap_or(Path::new(""));
            Restored::Beside(normal(&dir.join(path)))
        }
    }

    /// Whether `file` (a path as read) is this restored file, for a restore run by
    /// `script`. A host path matches a file whose path ends with it, when the script
    /// sits in the same tree (`trees/web1/etc/iptables.save` for `/etc/iptables.save`
    /// restored by `trees/web1/etc/network/if-pre-up.d/iptables`).
    pub fn is(&self, file: &Path, script: &Path) -> bool {
        match self {
            Restored::Beside(path) => normal(file) == *path,
            Restored::OnHost(path) => {
                let tail: Vec<Component> = path
                    .components()
                    .filter(|c| matches!(c, Component::Normal(_)))
                    .collect();
                let file = normal(file);
                let parts: Vec<Component> = file.components().collect();
                let Some(root_len) = parts.len().checked_sub(tail.len()) else {
                    return false;
                };
                let root: PathBuf = parts[..root_len].iter().collect();
                parts[root_len..] == tail[..] && normal(script).starts_with(root)
            }
        }
    }
}

/// `a/./b` -> `a/b`; `..` is kept (there is no file system to resolve it against).
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(path: &str, others: &[&str]) -> bool {
        let files: HashSet<&Path> = others.iter().map(Path::new).collect();
        named_as_backup(Path::new(path), &files)
    }

    #[test]
    fn copies_by_suffix() {
        for name in [
            "etc/sysconfig/iptables.old",
            "etc/iptables/rules.v4.bak",
            "etc/iptables/rules.v4.BAK",
            "etc/sysconfig/ip6tables~",
            "etc/vsftpd/vsftpd.conf.rpmsave",
            "etc/vsftpd/vsftpd.conf.rpmnew",
            "etc/iptables/rules.v6.dpkg-old",
            "etc/iptables/rules.v6.dpkg-dist",
            "etc/iptables/rules.v6.dpkg-new",
            "etc/iptables/rules.v6.dpkg-bak",
            "etc/sysconfig/iptables.orig",
        ] {
            assert!(backup(name, &[]), "{name}");
        }
        for name in [
            "etc/sysconfig/iptables",
            "etc/iptables/rules.v4",
            "etc/iptables.up.rules",
            "etc/vsftpd.conf",
            "etc/.bak",
            "~",
        ] {
            assert!(!backup(name, &[]), "{name}");
        }
    }

    #[test]
    fn save_is_a_backup_only_beside_its_original() {
        let rhel = ["etc/sysconfig/iptables", "etc/sysconfig/iptables.save"];
        assert!(backup("etc/sysconfig/iptables.save", &rhel));
        assert!(backup(
            "etc/iptables/rules.v4.save",
            &["etc/iptables/rules.v4"]
        ));
        // Debian guides: `iptables-save > /etc/iptables.save` is the live file.
        assert!(!backup("etc/iptables.save", &["etc/iptables/rules.v6"]));
        assert!(!backup("etc/sysconfig/iptables.save", &[]));
    }

    #[test]
    fn original_names() {
        assert_eq!(original_name("rules.v6.bak"), Some("rules.v6"));
        assert_eq!(original_name("ip6tables.save"), Some("ip6tables"));
        assert_eq!(original_name("ip6tables~"), Some("ip6tables"));
        assert_eq!(original_name("rules.v6"), None);
    }

    #[test]
    fn restored_paths() {
        let script = Path::new("trees/web1/etc/network/if-pre-up.d/iptables");
        let on_host = Restored::new("/etc/iptables.save", script);
        assert!(on_host.is(Path::new("trees/web1/etc/iptables.save"), script));
        assert!(!on_host.is(Path::new("trees/web2/etc/iptables.save"), script));
        assert!(!on_host.is(Path::new("trees/web1/etc/sysconfig/iptables.save"), script));
        let from_root = Path::new("etc/network/if-pre-up.d/iptables");
        assert!(on_host.is(Path::new("etc/iptables.save"), from_root));
        let fw = Path::new("hosts/ftp1/firewall.sh");
        let beside = Restored::new("./rules.v4.old", fw);
        assert!(beside.is(Path::new("hosts/ftp1/rules.v4.old"), fw));
        assert!(!beside.is(Path::new("hosts/ftp2/rules.v4.old"), fw));
    }
}
