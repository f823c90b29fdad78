//! Server configs mounted (or copied) into a container pair by reference: the
//! server the file defines runs behind the container's publishing, so it joins
//! the file that starts the container and brings nothing of its own elsewhere.

use crate::facts::{Dialect, FileFacts, FtpServer, Mount, MountedConfig, Passive};
use crate::formats::compose::mounts::{DAEMON_CONFIGS, lexical, seen_at};
use crate::source::{FileId, Span};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type Entry = (FileId, PathBuf, Box<FileFacts>);

/// Move the servers of mounted configs into the files that mount them; the
/// returned map takes each mounted file to the file it joins.
pub fn pair(entries: &mut [Entry]) -> BTreeMap<FileId, FileId> {
    let mut joined = BTreeMap::new();
    let paths = Paths::of(entries);
    // A Dockerfile read on its own brings its copies last: a compose file
    // that builds it takes them first, with its publishing in front.
    let (mut order, dockerfiles): (Vec<usize>, Vec<usize>) =
        (0..entries.len()).partition(|&i| !crate::platform::is_dockerfile_path(&entries[i].1));
    order.extend(dockerfiles);
    for i in order {
        join_read_files(entries, &paths, i, &mut joined);
        let mounts = std::mem::take(&mut entries[i].2.mounts);
        let layer = entries[i].2.container_layer.take();
        for mount in mounts {
            let found = take_servers(entries, &paths, i, &mount, &mut joined);
            let facts = &mut entries[i].2;
            let changed = apply(facts, &mount, found);
            // The publishing is all that stands before a container: Docker
            // DNATs published ports before a script's INPUT rules see them.
            let published =
                facts.firewall.as_ref().map(|f| f.dialect) == Some(Dialect::DockerCompose);
            if let (true, false, Some(layer)) = (changed, published, &layer) {
                facts.firewall = Some(layer.clone());
                facts.firewall_v6 = None;
            }
        }
    }
    joined
}

/// Every entry's path, lexically normalised once and sorted, so a read file
/// or a mount's source finds its entries without a pass over all of them.
struct Paths {
    /// (path, entry index), sorted: the paths under a folder are one run.
    all: Vec<(PathBuf, usize)>,
    /// The same for the entries with servers, the only ones a mount can bring.
    configs: Vec<(PathBuf, usize)>,
}

impl Paths {
    fn of(entries: &[Entry]) -> Paths {
        let mut all: Vec<(PathBuf, usize)> = entries
            .iter()
            .enumerate()
            .map(|(j, (_, path, _))| (lexical(path), j))
            .collect();
        all.sort();
        let configs = all
            .iter()
            .filter(|(_, j)| !entries[*j].2.ftp.is_empty())
            .cloned()
            .collect();
        Paths { all, configs }
    }

    /// The entries whose path is `path`, in entry order.
    fn exactly<'a>(&'a self, path: &'a Path) -> impl Iterator<Item = usize> + 'a {
        let start = self.all.partition_point(|(p, _)| p.as_path() < path);
        self.all[start..]
            .iter()
            .take_while(move |(p, _)| p == path)
            .map(|(_, j)| *j)
    }

    /// The entries with servers at or under `folder`, in entry order.
    fn configs_under(&self, folder: &Path) -> Vec<(usize, &Path)> {
        let start = self.configs.partition_point(|(p, _)| p.as_path() < folder);
        let mut under: Vec<(usize, &Path)> = self.configs[start..]
            .iter()
            .take_while(|(p, _)| p.starts_with(folder))
            .map(|(p, j)| (*j, p.as_path()))
            .collect();
        under.sort_unstable_by_key(|(j, _)| *j);
        under
    }
}

/// The files an entry read for its facts join it, with what they say about the platform.
fn join_read_files(
    entries: &mut [Entry],
    paths: &Paths,
    reader: usize,
    joined: &mut BTreeMap<FileId, FileId>,
) {
    let reads = std::mem::take(&mut entries[reader].2.reads);
    if reads.is_empty() {
        return;
    }
    let by = entries[reader].0;
    let mut read: Vec<usize> = reads.iter().flat_map(|r| paths.exactly(r)).collect();
    read.sort_unstable();
    read.dedup();
    let mut clues = Vec::new();
    for j in read {
        let (id, _, facts) = &mut entries[j];
        if j == reader || joined.contains_key(id) || !facts.ftp.is_empty() {
            continue;
        }
        if facts.has_firewall() {
            continue;
        }
        joined.insert(*id, by);
        clues.append(&mut facts.platform);
    }
    entries[reader].2.platform.extend(clues);
}

