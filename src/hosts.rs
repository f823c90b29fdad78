//! Which firewall guards which FTP server: default pairing and `[[hosts]]`.

use crate::facts::{Family, FileFacts, Firewall, FtpHelper, FtpServer};
use crate::platform::{Answer, HostPlatform, Platform};
use crate::portset::PortSet;
use crate::source::FileId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One machine: its FTP servers and the firewall in front of them.
#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    /// Every file of the host, in path order.
    pub files: Vec<FileId>,
    pub servers: Vec<FtpServer>,
    /// The IPv4 filter (or every family's, when the format does not tell them apart).
    pub firewall: Option<Firewall>,
    /// The IPv6 filter, when the host has one of its own.
    pub firewall_v6: Option<Firewall>,
    /// The distribution and release the host runs, as far as it is known.
    pub platform: HostPlatform,
}

impl Host {
    /// The filter in front of clients of `family`; `None` when it is not known.
    pub fn firewall_for(&self, family: Family) -> Option<&Firewall> {
        match family {
            Family::V4 => self.firewall.as_ref(),
            Family::V6 => self
                .firewall_v6
                .as_ref()
                .or(self.firewall.as_ref().filter(|f| f.family.is_none())),
        }
    }

    /// Every filter of the host, with the family it stands for.
    pub fn firewalls(&self) -> impl Iterator<Item = (Family, &Firewall)> {
        [Family::V4, Family::V6]
            .into_iter()
            .filter_map(|f| self.firewall_for(f).map(|fw| (f, fw)))
    }
}

/// A recognised file's path and facts, as grouping needs them.
pub struct FileEntry {
    pub id: FileId,
    pub path: PathBuf,
    pub facts: FileFacts,
    /// The documents of the files this one (a script) writes: their facts are in
    /// `facts`, their ids join the host right after this file.
    pub written: Vec<FileId>,
}

/// An explicit host from `pasvlint.toml`.
pub struct HostSpec {
    pub name: String,
    pub matches: Box<dyn Fn(&Path) -> bool + Send + Sync>,
    /// `platform = "..."` of the `[[hosts]]` entry.
    pub platform: Option<Platform>,
}

/// Group files into hosts: explicit specs first, then the default pairing. A
/// platform set for a `[[hosts]]` entry wins over `default_platform` (`[policy]
/// platform`), which wins over what the host's files say.
pub fn group(
    entries: Vec<FileEntry>,
    specs: &[HostSpec],
    default_platform: Option<&Platform>,
) -> Vec<Host> {
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
        .map(|(spec, files)| {
            let configured = spec.platform.as_ref().map(|p| (p, "[[hosts]] platform"));
            build_host(
                spec.name.clone(),
                files,
                configured.or(policy(default_platform)),
            )
        })
        .collect();
    hosts.extend(
        default_pairing(rest)
            .into_iter()
            .map(|(name, files)| build_host(name, files, policy(default_platform))),
    );
    hosts.sort_by(|a, b| {
        a.files
            .first()
            .cmp(&b.files.first())
            .then(a.name.cmp(&b.name))
    });
    hosts
}

fn policy(platform: Option<&Platform>) -> Option<(&Platform, &'static str)> {
    platform.map(|p| (p, "[policy] platform"))
}

