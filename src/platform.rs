//! Which distribution and release a host runs, from what its files show.
//!
//! The daemon build and the kernel decide what a config means: Fedora/RHEL builds of
//! vsftpd accept directives Debian's and upstream refuse, and kernels before 4.7
//! attach the FTP conntrack helper to port 21 by themselves once `nf_conntrack_ftp`
//! is loaded. A repository usually shows the platform (`/etc/os-release`,
//! `/etc/redhat-release`, a Dockerfile's `FROM`, `yum` in a provisioning script,
//! where the vsftpd config lives); `[policy] platform` and `[[hosts]] platform`
//! override it. When it is unknown, findings that depend on it say which builds or
//! kernels disagree instead of asserting one.

use crate::source::{SourceFile, Span};
use std::path::Path;

mod boot;

/// A Linux distribution family, as far as daemon builds and kernels go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Distro {
    Debian,
    Ubuntu,
    /// RHEL and its rebuilds (CentOS, Rocky, AlmaLinux, Oracle Linux, UBI).
    Rhel,
    Fedora,
    Alpine,
    Suse,
    Arch,
}

impl Distro {
    pub fn id(self) -> &'static str {
        match self {
            Distro::Debian => "debian",
            Distro::Ubuntu => "ubuntu",
            Distro::Rhel => "rhel",
            Distro::Fedora => "fedora",
            Distro::Alpine => "alpine",
            Distro::Suse => "suse",
            Distro::Arch => "arch",
        }
    }

    fn from_id(id: &str) -> Option<Distro> {
        Some(match id {
            "debian" | "raspbian" => Distro::Debian,
            "ubuntu" => Distro::Ubuntu,
            "rhel" | "centos" | "rocky" | "almalinux" | "alma" | "ol" | "oracle" | "ubi"
            | "redhat" | "rockylinux" | "amzn" => Distro::Rhel,
            "fedora" => Distro::Fedora,
            "alpine" => Distro::Alpine,
            "suse" | "opensuse" | "sles" | "opensuse-leap" | "opensuse-tumbleweed" => Distro::Suse,
            "arch" | "archlinux" => Distro::Arch,
            _ => return None,
        })
    }

    /// Its vsftpd package is built from the Fedora/RHEL fork
    /// (`InfrastructureServices/vsftpd`), with that fork's extra directives.
    pub fn vsftpd_is_fedora_fork(self) -> bool {
        matches!(self, Distro::Rhel | Distro::Fedora)
    }
}

/// A distribution, with its release when the files tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub distro: Distro,
    /// `12`, `22.04`, `7`: the release as its own files number it.
    pub release: Option<String>,
    /// Known only from a container image (`FROM centos:7`): the daemon is that
    /// image's, the kernel is whatever the container host runs.
    pub container: bool,
}

impl Platform {
    /// `debian-12`, `rhel-7`, `ubuntu-22.04`; the distribution alone when the
    /// release is unknown.
    pub fn id(&self) -> String {
        match &self.release {
            Some(r) => format!("{}-{r}", self.distro.id()),
            None => self.distro.id().to_owned(),
        }
    }

    /// `debian-12`, `rhel-7`, `centos-7`, `ubuntu-22.04`, `alpine-3.19`, `fedora`.
    pub fn parse(id: &str) -> Option<Platform> {
        let id = id.trim().to_ascii_lowercase();
        let (name, release) = match id.rsplit_once('-') {
            Some((name, release)) if release.starts_with(|c: char| c.is_ascii_digit()) => {
                (name.to_owned(), Some(release.to_owned()))
            }
            _ => (id.clone(), None),
        };
        let distro = Distro::from_id(&name)?;
        if release.as_deref().is_some_and(|r| !is_release(r)) {
            return None;
        }
        Some(Platform {
            distro,
            release,
            container: false,
        })
    }

    fn major(&self) -> Option<u32> {
        self.release.as_deref()?.split('.').next()?.parse().ok()
    }

