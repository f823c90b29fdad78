//! Which firewall guards which FTP server: default pairing and `[[hosts]]`.

use crate::facts::{FileFacts, Firewall, FtpServer};
use crate::source::FileId;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// One machine: its FTP servers and the firewall in front of them.
#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    /// Every file of the host, in path order.
    pub files: Vec<FileId>,
    pub servers: Vec<FtpServer>,
    pub firewall: Option<Firewall>,
}

/// A recognised file's path and facts, as grouping needs them.
pub struct FileEntry {
    pub id: FileId,
    pub path: PathBuf,
    pub facts: FileFacts,
}

/// An explicit host from `pasvlint.toml`.
pub struct HostSpec {
    pub name: String,
    pub matches: Box<dyn Fn(&Path) -> bool + Send + Sync>,
}

/// Group files into hosts: explicit specs first, then the default pairing.
pub fn group(entries: Vec<FileEntry>, specs: &[HostSpec]) -> Vec<Host> {
    let mut explicit: Vec<Vec<FileEntry>> = specs.iter().map(|_| Vec::new()).collect();
    let mut rest = Vec::new();
    for e in entries {
        match specs.iter().position(|s| (s.matches)(&e.path)) {
            Some(i) => explicit[i].push(e),
            None => rest.push(e),
        }
    }
    let mut hosts: Vec<Host> = specs
        .iter()
        .zip(explicit)
        .filter(|(_, files)| !files.is_empty())
        .map(|(spec, files)| build_host(spec.name.clone(), files))
        .collect();
    hosts.extend(default_pairing(rest));
    hosts.sort_by(|a, b| {
        a.files
            .first()
            .cmp(&b.files.first())
            .then(a.name.cmp(&b.name))
    });
    hosts
}

/// An FTP config pairs with the firewall configs under the nearest directory,
/// from its own upward, whose subtree holds any. A file that is both pairs with itself.
fn default_pairing(entries: Vec<FileEntry>) -> Vec<Host> {
    let dirs_with_firewalls: HashSet<PathBuf> = entries
        .iter()
        .filter(|e| e.facts.firewall.is_some())
        .flat_map(|e| e.path.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    let mut groups: BTreeMap<PathBuf, Vec<FileEntry>> = BTreeMap::new();
    let mut firewall_only = Vec::new();
    for e in entries {
        if e.facts.ftp.is_empty() {
            firewall_only.push(e);
            continue;
        }
        let key = if e.facts.firewall.is_some() {
            e.path.clone()
        } else {
            pairing_dir(&e.path, &dirs_with_firewalls)
                .unwrap_or_else(|| parent(&e.path).to_path_buf())
        };
        groups.entry(key).or_default().push(e);
    }
    for fw in firewall_only {
        match closest_group(&groups, &fw.path) {
            Some(dir) => groups.entry(dir).or_default().push(fw),
            None => groups.entry(fw.path.clone()).or_default().push(fw),
        }
    }
    split_groups_left_without_firewall(groups)
        .into_iter()
        .map(|(key, mut files)| {
            files.sort_by_key(|e| e.id);
            build_host(host_name(&key), files)
        })
        .collect()
}

/// A firewall belongs to the closest server group above it, so sibling hosts
/// never share one.
fn closest_group(groups: &BTreeMap<PathBuf, Vec<FileEntry>>, firewall: &Path) -> Option<PathBuf> {
    firewall
        .ancestors()
        .skip(1)
        .find(|dir| groups.contains_key(*dir))
        .map(Path::to_path_buf)
}

/// A group whose firewalls were all claimed by closer servers is not a host:
/// each of its servers stands alone (and is told no firewall was found).
fn split_groups_left_without_firewall(
    groups: BTreeMap<PathBuf, Vec<FileEntry>>,
) -> BTreeMap<PathBuf, Vec<FileEntry>> {
    let mut out: BTreeMap<PathBuf, Vec<FileEntry>> = BTreeMap::new();
    for (key, files) in groups {
        if files.iter().any(|e| e.facts.firewall.is_some()) {
            out.entry(key).or_default().extend(files);
            continue;
        }
        for e in files {
            out.entry(parent(&e.path).to_path_buf())
                .or_default()
                .push(e);
        }
    }
    out
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// The nearest directory, from the file's own upward, whose subtree holds a firewall.
fn pairing_dir(path: &Path, dirs_with_firewalls: &HashSet<PathBuf>) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dirs_with_firewalls.contains(*dir))
        .map(Path::to_path_buf)
}

/// System directories say where a file sits on the host, not which host it is.
const SYSTEM_DIRS: &[&str] = &[
    "etc",
    "sysconfig",
    "iptables",
    "vsftpd",
    "inetsrv",
    "config",
    "system32",
];

fn host_name(key: &Path) -> String {
    let mut path = key;
    while path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| SYSTEM_DIRS.contains(&n.to_ascii_lowercase().as_str()))
    {
        path = parent(path);
    }
    let name = crate::source::display_path(path);
    if name.is_empty() {
        ".".to_owned()
    } else {
        name
    }
}

fn build_host(name: String, files: Vec<FileEntry>) -> Host {
    let mut ids = Vec::new();
    let mut servers = Vec::new();
    let mut firewalls = Vec::new();
    for e in files {
        ids.push(e.id);
        servers.extend(e.facts.ftp);
        firewalls.extend(e.facts.firewall);
    }
    let mut firewall = Firewall::combine(firewalls);
    if !servers.is_empty() && servers.iter().all(runs_before_vista) {
        firewall = firewall.map(Firewall::without_public_profile);
    }
    Host {
        name,
        files: ids,
        servers,
        firewall,
    }
}

/// IIS 5 and 6 run only on Windows 2000, XP and Server 2003, whose firewall has
/// a domain and a standard profile and no public one.
fn runs_before_vista(server: &FtpServer) -> bool {
    matches!(server.server, "iis5" | "iis6")
}