/// An FTP config pairs with the firewall configs under the nearest directory,
/// from its own upward, whose subtree holds any. A file that is both pairs with itself.
fn default_pairing(entries: Vec<FileEntry>) -> Vec<(String, Vec<FileEntry>)> {
    let dirs_with_firewalls: HashSet<PathBuf> = entries
        .iter()
        .filter(|e| e.facts.has_firewall())
        .flat_map(|e| e.path.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    let mut groups: BTreeMap<PathBuf, Vec<FileEntry>> = BTreeMap::new();
    let mut firewall_only = Vec::new();
    for e in entries {
        if e.facts.ftp.is_empty() {
            firewall_only.push(e);
            continue;
        }
        let key = if e.facts.has_firewall() {
            e.path.clone()
        } else {
            pairing_dir(&e.path, &dirs_with_firewalls)
                .unwrap_or_else(|| parent(&e.path).to_path_buf())
        };
        groups.entry(key).or_default().push(e);
    }
    let (firewalls, factless): (Vec<FileEntry>, Vec<FileEntry>) = firewall_only
        .into_iter()
        .partition(|e| e.facts.firewall.is_some());
    // A firewall no server claims is a host of its own, keyed by its path.
    let mut lone_firewall_in: HashMap<PathBuf, PathBuf> = HashMap::new();
    for fw in firewalls {
        let key = closest_group(&groups, &fw.path).unwrap_or_else(|| {
            lone_firewall_in
                .entry(parent(&fw.path).to_path_buf())
                .or_insert_with(|| fw.path.clone());
            fw.path.clone()
        });
        groups.entry(key).or_default().push(fw);
    }
    // Files with nothing to pair (a backup copy, a script that only restores) go with
    // the closest server, else with a lone firewall at or above them. A file that
    // only tells the platform is no host of its own.
    for e in factless {
        let key = closest_group(&groups, &e.path).or_else(|| {
            e.path
                .ancestors()
                .skip(1)
                .find_map(|dir| lone_firewall_in.get(dir).cloned())
        });
        let key = match key {
            Some(key) => key,
            None if !e.facts.platform.is_empty() && e.facts.restores.is_empty() => continue,
            None => e.path.clone(),
        };
        groups.entry(key).or_default().push(e);
    }
    split_groups_left_without_firewall(groups)
        .into_iter()
        .map(|(key, mut files)| {
            files.sort_by_key(|e| e.id);
            (host_name(&key), files)
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
/// each of its servers stands alone (and is told no firewall was found). Files that
/// bring neither (a backup copy, a script that only restores) stay with the first.
fn split_groups_left_without_firewall(
    groups: BTreeMap<PathBuf, Vec<FileEntry>>,
) -> BTreeMap<PathBuf, Vec<FileEntry>> {
    let mut out: BTreeMap<PathBuf, Vec<FileEntry>> = BTreeMap::new();
    for (key, files) in groups {
        if files.iter().any(|e| e.facts.has_firewall()) {
            out.entry(key).or_default().extend(files);
            continue;
        }
        let (servers, others): (Vec<FileEntry>, Vec<FileEntry>) =
            files.into_iter().partition(|e| !e.facts.ftp.is_empty());
        let first = servers.first().map(|e| parent(&e.path).to_path_buf());
        for e in servers {
            out.entry(parent(&e.path).to_path_buf())
                .or_default()
                .push(e);
        }
        for e in others {
            let key = first
                .clone()
                .unwrap_or_else(|| parent(&e.path).to_path_buf());
            out.entry(key).or_default().push(e);
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

fn build_host(
    name: String,
    files: Vec<FileEntry>,
    configured: Option<(&Platform, &'static str)>,
) -> Host {
    let clues: Vec<crate::platform::Clue> = files
        .iter()
        .flat_map(|e| e.facts.platform.iter().cloned())
        .collect();
    let paths: Vec<PathBuf> = files.iter().map(|e| e.path.clone()).collect();
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let mut platform = HostPlatform::from_clues(&clues, &paths);
    if let Some((p, key)) = configured {
        platform = HostPlatform::configured(p.clone(), key, platform.helper_module);
    }
    let mut ids = Vec::new();
    let mut servers = Vec::new();
    let mut firewalls = Vec::new();
    let mut firewalls_v6 = Vec::new();
    for e in files {
        ids.push(e.id);
        ids.extend(e.written);
        servers.extend(e.facts.ftp);
        firewalls.extend(e.facts.firewall);
        firewalls_v6.extend(e.facts.firewall_v6);
    }
    // A filter of every family filters IPv6 too, beside the host's own IPv6 files.
    if !firewalls_v6.is_empty() {
        firewalls_v6.extend(firewalls.iter().filter(|f| f.family.is_none()).cloned());
    }
    let mut firewall = Firewall::combine(firewalls);
    if !servers.is_empty() && servers.iter().all(runs_before_vista) {
        firewall = firewall.map(Firewall::without_public_profile);
    }
    let mut firewall_v6 = Firewall::combine(firewalls_v6);
    if let (Answer::Yes, Some(span)) =
        (platform.kernel_assigns_ftp_helper(), platform.helper_module)
    {
        for fw in firewall.iter_mut().chain(firewall_v6.iter_mut()) {
            fw.ftp_helpers.push(FtpHelper {
                ports: PortSet::single(21),
                span,
            });
        }
    }
    Host {
        name,
        files: ids,
        servers,
        firewall,
        firewall_v6,
        platform,
    }
}

/// IIS 5 and 6 run only on Windows 2000, XP and Server 2003, whose firewall has
/// a domain and a standard profile and no public one.
fn runs_before_vista(server: &FtpServer) -> bool {
    matches!(server.server, "iis5" | "iis6")
}