    /// How its stock kernel attaches the FTP helper. `None` when the release (or,
    /// in a container, the kernel) is unknown, or when its kernels straddle a bound.
    pub fn kernel_era(&self) -> Option<KernelEra> {
        if self.container {
            return None;
        }
        let major = self.major()?;
        let minor = self
            .release
            .as_deref()
            .and_then(|r| r.split('.').nth(1)?.parse::<u32>().ok())
            .unwrap_or(0);
        let version = (major, minor);
        // Each release's stock kernel: RHEL 7 3.10, 8 4.18, 10 6.12 (9's 5.14 carries
        // netfilter backports not checked here); Debian 8 3.16, 11 5.10, 12 6.1;
        // Ubuntu 16.04 4.4, 22.04 5.15 (its HWE kernels are 6.x), 22.10 5.19, 23.04
        // 6.2; Alpine 3.4 4.4, 3.16 5.15, 3.17 6.1; Fedora 24 4.5, 34 5.11 (35 and 36
        // were rebased onto 6.x during their life).
        use KernelEra::*;
        Some(match self.distro {
            Distro::Rhel if major == 9 => OffByDefault,
            Distro::Rhel => era(version, (7, 99), (9, 99)),
            Distro::Debian => era(version, (8, 99), (11, 99)),
            Distro::Ubuntu if version == (22, 4) => OffByDefault,
            Distro::Ubuntu => era(version, (16, 4), (22, 10)),
            Distro::Alpine => era(version, (3, 4), (3, 16)),
            Distro::Fedora if matches!(major, 35 | 36) => OffByDefault,
            Distro::Fedora => era(version, (24, 99), (34, 99)),
            Distro::Suse | Distro::Arch => return None,
        })
    }
}

/// Which releases, as (major, minor), run which kind of kernel: up to `auto`
/// before 4.7, up to `opt_in` before 6.0, the rest 6.0 or later.
fn era(version: (u32, u32), auto: (u32, u32), opt_in: (u32, u32)) -> KernelEra {
    if version <= auto {
        KernelEra::AutoByDefault
    } else if version <= opt_in {
        KernelEra::OptIn
    } else {
        KernelEra::ExplicitOnly
    }
}

/// How a kernel attaches the FTP conntrack helper to a control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelEra {
    /// Before Linux 4.7: by itself, to the module's ports (21), once
    /// `nf_conntrack_ftp` is loaded (`nf_conntrack_helper` defaults to 1).
    AutoByDefault,
    /// Linux 4.7 to 5.19: only with `nf_conntrack_helper=1` (commit 3bb398d925ec
    /// turned the default off).
    OptIn,
    /// Linux 6.0 on: only a rule does (commit b118509076b3 removed the knob).
    ExplicitOnly,
    /// Linux 4.7 or later, before or from 6.0 not known.
    OffByDefault,
}

fn is_release(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// What one file says about the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    pub says: Says,
    pub span: Span,
    /// Shown to the user: `CentOS Linux release 7.9.2009`, `FROM debian:bookworm`.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Says {
    /// A release file, or an image tag (container: true).
    Exactly(Platform),
    /// Only a family of distributions does this (`yum install`, `/etc/sysconfig/`).
    OneOf(&'static [Distro]),
    /// `nf_conntrack_ftp` is loaded at boot (RHEL's `IPTABLES_MODULES`, `/etc/modules`).
    FtpHelperModule,
    /// `net.netfilter.nf_conntrack_helper` set at boot; `order` ranks the files
    /// as the boot applies them (the last one wins).
    AutoHelper { on: bool, order: String },
    /// `options nf_conntrack_ftp loose=1` in modprobe.d.
    FtpHelperLoose,
}

impl Says {
    fn strength(&self) -> u8 {
        match self {
            Says::Exactly(p) if p.container => 2,
            Says::Exactly(_) => 3,
            _ => 1,
        }
    }
}

const RHEL_LIKE: &[Distro] = &[Distro::Rhel, Distro::Fedora];
const DEBIAN_LIKE: &[Distro] = &[Distro::Debian, Distro::Ubuntu];
const SYSCONFIG: &[Distro] = &[Distro::Rhel, Distro::Fedora, Distro::Suse];
/// `/etc/vsftpd/vsftpd.conf` is where RHEL, Fedora and Alpine keep it.
const VSFTPD_DIR: &[Distro] = &[Distro::Rhel, Distro::Fedora, Distro::Alpine];
/// `/etc/vsftpd.conf`: Debian, Ubuntu, openSUSE and Arch.
const VSFTPD_FLAT: &[Distro] = &[Distro::Debian, Distro::Ubuntu, Distro::Suse, Distro::Arch];

/// Files read only for what they say about the platform.
pub fn sniff(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let parent = parent_name(path);
    if is_dockerfile(name) {
        return true;
    }
    if boot::sniff(name, parent) {
        return true;
    }
    match parent {
        "etc" => RELEASE_FILES.contains(&name) || name == "modules",
        "lib" => name == "os-release" && parent_name(path.parent().unwrap_or(path)) == "usr",
        "sysconfig" => matches!(name, "iptables-config" | "ip6tables-config"),
        "modules-load.d" => name.ends_with(".conf"),
        "modules" => {
            name.ends_with(".modules") && parent_name(path.parent().unwrap_or(path)) == "sysconfig"
        }
        _ => false,
    }
}

const RELEASE_FILES: &[&str] = &[
    "os-release",
    "redhat-release",
    "centos-release",
    "rocky-release",
    "almalinux-release",
    "fedora-release",
    "system-release",
    "oracle-release",
    "debian_version",
    "lsb-release",
    "alpine-release",
    "SuSE-release",
    "arch-release",
];

/// Whether `path` names a Dockerfile (`Dockerfile`, `Containerfile`,
/// `Dockerfile.prod`, `web.dockerfile`).
pub fn is_dockerfile_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_dockerfile)
}