/// The servers of the configs `mount` brings, each with where the container sees it.
fn take_servers(
    entries: &mut [Entry],
    paths: &Paths,
    container: usize,
    mount: &Mount,
    joined: &mut BTreeMap<FileId, FileId>,
) -> Vec<(String, Vec<FtpServer>)> {
    let by = entries[container].0;
    let mut out = Vec::new();
    for (j, path) in paths.configs_under(&mount.source) {
        let Some(seen_at) = container_path(mount, path) else {
            continue;
        };
        let (id, _, facts) = &mut entries[j];
        if j == container || facts.ftp.is_empty() || joined.contains_key(id) {
            continue;
        }
        joined.insert(*id, by);
        out.push((seen_at, std::mem::take(&mut facts.ftp)));
    }
    out
}

/// Where the container sees `file`: a file mounted on its own counts wherever
/// it lands; a file of a mounted folder only at a daemon's own config path.
fn container_path(mount: &Mount, file: &Path) -> Option<String> {
    if !file.starts_with(&mount.source) {
        return None;
    }
    let at = seen_at(&mount.source, &mount.target, file)?;
    let alone = file == mount.source;
    (alone || DAEMON_CONFIGS.contains(&at.as_str())).then_some(at)
}

/// What runs in the container once the mount is in place; whether the
/// container's facts changed.
fn apply(facts: &mut FileFacts, mount: &Mount, found: Vec<(String, Vec<FtpServer>)>) -> bool {
    let Some(image) = &mount.image_server else {
        // No known image: the config found there is what the container runs,
        // unless the image starts with a program of its own (a start script
        // that may append to the config or pass the daemon options).
        let servers: Vec<FtpServer> = found
            .into_iter()
            .flat_map(|(_, s)| s)
            .map(|s| {
                let s = match &mount.starts_other_program {
                    Some((program, _)) => started_by_other(&s, program),
                    None => s,
                };
                FtpServer {
                    container: mount.container.clone(),
                    ..set_by_mount(s, mount.span)
                }
            })
            .collect();
        let changed = !servers.is_empty();
        facts.ftp.extend(servers);
        return changed;
    };
    let Some((config, how)) = mount.image_config else {
        if found.is_empty() {
            return false;
        }
        let reason = "is a file mounted over the config of an image whose entrypoint pasvlint has not read, so what the server runs is not known";
        return replace(facts, image, |s| unknown(s, mount.span, reason));
    };
    let mounted_here = found.into_iter().find(|(at, _)| at == config);
    let Some((_, servers)) = mounted_here else {
        return mounted_missing(facts, mount, image, config, how);
    };
    let Some(file) = servers.into_iter().next() else {
        return false;
    };
    match (how, mount.read_only) {
        (MountedConfig::NotRead, _) => false,
        (MountedConfig::ImageRangeWins, false) => {
            replace(facts, image, |image| with_range_of(file.clone(), image))
        }
        (MountedConfig::ImageRangeWins, true) | (MountedConfig::FileIsConfig, _) => {
            replace(facts, image, |_| set_by_mount(file.clone(), mount.span))
        }
        (MountedConfig::FileRangeWins, _) => replace(facts, image, |image| {
            if range_written(&file) {
                set_by_mount(file.clone(), mount.span)
            } else {
                with_range_of(file.clone(), image)
            }
        }),
    }
}

/// A mount over the image's config path of a file not in the repository
/// (or not read as a server config): what it sets is not known, never guessed.
fn mounted_missing(
    facts: &mut FileFacts,
    mount: &Mount,
    image: &FtpServer,
    config: &str,
    how: MountedConfig,
) -> bool {
    let covers = config == mount.target || config.starts_with(&format!("{}/", mount.target));
    let image_range_stays = how == MountedConfig::ImageRangeWins && !mount.read_only;
    if !covers || how == MountedConfig::NotRead || image_range_stays {
        return false;
    }
    let reason = if mount.source.is_file() {
        format!("is mounted over {config} and is not read as a server config here")
    } else {
        format!("is mounted over {config} and is not in the repository")
    };
    replace(facts, image, |s| unknown(s, mount.span, &reason))
}

/// Replace the image's server (found by its anchor) with `f` of it.
fn replace(facts: &mut FileFacts, image: &FtpServer, f: impl Fn(&FtpServer) -> FtpServer) -> bool {
    let Some(slot) = facts.ftp.iter_mut().find(|s| s.anchor == image.anchor) else {
        return false;
    };
    // The server runs in the image's container, whatever file it now reads.
    let container = slot.container.clone();
    *slot = FtpServer {
        container,
        ..f(slot)
    };
    true
}

/// The file's server with the image's range and announced address, which the
/// entrypoint or command line sets over the file's.
fn with_range_of(file: FtpServer, image: &FtpServer) -> FtpServer {
    FtpServer {
        // Fixes name the image's variables.
        server: image.server,
        passive: image.passive.clone(),
        passive_address: image.passive_address.clone(),
        range_setting: image.range_setting.clone(),
        ..file
    }
}

/// The mount is where the file's range comes into the container: it leads the
/// spans behind the range.
fn set_by_mount(mut server: FtpServer, span: Span) -> FtpServer {
    match &mut server.passive {
        Passive::Enabled { spans, .. } | Passive::Unknown { spans, .. } => spans.insert(0, span),
        Passive::Disabled { .. } => {}
    }
    server
}

