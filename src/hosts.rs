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
    /// Why each file of `files` is on this host, in the same order.
    pub joined: Vec<(FileId, Why)>,
    /// Set when the default pairing joined servers and firewalls of different
    /// sibling folders only because they share a parent.
    pub loose: Option<LoosePairing>,
}

/// Servers and firewalls that meet only at a common folder, with more than one
/// of either: a folder of examples rather than one machine's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoosePairing {
    /// Where they meet, as shown (`examples/`).
    pub dir: String,
    /// The server files and the firewall files, with their paths as shown.
    pub servers: Vec<(FileId, String)>,
    pub firewalls: Vec<(FileId, String)>,
}

/// Why a file is on its host: the default pairing's reasons, or a `[[hosts]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// A `[[hosts]]` entry of `pasvlint.toml` names it.
    HostsEntry,
    /// It holds an FTP server and a firewall of its own.
    ServerAndFirewall,
    /// An FTP server that pairs with the firewalls under `dir`, the nearest folder
    /// from its own upward whose subtree holds any.
    ServerUnder { dir: String },
    /// An FTP server whose folder holds no firewall that no closer server claims.
    ServerAlone,
    /// A firewall whose closest server group above it is at `dir`.
    FirewallOf { dir: String },
    /// A firewall no server config above it claims.
    FirewallAlone,
    /// Neither server nor firewall (a backup, a script that only restores): it
    /// joins the closest host at or above it.
    Companion,
    /// Another file of the host brings it.
    Brought { by: FileId, how: Brought },
}

/// How one file brings another onto its host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Brought {
    /// A script writes it (a heredoc, `cat >`, `tee`).
    Writes,
    /// A script edits the repository file in place (`sed -i`, `echo >>`); the host runs the edited copy.
    Edits,
    /// A container mounts, copies or reads it.
    Mounts,
    /// A cloud instance runs it at first boot.
    RunsAtBoot,
    /// A bundle (a playbook, a role) renders or copies it onto the host.
    Renders,
    /// It is one of the files a bundle (a playbook and its roles) is read from.
    PartOf,
}

impl Brought {
    fn verb(self) -> &'static str {
        match self {
            Brought::Writes => "written by",
            Brought::Edits => "edited in place by",
            Brought::Mounts => "mounted, copied or read into a container by",
            Brought::RunsAtBoot => "run at first boot by",
            Brought::Renders => "rendered or copied onto the host by",
            Brought::PartOf => "read as part of",
        }
    }
}

impl Why {
    /// The reason as a sentence fragment; `path` names another file of the run.
    pub fn describe(&self, path: impl Fn(FileId) -> String) -> String {
        match self {
            Why::HostsEntry => "named by a [[hosts]] entry in pasvlint.toml".to_owned(),
            Why::ServerAndFirewall => "holds the FTP server and its firewall".to_owned(),
            Why::ServerUnder { dir } => format!(
                "FTP server; pairs with the firewalls under {dir}, the nearest folder above it that holds any"
            ),
            Why::ServerAlone => {
                "FTP server; no firewall above it that a closer server does not claim".to_owned()
            }
            Why::FirewallOf { dir } => {
                format!(
                    "firewall of the FTP servers paired at {dir}, the closest such folder above it"
                )
            }
            Why::FirewallAlone => "firewall; no FTP server config above it".to_owned(),
            Why::Companion => {
                "neither server nor firewall; joins the closest host above it".to_owned()
            }
            Why::Brought { by, how } => format!("{} {}", how.verb(), path(*by)),
        }
    }
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
    pub facts: Box<FileFacts>,
    /// The files this one brings (a script's documents, a mounted config): their
    /// facts are in `facts`, their ids join the host right after this file.
    pub written: Vec<(FileId, Brought)>,
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
    // Sized up front: a `FileEntry` is over 2 KB, and growing by doubling
    // copies every entry into fresh pages.
    let mut rest = Vec::with_capacity(entries.len());
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
            let why = files.iter().map(|e| (e.id, Why::HostsEntry)).collect();
            build_host(
                spec.name.clone(),
                files,
                why,
                configured.or(policy(default_platform)),
            )
        })
        .collect();
    let (groups, mut why) = default_pairing(rest);
    hosts.extend(groups.into_iter().map(|(key, files)| {
        let why: HashMap<FileId, Why> = files
            .iter()
            .filter_map(|e| Some((e.id, why.remove(&e.path)?)))
            .collect();
        let loose = loose_pairing(&key, &files, &why);
        let mut host = build_host(host_name(&key), files, why, policy(default_platform));
        host.loose = loose;
        host
    }));
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

type Groups = BTreeMap<PathBuf, Vec<FileEntry>>;
/// Why each entry pairs as it does, by the entry's path (a file's containers
/// apart share its id).
type Reasons = HashMap<PathBuf, Why>;