fn is_dockerfile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
}

fn parent_name(path: &Path) -> &str {
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("")
}

/// What a file read for the platform says (see [`sniff`]).
pub fn read(source: &SourceFile) -> Vec<Clue> {
    let name = source
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if is_dockerfile(name) {
        return dockerfile(source).into_iter().collect();
    }
    if boot::sniff(name, parent_name(&source.path)) {
        return boot::read(source);
    }
    match name {
        "os-release" | "lsb-release" => os_release(source).into_iter().collect(),
        "debian_version" => first_line(source)
            .and_then(|(line, span)| debian_version(line).map(|p| clue(p, span, line)))
            .into_iter()
            .collect(),
        "alpine-release" => first_line(source)
            .and_then(|(line, span)| {
                let release = line.split('.').take(2).collect::<Vec<_>>().join(".");
                is_release(&release).then(|| clue(exact(Distro::Alpine, &release), span, line))
            })
            .into_iter()
            .collect(),
        "iptables-config" | "ip6tables-config" => iptables_config(source),
        "arch-release" => whole_file(source, exact_family(Distro::Arch), "/etc/arch-release"),
        "SuSE-release" => whole_file(source, exact_family(Distro::Suse), "/etc/SuSE-release"),
        _ if RELEASE_FILES.contains(&name) => first_line(source)
            .and_then(|(line, span)| release_line(line).map(|p| clue(p, span, line)))
            .into_iter()
            .collect(),
        _ => modules_file(source),
    }
}

fn clue(platform: Platform, span: Span, reason: &str) -> Clue {
    Clue {
        says: Says::Exactly(platform),
        span,
        reason: reason.trim().to_owned(),
    }
}

fn exact(distro: Distro, release: &str) -> Platform {
    Platform {
        distro,
        release: Some(release.to_owned()),
        container: false,
    }
}

fn exact_family(distro: Distro) -> Platform {
    Platform {
        distro,
        release: None,
        container: false,
    }
}

fn whole_file(source: &SourceFile, platform: Platform, reason: &str) -> Vec<Clue> {
    vec![clue(platform, source.span(0, 0), reason)]
}

/// Lines with their spans, without the line break.
fn lines(source: &SourceFile) -> impl Iterator<Item = (&str, Span)> {
    let text = source.text.as_str();
    let mut start = 0;
    text.split_inclusive('\n').map(move |raw| {
        let line = raw.trim_end_matches(['\n', '\r']);
        let span = source.span(start, start + line.len());
        start += raw.len();
        (line, span)
    })
}

fn first_line(source: &SourceFile) -> Option<(&str, Span)> {
    lines(source).find(|(l, _)| !l.trim().is_empty())
}

/// `CentOS Linux release 7.9.2009 (Core)`, `Red Hat Enterprise Linux Server release
/// 7.9 (Maipo)`, `Rocky Linux release 8.9`, `Fedora release 39 (Thirty Nine)`.
fn release_line(line: &str) -> Option<Platform> {
    let lower = line.to_ascii_lowercase();
    let distro = if lower.starts_with("fedora") {
        Distro::Fedora
    } else if [
        "centos",
        "red hat",
        "rocky",
        "alma",
        "oracle",
        "scientific",
        "cloudlinux",
        "amazon",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        Distro::Rhel
    } else {
        return None;
    };
    let release = lower
        .split_once("release")
        .map(|(_, rest)| rest.trim())
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .find(|p| !p.is_empty())
        })
        .map(str::to_owned);
    Some(Platform {
        distro,
        release,
        container: false,
    })
}

/// `12.5` → debian-12; `bookworm/sid` (a testing system) → debian with its codename's number.
fn debian_version(line: &str) -> Option<Platform> {
    let line = line.trim();
    let major = line.split('.').next().unwrap_or("");
    if is_release(major) {
        return Some(exact(Distro::Debian, major));
    }
    let codename = line.split('/').next().unwrap_or("");
    codename_release(Distro::Debian, codename).map(|r| exact(Distro::Debian, r))
}