fn range_written(server: &FtpServer) -> bool {
    match &server.passive {
        Passive::Enabled { spans, .. } | Passive::Unknown { spans, .. } => !spans.is_empty(),
        Passive::Disabled { span, .. } => span.is_some(),
    }
}

/// A config in an image that starts with `program`, which pasvlint does not
/// follow: the passive range the server runs with is not known.
/// The caller puts the mount's span (the `build:` entry) in front of the spans.
fn started_by_other(server: &FtpServer, program: &str) -> FtpServer {
    FtpServer {
        passive: Passive::Unknown {
            spans: Vec::new(),
            reason: format!(
                "the image starts with {program}, which pasvlint does not follow: it may change the passive range before the server starts"
            ),
        },
        range_setting: None,
        ..server.clone()
    }
}

fn unknown(server: &FtpServer, span: Span, reason: &str) -> FtpServer {
    FtpServer {
        passive: Passive::Unknown {
            spans: vec![span],
            reason: format!("the volume {reason}"),
        },
        range_setting: None,
        ..server.clone()
    }
}

#[cfg(test)]
mod tests {
    use crate::facts::Passive;

    /// The passive facts of every server the tree's hosts run.
    fn servers(files: &[(&str, &str)]) -> Vec<(&'static str, Passive)> {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let report = crate::lint(
            &[dir.path().to_path_buf()],
            &crate::policy::Config::default(),
        );
        assert_eq!(report.hosts.len(), 1, "{:?}", report.hosts);
        report.hosts[0]
            .servers
            .iter()
            .map(|s| (s.server, s.passive.clone()))
            .collect()
    }

    const CONF: &str = "listen=YES\npasv_min_port=30000\npasv_max_port=30009\n";

    fn compose(image: &str, volume: &str) -> String {
        format!(
            "services:\n  ftp:\n    image: {image}\n    ports:\n      - \"21:21\"\n    volumes:\n      - {volume}\n"
        )
    }

    #[test]
    fn a_missing_file_mounted_over_the_config_leaves_the_range_unknown() {
        let got = servers(&[(
            "compose.yaml",
            &compose("fauria/vsftpd", "./gone.conf:/etc/vsftpd/vsftpd.conf:ro"),
        )]);
        assert!(
            matches!(&got[..], [(_, Passive::Unknown { reason, .. })] if reason.contains("not in the repository"))
        );
        // Read-write, the entrypoint's appended range wins whatever the file says.
        let got = servers(&[(
            "compose.yaml",
            &compose("fauria/vsftpd", "./gone.conf:/etc/vsftpd/vsftpd.conf"),
        )]);
        assert_eq!(
            got[0].1.ports(),
            Some(&crate::portset::PortSet::range(21100, 21110))
        );
    }

    #[test]
    fn delfer_reads_the_file_after_its_options() {
        let got = servers(&[
            (
                "compose.yaml",
                &compose(
                    "delfer/alpine-ftp-server",
                    "./vsftpd.conf:/etc/vsftpd/vsftpd.conf",
                ),
            ),
            ("vsftpd.conf", CONF),
        ]);
        assert_eq!(
            got[0].1.ports(),
            Some(&crate::portset::PortSet::range(30000, 30009))
        );
        let got = servers(&[
            (
                "compose.yaml",
                &compose(
                    "delfer/alpine-ftp-server",
                    "./vsftpd.conf:/etc/vsftpd/vsftpd.conf",
                ),
            ),
            ("vsftpd.conf", "listen=YES\n"),
        ]);
        assert_eq!(
            got[0].1.ports(),
            Some(&crate::portset::PortSet::range(21000, 21010))
        );
    }

    #[test]
    fn images_that_do_not_read_the_file_or_read_it_whole() {
        let got = servers(&[
            (
                "compose.yaml",
                &compose(
                    "stilliard/pure-ftpd",
                    "./pure-ftpd.conf:/etc/pure-ftpd/pure-ftpd.conf",
                ),
            ),
            ("pure-ftpd.conf", "PassivePortRange 40000 40009\n"),
        ]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].1.ports(),
            Some(&crate::portset::PortSet::range(30000, 30009))
        );
        let got = servers(&[
            (
                "compose.yaml",
                &compose("garethflowers/ftp-server", "./vsftpd.conf:/etc/vsftpd.conf"),
            ),
            ("vsftpd.conf", CONF),
        ]);
        // CMD `/usr/sbin/vsftpd` reads the mounted file as its only config.
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].1.ports(),
            Some(&crate::portset::PortSet::range(30000, 30009))
        );
    }

    #[test]
    fn a_folder_mounted_elsewhere_brings_no_config() {
        let got = servers(&[
            (
                "compose.yaml",
                "services:\n  web:\n    image: nginx\n    volumes:\n      - .:/app\n",
            ),
            ("vsftpd.conf", CONF),
        ]);
        assert_eq!(got.len(), 1);
    }
}