/// An FTP config pairs with the firewall configs under the nearest directory,
/// from its own upward, whose subtree holds any. A file that is both pairs with itself.
fn default_pairing(entries: Vec<FileEntry>) -> (Vec<(PathBuf, Vec<FileEntry>)>, Reasons) {
    let mut apart = Vec::with_capacity(entries.len());
    for e in entries {
        apart.extend(containers_apart(e));
    }
    let entries = apart;
    let dirs_with_firewalls: HashSet<PathBuf> = entries
        .iter()
        .filter(|e| e.facts.has_firewall())
        .flat_map(|e| e.path.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    let mut why = HashMap::new();
    let mut groups: Groups = BTreeMap::new();
    let mut firewall_only = Vec::with_capacity(entries.len());
    for e in entries {
        if e.facts.ftp.is_empty() {
            firewall_only.push(e);
            continue;
        }
        let (key, reason) = if e.facts.has_firewall() {
            (e.path.clone(), Why::ServerAndFirewall)
        } else {
            match pairing_dir(&e.path, &dirs_with_firewalls) {
                Some(dir) => {
                    let shown = folder_name(&dir);
                    (dir, Why::ServerUnder { dir: shown })
                }
                None => (parent(&e.path).to_path_buf(), Why::ServerAlone),
            }
        };
        why.insert(e.path.clone(), reason);
        groups.entry(key).or_default().push(e);
    }
    let (firewalls, factless): (Vec<FileEntry>, Vec<FileEntry>) = firewall_only
        .into_iter()
        .partition(|e| e.facts.firewall.is_some());
    // A firewall no server claims is a host of its own, keyed by its path.
    let mut lone_firewall_in: HashMap<PathBuf, PathBuf> = HashMap::new();
    for fw in firewalls {
        let key = match closest_group(&groups, &fw.path) {
            Some(dir) => {
                why.insert(
                    fw.path.clone(),
                    Why::FirewallOf {
                        dir: folder_name(&dir),
                    },
                );
                dir
            }
            None => {
                lone_firewall_in
                    .entry(parent(&fw.path).to_path_buf())
                    .or_insert_with(|| fw.path.clone());
                why.insert(fw.path.clone(), Why::FirewallAlone);
                fw.path.clone()
            }
        };
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
        // An IPv6-only filter pairs as the other files it sits with do.
        let reason = match closest_group(&groups, &e.path) {
            Some(dir) if e.facts.has_firewall() => Why::FirewallOf {
                dir: folder_name(&dir),
            },
            _ => Why::Companion,
        };
        why.insert(e.path.clone(), reason);
        groups.entry(key).or_default().push(e);
    }
    let hosts = split_groups_left_without_firewall(groups, &mut why)
        .into_iter()
        .map(|(key, mut files)| {
            files.sort_by_key(|e| e.id);
            (key, files)
        })
        .collect();
    (hosts, why)
}

/// A file whose servers run in containers each behind a filter of its own
/// ([`crate::facts::Container`]) pairs as one entry per container: its own publishing in front
/// of it, or, on the host's network, no filter of its own, so that it pairs with
/// the firewall files of its tree as any server config does. With several
/// containers each entry is named `file#service`.
fn containers_apart(e: FileEntry) -> Vec<FileEntry> {
    let mut names: Vec<String> = Vec::new();
    for c in e.facts.ftp.iter().filter_map(|s| s.container.as_deref()) {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    if names.is_empty() {
        return vec![e];
    }
    let FileEntry {
        id,
        path,
        facts,
        written,
    } = e;
    let (inside, outside): (Vec<FtpServer>, Vec<FtpServer>) = facts
        .ftp
        .iter()
        .cloned()
        .partition(|s| s.container.is_some());
    let several = names.len() > 1;
    let mut out: Vec<FileEntry> = names
        .iter()
        .map(|name| {
            let servers: Vec<FtpServer> = inside
                .iter()
                .filter(|s| s.container.as_ref().is_some_and(|c| &c.name == name))
                .cloned()
                .collect();
            let front = servers
                .first()
                .and_then(|s| s.container.as_ref()?.front.clone());
            let unit_path = match path.file_name() {
                Some(file) if several => {
                    path.with_file_name(format!("{}#{name}", file.to_string_lossy()))
                }
                _ => path.clone(),
            };
            FileEntry {
                id,
                path: unit_path,
                facts: Box::new(FileFacts {
                    ftp: servers,
                    firewall: front,
                    platform: facts.platform.clone(),
                    ..FileFacts::default()
                }),
                written: written.clone(),
            }
        })
        .collect();
    // Servers outside the containers keep the file's own filter.
    if !outside.is_empty() {
        out.push(FileEntry {
            id,
            path,
            facts: Box::new(FileFacts {
                ftp: outside,
                ..*facts
            }),
            written,
        });
    }
    out
}

/// A firewall belongs to the closest server group above it, so sibling hosts
/// never share one.
fn closest_group(groups: &Groups, firewall: &Path) -> Option<PathBuf> {
    firewall
        .ancestors()
        .skip(1)
        .find(|dir| groups.contains_key(*dir))
        .map(Path::to_path_buf)
}

/// A group whose firewalls were all claimed by closer servers is not a host:
/// each of its servers stands alone (and is told no firewall was found). Files that
/// bring neither (a backup copy, a script that only restores) stay with the first.
fn split_groups_left_without_firewall(groups: Groups, why: &mut Reasons) -> Groups {
    let mut out: Groups = BTreeMap::new();
    for (key, files) in groups {
        if files.iter().any(|e| e.facts.has_firewall()) {
            out.entry(key).or_default().extend(files);
            continue;
        }
        let (servers, others): (Vec<FileEntry>, Vec<FileEntry>) =
            files.into_iter().partition(|e| !e.facts.ftp.is_empty());
        let first = servers.first().map(|e| parent(&e.path).to_path_buf());
        for e in servers {
            why.insert(e.path.clone(), Why::ServerAlone);
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

/// Servers and firewalls of one group that meet only at `key`, from different
/// folders below it, with more than one server file and more than one firewall
/// file of a family: most likely examples of different machines.
fn loose_pairing(
    key: &Path,
    files: &[FileEntry],
    why: &HashMap<FileId, Why>,
) -> Option<LoosePairing> {
    let branch = |e: &FileEntry| {
        let below = e.path.strip_prefix(key).ok()?;
        let mut parts = below.components();
        let first = parts.next()?;
        parts.next().map(|_| first.as_os_str().to_owned())
    };
    let reason = |e: &FileEntry| why.get(&e.id);
    let servers: Vec<&FileEntry> = files
        .iter()
        .filter(|e| matches!(reason(e), Some(Why::ServerUnder { .. })))
        .collect();
    let firewalls: Vec<&FileEntry> = files
        .iter()
        .filter(|e| matches!(reason(e), Some(Why::FirewallOf { .. })))
        .collect();
    let server_branches: HashSet<_> = servers.iter().map(|e| branch(e)).collect();
    let apart = !servers.is_empty()
        && !firewalls.is_empty()
        && !server_branches.contains(&None)
        && firewalls
            .iter()
            .all(|e| branch(e).is_some_and(|b| !server_branches.contains(&Some(b))));
    let v4 = firewalls
        .iter()
        .filter(|e| e.facts.firewall.is_some())
        .count();
    let v6 = firewalls
        .iter()
        .filter(|e| e.facts.firewall_v6.is_some())
        .count();
    // One machine may run two daemons, or two firewall files; examples bring both.
    let several = servers.len() > 1 && (v4 > 1 || v6 > 1);
    let shown = |e: &&FileEntry| (e.id, crate::source::display_path(&e.path));
    (apart && several).then(|| LoosePairing {
        dir: folder_name(key),
        servers: servers.iter().map(shown).collect(),
        firewalls: firewalls.iter().map(shown).collect(),
    })
}

/// A folder as messages show it: `.` for the run's own, with a trailing `/` otherwise.
fn folder_name(dir: &Path) -> String {
    let name = crate::source::display_path(dir);
    if name.is_empty() {
        "./".to_owned()
    } else {
        format!("{name}/")
    }
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
    mut files: Vec<FileEntry>,
    mut why: HashMap<FileId, Why>,
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
        platform = HostPlatform::configured(p.clone(), key, platform.helper);
    }
    let mut ids = Vec::new();
    let mut joined = Vec::new();
    let mut servers = Vec::new();
    let mut firewalls = Vec::new();
    let mut firewalls_v6 = Vec::new();
    let windows_parts: Vec<Box<crate::facts::windows::Part>> =
        if files.iter().filter(|e| e.facts.windows.is_some()).count() > 1 {
            let mut parts: Vec<_> = files
                .iter_mut()
                .filter_map(|e| {
                    let part = e.facts.windows.take()?;
                    e.facts.firewall = None;
                    Some(part)
                })
                .collect();
            parts.sort_by(|a, b| a.path.cmp(&b.path));
            parts
        } else {
            Vec::new()
        };
    let parts: Vec<&crate::facts::windows::Part> = windows_parts.iter().map(|p| &**p).collect();
    firewalls.extend(crate::formats::winfw::merged(&parts));
    firewalls.extend(parts.iter().filter_map(|p| p.others.clone()));
    for e in files {
        // Containers of one file on one host list the file once.
        if !ids.contains(&e.id) {
            ids.push(e.id);
            joined.push((e.id, why.remove(&e.id).unwrap_or(Why::Companion)));
            for (id, how) in e.written {
                ids.push(id);
                joined.push((id, Why::Brought { by: e.id, how }));
            }
        }
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
    if let (Answer::Yes, Some(span)) = (
        platform.kernel_assigns_ftp_helper(),
        platform.kernel_helper_setting(),
    ) {
        for fw in firewall.iter_mut().chain(firewall_v6.iter_mut()) {
            fw.ftp_helpers
                .push(FtpHelper::on(PortSet::single(21), span));
        }
    }
    Host {
        name,
        files: ids,
        servers,
        firewall,
        firewall_v6,
        platform,
        joined,
        loose: None,
    }
}

/// IIS 5 and 6 run only on Windows 2000, XP and Server 2003, whose firewall has
/// a domain and a standard profile and no public one.
fn runs_before_vista(server: &FtpServer) -> bool {
    matches!(server.server, "iis5" | "iis6")
}