fn os_release(source: &SourceFile) -> Option<Clue> {
    let mut id = None;
    let mut like = None;
    let mut version = None;
    for (line, span) in lines(source) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
        match key.trim() {
            "ID" | "DISTRIB_ID" => id = Some((value, span)),
            "ID_LIKE" => like = Some(value),
            "VERSION_ID" | "DISTRIB_RELEASE" => version = Some(value),
            _ => {}
        }
    }
    let (id, span) = id?;
    let distro = Distro::from_id(&id).or_else(|| {
        like.as_deref()?
            .split_whitespace()
            .find_map(Distro::from_id)
    })?;
    let release = version.map(|v| match distro {
        Distro::Ubuntu | Distro::Alpine => v.split('.').take(2).collect::<Vec<_>>().join("."),
        _ => v.split('.').next().unwrap_or("").to_owned(),
    });
    let release = release.filter(|r| is_release(r));
    let reason = format!(
        "ID={id}{}",
        release
            .as_deref()
            .map_or(String::new(), |r| format!(" VERSION_ID={r}"))
    );
    Some(clue(
        Platform {
            distro,
            release,
            container: false,
        },
        span,
        &reason,
    ))
}

/// The last `FROM` (the image the container runs) of a Dockerfile.
fn dockerfile(source: &SourceFile) -> Option<Clue> {
    let (line, span) = lines(source)
        .filter(|(l, _)| {
            l.trim_start()
                .get(..5)
                .is_some_and(|w| w.eq_ignore_ascii_case("from "))
        })
        .last()?;
    let image = line
        .split_whitespace()
        .skip(1)
        .find(|w| !w.starts_with("--"))?;
    let mut platform = image_platform(image)?;
    platform.container = true;
    Some(clue(platform, span, line))
}

/// `centos:7`, `debian:bookworm-slim`, `ubuntu:22.04`, `rockylinux/rockylinux:9`,
/// `registry.access.redhat.com/ubi8/ubi-minimal`, `alpine:3.19`.
pub fn image_platform(image: &str) -> Option<Platform> {
    let image = image.to_ascii_lowercase();
    let (repo, tag) = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_owned(), tag.to_owned()),
        _ => (image.clone(), String::new()),
    };
    let name = repo.rsplit('/').next().unwrap_or(&repo);
    if let Some(release) = repo.split('/').find_map(|part| part.strip_prefix("ubi")) {
        let release = release.split('-').next().unwrap_or("");
        if is_release(release) {
            return Some(Platform {
                container: true,
                ..exact(Distro::Rhel, release)
            });
        }
    }
    let distro = Distro::from_id(name.trim_end_matches("linux").trim_end_matches('-'))
        .or_else(|| Distro::from_id(name))?;
    let tag = tag.split('-').next().unwrap_or("");
    let release = if is_release(tag) {
        let keep = if matches!(distro, Distro::Ubuntu | Distro::Alpine) {
            2
        } else {
            1
        };
        Some(tag.split('.').take(keep).collect::<Vec<_>>().join("."))
    } else {
        codename_release(distro, tag).map(str::to_owned)
    };
    Some(Platform {
        distro,
        release,
        container: true,
    })
}

fn codename_release(distro: Distro, codename: &str) -> Option<&'static str> {
    const DEBIAN: &[(&str, &str)] = &[
        ("wheezy", "7"),
        ("jessie", "8"),
        ("stretch", "9"),
        ("buster", "10"),
        ("bullseye", "11"),
        ("bookworm", "12"),
        ("trixie", "13"),
    ];
    const UBUNTU: &[(&str, &str)] = &[
        ("trusty", "14.04"),
        ("xenial", "16.04"),
        ("bionic", "18.04"),
        ("focal", "20.04"),
        ("jammy", "22.04"),
        ("noble", "24.04"),
    ];
    let table = match distro {
        Distro::Debian => DEBIAN,
        Distro::Ubuntu => UBUNTU,
        _ => return None,
    };
    table.iter().find(|(c, _)| *c == codename).map(|(_, r)| *r)
}

/// `/etc/sysconfig/iptables-config`: a RHEL-family file; `IPTABLES_MODULES`
/// naming the FTP helper loads it at boot.
fn iptables_config(source: &SourceFile) -> Vec<Clue> {
    let mut clues = vec![Clue {
        says: Says::OneOf(RHEL_LIKE),
        span: source.span(0, 0),
        reason: "iptables-services' own config file".to_owned(),
    }];
    for (line, span) in lines(source) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(value) = trimmed
            .strip_prefix("IPTABLES_MODULES=")
            .or_else(|| trimmed.strip_prefix("IP6TABLES_MODULES="))
        {
            if names_ftp_helper(value) {
                clues.push(module_clue(span, trimmed));
            }
        }
    }
    clues
}

/// `/etc/modules`, `/etc/modules-load.d/*.conf`, `/etc/sysconfig/modules/*.modules`.
fn modules_file(source: &SourceFile) -> Vec<Clue> {
    lines(source)
        .filter(|(l, _)| {
            let l = l.trim_start();
            !l.starts_with('#') && !l.starts_with(';') && names_ftp_helper(l)
        })
        .map(|(l, span)| module_clue(span, l.trim()))
        .collect()
}

fn module_clue(span: Span, reason: &str) -> Clue {
    Clue {
        says: Says::FtpHelperModule,
        span,
        reason: reason.to_owned(),
    }
}

fn names_ftp_helper(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| matches!(w, "nf_conntrack_ftp" | "ip_conntrack_ftp"))
}

/// What a shell script's package manager says: `yum`/`dnf` for RHEL and Fedora,
/// `apt-get`/`apt` for Debian and Ubuntu, `apk` for Alpine, `zypper` for SUSE;
/// `modprobe nf_conntrack_ftp` loads the helper module.
pub fn script_clues(source: &SourceFile) -> Vec<Clue> {
    let mut clues = Vec::new();
    for (line, span) in lines(source) {
        let code = line.split('#').next().unwrap_or("");
        let words: Vec<&str> = code
            .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let program = pair[0].rsplit('/').next().unwrap_or(pair[0]);
            let family: Option<&'static [Distro]> = match (program, pair[1]) {
                ("yum" | "dnf" | "microdnf", _) => Some(RHEL_LIKE),
                ("apt-get" | "apt", "install" | "update" | "-y" | "-qq") => Some(DEBIAN_LIKE),
                ("apk", "add" | "update") => Some(&[Distro::Alpine]),
                ("zypper", _) => Some(&[Distro::Suse]),
                _ => None,
            };
            if let Some(family) = family {
                clues.push(Clue {
                    says: Says::OneOf(family),
                    span,
                    reason: code.trim().to_owned(),
                });
                break;
            }
        }
        if words.iter().any(|w| w.ends_with("modprobe")) && names_ftp_helper(code) {
            clues.push(module_clue(span, code.trim()));
        }
    }
    clues
}

/// What a config file's own location says (`/etc/vsftpd/vsftpd.conf` vs
/// `/etc/vsftpd.conf`, anything under `/etc/sysconfig/`).
pub fn path_family(path: &Path) -> Option<(&'static [Distro], &'static str)> {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.ends_with("etc/vsftpd/vsftpd.conf") {
        return Some((VSFTPD_DIR, "/etc/vsftpd/vsftpd.conf"));
    }
    if text.ends_with("etc/vsftpd.conf") {
        return Some((VSFTPD_FLAT, "/etc/vsftpd.conf"));
    }
    if text.contains("etc/sysconfig/") {
        return Some((SYSCONFIG, "/etc/sysconfig/"));
    }
    None
}

/// A host's platform and why it is believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPlatform {
    /// `None`: not known; `candidates` then says what the files narrow it to.
    pub known: Option<Platform>,
    /// The distributions the weaker clues leave possible (empty: no idea).
    pub candidates: Vec<Distro>,
    pub evidence: Option<Evidence>,
    /// What the boot files set for the kernel's FTP helper.
    pub helper: HelperBoot,
}

/// What a host's boot files set for the kernel's FTP conntrack helper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelperBoot {
    /// Where `nf_conntrack_ftp` is loaded at boot, if anywhere.
    pub module: Option<Span>,
    /// `net.netfilter.nf_conntrack_helper` as the boot last sets it.
    pub auto_assign: Option<(bool, Span)>,
    /// `options nf_conntrack_ftp loose=1`.
    pub loose: Option<Span>,
}

impl HelperBoot {
    fn from_clues(clues: &[Clue]) -> HelperBoot {
        let first = |says: Says| clues.iter().find(|c| c.says == says).map(|c| c.span);
        HelperBoot {
            module: first(Says::FtpHelperModule),
            auto_assign: boot::auto_assign(clues),
            loose: first(Says::FtpHelperLoose),
        }
    }
}

/// Why a platform is believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// `[policy] platform` or `[[hosts]] platform` in pasvlint.toml.
    Config(&'static str),
    /// A file of the host.
    File { span: Span, reason: String },
    /// Where a config file lives (no span: the path itself).
    Path(String),
}

/// Platforms on which a finding does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exemption {
    /// The Fedora/RHEL build of vsftpd accepts what the finding says vsftpd refuses.
    VsftpdFedoraFork,
}

impl Exemption {
    /// Whether the host is exempt: `Yes` drops the finding, `No` keeps it, and
    /// `Unknown` keeps it as a warning that says which builds disagree.
    pub fn applies(self, platform: &HostPlatform) -> Answer {
        match self {
            Exemption::VsftpdFedoraFork => platform.vsftpd_fedora_fork(),
        }
    }

    /// Appended to the message when the platform is not known.
    pub fn unknown_note(self) -> &'static str {
        match self {
            Exemption::VsftpdFedoraFork => {
                "; Fedora/RHEL builds accept it, and this host's platform is not known (set `platform` in pasvlint.toml)"
            }
        }
    }
}

/// How a platform-dependent question comes out on a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    Unknown,
}

impl HostPlatform {
    pub fn unknown() -> HostPlatform {
        HostPlatform {
            known: None,
            candidates: Vec::new(),
            evidence: None,
            helper: HelperBoot::default(),
        }
    }

    /// Decide from a host's clues (strongest wins; weak family clues narrow
    /// each other) and the paths of its files.
    pub fn from_clues(clues: &[Clue], paths: &[&Path]) -> HostPlatform {
        let mut out = HostPlatform::unknown();
        out.helper = HelperBoot::from_clues(clues);
        let best = clues
            .iter()
            .filter(|c| matches!(c.says, Says::Exactly(_)))
            .max_by_key(|c| (c.says.strength(), std::cmp::Reverse(c.span.file)));
        if let Some(Clue {
            says: Says::Exactly(platform),
            span,
            reason,
        }) = best
        {
            out.known = Some(platform.clone());
            out.evidence = Some(Evidence::File {
                span: *span,
                reason: reason.clone(),
            });
            return out;
        }
        let mut families: Vec<(&'static [Distro], Evidence)> = clues
            .iter()
            .filter_map(|c| match c.says {
                Says::OneOf(f) => Some((
                    f,
                    Evidence::File {
                        span: c.span,
                        reason: c.reason.clone(),
                    },
                )),
                _ => None,
            })
            .collect();
        families.extend(
            paths
                .iter()
                .filter_map(|p| path_family(p))
                .map(|(f, why)| (f, Evidence::Path(why.to_owned()))),
        );
        let Some((first, evidence)) = families.first() else {
            return out;
        };
        let mut candidates: Vec<Distro> = first.to_vec();
        for (family, _) in &families[1..] {
            let narrowed: Vec<Distro> = candidates
                .iter()
                .copied()
                .filter(|d| family.contains(d))
                .collect();
            if !narrowed.is_empty() {
                candidates = narrowed;
            }
        }
        if let [only] = candidates[..] {
            out.known = Some(exact_family(only));
        }
        out.candidates = candidates;
        out.evidence = Some(evidence.clone());
        out
    }

    /// Set by pasvlint.toml: that wins over every file.
    pub fn configured(platform: Platform, key: &'static str, helper: HelperBoot) -> HostPlatform {
        HostPlatform {
            candidates: vec![platform.distro],
            known: Some(platform),
            evidence: Some(Evidence::Config(key)),
            helper,
        }
    }

    /// `debian-12`, `rhel`, or `None` when not known.
    pub fn id(&self) -> Option<String> {
        self.known.as_ref().map(Platform::id)
    }

    fn possible(&self) -> Vec<Distro> {
        match &self.known {
            Some(p) => vec![p.distro],
            None => self.candidates.clone(),
        }
    }

    /// Does the host's vsftpd come from the Fedora/RHEL fork?
    pub fn vsftpd_fedora_fork(&self) -> Answer {
        let possible = self.possible();
        if possible.is_empty() {
            Answer::Unknown
        } else if possible.iter().all(|d| d.vsftpd_is_fedora_fork()) {
            Answer::Yes
        } else if possible.iter().all(|d| !d.vsftpd_is_fedora_fork()) {
            Answer::No
        } else {
            Answer::Unknown
        }
    }

    /// Does the kernel attach the FTP helper to port 21 by itself? Only when the
    /// helper module is loaded at boot; then it depends on the kernel release and
    /// on `nf_conntrack_helper` (on by default before 4.7, gone from 6.0).
    pub fn kernel_assigns_ftp_helper(&self) -> Answer {
        if self.helper.module.is_none() {
            return Answer::No;
        }
        let auto = self.helper.auto_assign.map(|(on, _)| on);
        let era = self.known.as_ref().and_then(Platform::kernel_era);
        match (era, auto) {
            (Some(KernelEra::AutoByDefault), Some(false)) => Answer::No,
            (Some(KernelEra::AutoByDefault), _) => Answer::Yes,
            (Some(KernelEra::OptIn), Some(true)) => Answer::Yes,
            (Some(KernelEra::OptIn | KernelEra::ExplicitOnly), _) => Answer::No,
            (_, Some(false)) | (Some(KernelEra::OffByDefault), None) => Answer::No,
            _ => Answer::Unknown,
        }
    }

    /// The boot setting that makes the kernel attach the helper by itself: the
    /// sysctl that turns assignment on, else the module load.
    pub fn kernel_helper_setting(&self) -> Option<Span> {
        match self.helper.auto_assign {
            Some((true, span)) if self.kernel_era() != Some(KernelEra::AutoByDefault) => Some(span),
            _ => self.helper.module,
        }
    }

    /// The kernel era, when the release tells it.
    pub fn kernel_era(&self) -> Option<KernelEra> {
        self.known.as_ref().and_then(Platform::kernel_era)
    }

    /// `etc/redhat-release:1 (CentOS Linux release 7.9.2009)` and the like.
    pub fn describe(&self, sources: &crate::source::SourceMap) -> String {
        match &self.evidence {
            None => String::new(),
            Some(Evidence::Config(key)) => format!("{key} in pasvlint.toml"),
            Some(Evidence::Path(path)) => format!("the config lives at {path}"),
            Some(Evidence::File { span, reason }) => {
                let place = sources.get(span.file).map_or(String::new(), |f| {
                    format!("{}:{}", f.display_path(), f.line_col(span.start).0)
                });
                format!("{place} ({reason})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn source(path: &str, text: &str) -> SourceFile {
        SourceFile::new(FileId(0), path, text.as_bytes())
    }

    fn ids(path: &str, text: &str) -> Vec<String> {
        read(&source(path, text))
            .into_iter()
            .filter_map(|c| match c.says {
                Says::Exactly(p) => Some(p.id()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn release_files_name_distribution_and_release() {
        assert_eq!(
            ids(
                "h/etc/redhat-release",
                "CentOS Linux release 7.9.2009 (Core)\n"
            ),
            ["rhel-7"]
        );
        assert_eq!(
            ids(
                "h/etc/redhat-release",
                "Red Hat Enterprise Linux release 8.9 (Ootpa)\n"
            ),
            ["rhel-8"]
        );
        assert_eq!(ids("h/etc/debian_version", "12.5\n"), ["debian-12"]);
        assert_eq!(ids("h/etc/debian_version", "bookworm/sid\n"), ["debian-12"]);
        assert_eq!(
            ids(
                "h/etc/os-release",
                "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n"
            ),
            ["ubuntu-22.04"]
        );
        assert_eq!(
            ids("h/etc/os-release", "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n"),
            ["rhel-9"]
        );
        assert_eq!(ids("h/etc/alpine-release", "3.19.1\n"), ["alpine-3.19"]);
    }

    #[test]
    fn images_name_the_daemon_build_but_not_the_kernel() {
        let from = |image: &str| image_platform(image).map(|p| (p.id(), p.container));
        assert_eq!(from("centos:7"), Some(("rhel-7".into(), true)));
        assert_eq!(
            from("debian:bookworm-slim"),
            Some(("debian-12".into(), true))
        );
        assert_eq!(from("ubuntu:22.04"), Some(("ubuntu-22.04".into(), true)));
        assert_eq!(
            from("rockylinux/rockylinux:9"),
            Some(("rhel-9".into(), true))
        );
        assert_eq!(
            from("registry.access.redhat.com/ubi8/ubi-minimal"),
            Some(("rhel-8".into(), true))
        );
        assert_eq!(from("alpine"), Some(("alpine".into(), true)));
        assert_eq!(from("nginx:1.25"), None);
        let clues = read(&source(
            "img/Dockerfile",
            "FROM golang:1.22 AS build\nFROM centos:7\nRUN yum -y install vsftpd\n",
        ));
        assert_eq!(clues.len(), 1);
        let host = HostPlatform::from_clues(&clues, &[]);
        assert_eq!(host.id().as_deref(), Some("rhel-7"));
        assert_eq!(
            host.kernel_assigns_ftp_helper(),
            Answer::No,
            "no module clue"
        );
    }

    #[test]
    fn policy_names_parse() {
        for (text, id) in [
            ("debian-12", "debian-12"),
            ("centos-7", "rhel-7"),
            ("RHEL-8", "rhel-8"),
            ("fedora", "fedora"),
            ("ubuntu-22.04", "ubuntu-22.04"),
        ] {
            assert_eq!(
                Platform::parse(text).map(|p| p.id()).as_deref(),
                Some(id),
                "{text}"
            );
        }
        assert_eq!(Platform::parse("windows-2019"), None);
        assert_eq!(Platform::parse("debian-x"), None);
    }

    #[test]
    fn old_kernels_assign_the_helper_only_with_the_module_loaded() {
        let module = read(&source(
            "h/etc/sysconfig/iptables-config",
            "IPTABLES_MODULES=\"nf_conntrack_ftp\"\n",
        ));
        let release = read(&source(
            "h/etc/redhat-release",
            "CentOS Linux release 7.9.2009 (Core)\n",
        ));
        let both: Vec<Clue> = module.iter().chain(&release).cloned().collect();
        assert_eq!(
            HostPlatform::from_clues(&both, &[]).kernel_assigns_ftp_helper(),
            Answer::Yes
        );
        let rhel8 = read(&source(
            "h/etc/redhat-release",
            "Rocky Linux release 8.9 (Green Obsidian)\n",
        ));
        let both: Vec<Clue> = module.iter().chain(&rhel8).cloned().collect();
        assert_eq!(
            HostPlatform::from_clues(&both, &[]).kernel_assigns_ftp_helper(),
            Answer::No
        );
        let alone = HostPlatform::from_clues(&module, &[]);
        assert_eq!(alone.id().as_deref(), None, "rhel or fedora");
        assert_eq!(alone.kernel_assigns_ftp_helper(), Answer::Unknown);
        assert_eq!(alone.vsftpd_fedora_fork(), Answer::Yes);
    }

    #[test]
    fn the_sysctl_turns_assignment_on_only_before_linux_6() {
        let module = read(&source(
            "h/etc/modules-load.d/ftp.conf",
            "nf_conntrack_ftp\n",
        ));
        let sysctl = read(&source(
            "h/etc/sysctl.d/70-conntrack.conf",
            "net.netfilter.nf_conntrack_helper=1\n",
        ));
        let on = |release: &str| {
            let release = read(&source("h/etc/os-release", release));
            let clues: Vec<Clue> = module
                .iter()
                .chain(&sysctl)
                .chain(&release)
                .cloned()
                .collect();
            HostPlatform::from_clues(&clues, &[]).kernel_assigns_ftp_helper()
        };
        assert_eq!(on("ID=ubuntu\nVERSION_ID=\"20.04\"\n"), Answer::Yes, "5.4");
        assert_eq!(on("ID=debian\nVERSION_ID=\"11\"\n"), Answer::Yes, "5.10");
        assert_eq!(on("ID=debian\nVERSION_ID=\"12\"\n"), Answer::No, "6.1");
        assert_eq!(
            on("ID=ubuntu\nVERSION_ID=\"22.04\"\n"),
            Answer::Unknown,
            "5.15 or HWE 6.x"
        );
        assert_eq!(on("ID=rocky\nVERSION_ID=\"8.9\"\n"), Answer::Yes, "4.18");
        let without: Vec<Clue> = module
            .iter()
            .chain(&read(&source(
                "h/etc/os-release",
                "ID=ubuntu\nVERSION_ID=\"20.04\"\n",
            )))
            .cloned()
            .collect();
        assert_eq!(
            HostPlatform::from_clues(&without, &[]).kernel_assigns_ftp_helper(),
            Answer::No
        );
        let alone: Vec<Clue> = module.iter().chain(&sysctl).cloned().collect();
        assert_eq!(
            HostPlatform::from_clues(&alone, &[]).kernel_assigns_ftp_helper(),
            Answer::Unknown
        );
    }

    #[test]
    fn config_location_narrows_the_family() {
        let rhel_dir = Path::new("h/etc/vsftpd/vsftpd.conf");
        let host = HostPlatform::from_clues(&[], &[rhel_dir]);
        assert_eq!(
            host.vsftpd_fedora_fork(),
            Answer::Unknown,
            "Alpine keeps it there too"
        );
        let yum = script_clues(&source("h/provision.sh", "yum -y install vsftpd\n"));
        let host = HostPlatform::from_clues(&yum, &[rhel_dir]);
        assert_eq!(host.vsftpd_fedora_fork(), Answer::Yes);
        let debian = HostPlatform::from_clues(&[], &[Path::new("h/etc/vsftpd.conf")]);
        assert_eq!(debian.vsftpd_fedora_fork(), Answer::No);
    }
}
