//! One module per input format: sniff, parse into a typed Document, extract facts.
//!
//! A parser knows nothing of rules: it records what it read (with spans) and
//! what the real program would reject; document rules turn that into findings.

pub mod ansible;
pub mod backup;
pub mod bundle;
pub mod bundles;
pub mod compose;
pub mod dockerfile;
pub mod filezilla;
pub mod firewalld;
pub mod iis;
pub mod iis_apphost;
pub mod iis_config_source;
pub mod iis_metabase;
pub mod iis_misspelled;
pub mod ipsec;
pub mod iptables;
pub mod kube;
pub mod nftables;
pub mod proftpd;
pub mod puppet;
pub mod pureftpd;
pub mod regfile;
pub mod terraform;
pub mod ufw;
pub mod vsftpd;
pub mod winfw;
pub mod winscript;
pub mod written;
pub mod xml;
pub mod yaml;

use crate::facts::FileFacts;
use crate::source::SourceFile;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Vsftpd,
    IptablesSave,
    ShellScript,
    IisMetabase,
    IisApplicationHost,
    RegFile,
    Batch,
    PowerShell,
    /// ufw's `before.rules`, `after.rules`, `user.rules` and their IPv6 twins.
    UfwRules,
    /// `/etc/default/ufw` and `/etc/ufw/ufw.conf`.
    UfwSettings,
    PureFtpd,
    FileZilla,
    /// Files read for the host's platform only (`/etc/os-release`, a Dockerfile's `FROM`).
    Platform,
    /// firewalld zone XML (`/etc/firewalld/zones/*.xml`).
    FirewalldZone,
    /// firewalld service XML (`/etc/firewalld/services/*.xml`).
    FirewalldService,
    /// `/etc/firewalld/firewalld.conf`.
    FirewalldConf,
    Proftpd,
    /// `/etc/nftables.conf`, `*.nft`, `nft list ruleset` output.
    Nftables,
    /// `compose.yaml`, `docker-compose*.yml`.
    Compose,
    /// Kubernetes manifests (`.yaml` with `apiVersion:` and `kind:`).
    Kubernetes,
    /// Terraform configuration (`*.tf`).
    Terraform,
    /// Ansible playbooks and task files.
    Ansible,
    /// Ansible variables (`defaults/`, `vars/`, `group_vars/`, `host_vars/`).
    AnsibleVars,
    /// Puppet manifests (`*.pp`).
    Puppet,
    /// Hiera 5 configuration (`hiera.yaml`) and data (`data/**/*.yaml`, `*.json`).
    Hiera,
}

impl Format {
    /// Name used in `facts` output and `--format json`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Vsftpd => "vsftpd",
            Format::IptablesSave => "iptables-save",
            Format::ShellScript => "shell",
            Format::IisMetabase => "iis-metabase",
            Format::IisApplicationHost => "iis-applicationhost",
            Format::RegFile => "reg",
            Format::Batch => "batch",
            Format::PowerShell => "powershell",
            Format::UfwRules => "ufw-rules",
            Format::UfwSettings => "ufw-settings",
            Format::PureFtpd => "pure-ftpd",
            Format::FileZilla => "filezilla",
            Format::Platform => "platform",
            Format::FirewalldZone => "firewalld-zone",
            Format::FirewalldService => "firewalld-service",
            Format::FirewalldConf => "firewalld-conf",
            Format::Proftpd => "proftpd",
            Format::Nftables => "nftables",
            Format::Compose => "docker-compose",
            Format::Kubernetes => "kubernetes",
            Format::Terraform => "terraform",
            Format::Ansible => "ansible",
            Format::AnsibleVars => "ansible-vars",
            Format::Puppet => "puppet",
            Format::Hiera => "hiera",
        }
    }
}

/// A parsed file.
#[derive(Debug)]
pub enum Document {
    Vsftpd(vsftpd::Config),
    Iptables(iptables::Ruleset),
    IisMetabase(Box<iis_metabase::Metabase>),
    IisApplicationHost(Box<iis_apphost::AppHost>),
    RegFile(regfile::RegFile),
    WindowsScript(winscript::Script),
    UfwSettings(ufw::files::Settings),
    PureFtpd(pureftpd::Config),
    FileZilla(filezilla::Settings),
    Platform(Vec<crate::platform::Clue>),
    FirewalldZone(Box<firewalld::Zone>),
    FirewalldService(firewalld::Service),
    FirewalldConf(firewalld::Conf),
    Proftpd(proftpd::Config),
    Nftables(nftables::File),
    Compose(compose::Compose),
    Kubernetes(kube::Manifests),
    Terraform(terraform::TfFile),
    Ansible(ansible::File),
    Puppet(puppet::File),
    Hiera(puppet::hiera::HieraFile),
}

/// A recognised file: its text, what it is, and what was read from it.
#[derive(Debug)]
pub struct ParsedFile {
    pub source: SourceFile,
    pub format: Format,
    pub doc: Document,
}

/// Whether a file may be configuration, from its path alone: `false` for names no
/// format reads whatever the bytes (media, archives, compiled code, source code of
/// other languages, documentation), so the walk never reads them.
pub fn may_be_config(path: &Path) -> bool {
    if is_documentation(path) || is_fail2ban_config(path) {
        return false;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    const NAMES: &[&str] = &[
        ".gitignore",
        ".gitattributes",
        ".gitmodules",
        ".dockerignore",
        "license",
        "copying",
        "package-lock.json",
        "yarn.lock",
        "cargo.lock",
        "go.sum",
    ];
    if NAMES.contains(&name.as_str()) {
        return false;
    }
    let Some((_, ext)) = name.rsplit_once('.') else {
        return true;
    };
    const NEVER: &[&str] = &[
        // media and documents
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "svg", "webp", "tif", "tiff", "psd", "pdf",
        "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "mp3", "mp4", "wav", "avi", "mov",
        "webm", "ogg", "flac", "woff", "woff2", "ttf", "otf", "eot",
        // archives and packages
        "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "tar", "jar", "war", "ear", "deb",
        "rpm", "apk", "msi", "cab", "iso", "img", "qcow2", "vmdk", "whl", "egg", "gem", "nupkg",
        // compiled code and data stores
        "exe", "dll", "so", "dylib", "o", "obj", "a", "lib", "class", "pyc", "pyo", "wasm", "rlib",
        "rmeta", "pdb", "db", "sqlite", "sqlite3", "pack", "idx", "bin", "dat",
        // source code of languages no format reads, and their maps
        "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "rs", "c", "h", "cc", "cpp", "hpp",
        "cs", "java", "kt", "scala", "swift", "m", "php", "pl", "pm", "lua", "r", "dart", "ex",
        "exs", "erl", "hs", "clj", "vue", "svelte", "css", "scss", "sass", "less", "map", "ipynb",
        "lock", "sum", "log", "csv", "tsv", "parquet",
    ];
    !NEVER.contains(&ext)
}

/// Which format a file is, from its name and content; `None` skips it.
pub fn classify(path: &Path, text: &str) -> Option<Format> {
    // Names are matched as text: a name with bytes that are not UTF-8
    // (`vsftpd\xff.conf`) is judged with U+FFFD in their place, never skipped.
    let lossy;
    let path = match path.to_str() {
        Some(_) => path,
        None => {
            lossy = std::path::PathBuf::from(path.to_string_lossy().into_owned());
            &lossy
        }
    };
    if !may_be_config(path) {
        return None;
    }
    if compose::sniff(path) {
        return Some(Format::Compose);
    }
    if terraform::sniff(path) {
        return Some(Format::Terraform);
    }
    if puppet::sniff(path) {
        return Some(Format::Puppet);
    }
    if kube::sniff(path, text) {
        return Some(Format::Kubernetes);
    }
    match ansible::sniff(path, text) {
        Some(ansible::Sniffed::Vars) => return Some(Format::AnsibleVars),
        Some(_) => return Some(Format::Ansible),
        None => {}
    }
    if puppet::hiera::sniff(path) {
        return Some(Format::Hiera);
    }
    if crate::platform::sniff(path) {
        return Some(Format::Platform);
    }
    if ufw::files::sniff_rules(path, text) {
        return Some(Format::UfwRules);
    }
    if ufw::files::settings_file(path) {
        return Some(Format::UfwSettings);
    }
    match firewalld::sniff(path) {
        Some(firewalld::Kind::Zone) => return Some(Format::FirewalldZone),
        Some(firewalld::Kind::Service) => return Some(Format::FirewalldService),
        Some(firewalld::Kind::Conf) => return Some(Format::FirewalldConf),
        None => {}
    }
    if proftpd::sniff(path) {
        return Some(Format::Proftpd);
    }
    if pureftpd::sniff(path).is_some() {
        return Some(Format::PureFtpd);
    }
    if nftables::sniff(path, text) {
        return Some(Format::Nftables);
    }
    if vsftpd::sniff(path, text) {
        return Some(Format::Vsftpd);
    }
    if iis_metabase::sniff(path, text) {
        return Some(Format::IisMetabase);
    }
    if iis_apphost::sniff(path, text) {
        return Some(Format::IisApplicationHost);
    }
    if filezilla::sniff(path, text) {
        return Some(Format::FileZilla);
    }
    if regfile::sniff(path, text) {
        return Some(Format::RegFile);
    }
    match winscript::sniff(path, text) {
        Some(winscript::ScriptKind::Batch) => return Some(Format::Batch),
        Some(winscript::ScriptKind::PowerShell) => return Some(Format::PowerShell),
        None => {}
    }
    iptables::sniff(path, text)
}

pub fn parse(source: SourceFile, format: Format) -> ParsedFile {
    let doc = match format {
        Format::Vsftpd => Document::Vsftpd(vsftpd::parse(&source)),
        Format::IptablesSave => Document::Iptables(iptables::parse_save(&source)),
        Format::ShellScript => Document::Iptables(iptables::parse_script(&source)),
        Format::IisMetabase => Document::IisMetabase(Box::new(iis_metabase::parse(&source))),
        Format::IisApplicationHost => {
            Document::IisApplicationHost(Box::new(iis_apphost::parse(&source)))
        }
        Format::RegFile => Document::RegFile(regfile::parse(&source)),
        Format::Batch => {
            Document::WindowsScript(winscript::parse(&source, winscript::ScriptKind::Batch))
        }
        Format::PowerShell => {
            Document::WindowsScript(winscript::parse(&source, winscript::ScriptKind::PowerShell))
        }
        Format::UfwRules => Document::Iptables(ufw::files::parse_rules(&source)),
        Format::UfwSettings => Document::UfwSettings(ufw::files::parse_settings(&source)),
        Format::FileZilla => Document::FileZilla(filezilla::parse(&source)),
        Format::Platform => Document::Platform(crate::platform::read(&source)),
        Format::FirewalldZone => Document::FirewalldZone(Box::new(firewalld::parse_zone(&source))),
        Format::FirewalldService => Document::FirewalldService(firewalld::parse_service(&source)),
        Format::FirewalldConf => Document::FirewalldConf(firewalld::parse_conf(&source)),
        Format::Proftpd => Document::Proftpd(proftpd::parse(&source)),
        Format::Nftables => Document::Nftables(nftables::parse(&source)),
        Format::Compose => Document::Compose(compose::parse(&source)),
        Format::Kubernetes => Document::Kubernetes(kube::parse(&source)),
        Format::Terraform => Document::Terraform(terraform::parse(&source)),
        Format::Ansible => {
            let sniffed = match ansible::sniff(&source.path, &source.text) {
                Some(ansible::Sniffed::Playbook) => ansible::Sniffed::Playbook,
                _ => ansible::Sniffed::Tasks,
            };
            Document::Ansible(ansible::parse(&source, sniffed))
        }
        Format::AnsibleVars => Document::Ansible(ansible::parse(&source, ansible::Sniffed::Vars)),
        Format::Puppet => Document::Puppet(puppet::parse(&source)),
        Format::Hiera => Document::Hiera(puppet::hiera::parse(&source)),
        Format::PureFtpd => {
            let layout = pureftpd::sniff(&source.path).unwrap_or(pureftpd::Layout::ConfFile);
            Document::PureFtpd(pureftpd::parse(&source, layout))
        }
    };
    ParsedFile {
        source,
        format,
        doc,
    }
}

pub fn facts(file: &ParsedFile) -> FileFacts {
    let servers = |ftp| FileFacts {
        ftp,
        ..FileFacts::default()
    };
    match &file.doc {
        Document::Vsftpd(config) => servers(vsftpd::facts(config, &file.source)),
        Document::Iptables(ruleset) => {
            let (firewall, firewall_v6) = iptables::facts(ruleset, &file.source);
            let containers = compose::started(&ruleset.containers, &file.source);
            let mut ftp = pureftpd::script_facts(&ruleset.pure_ftpd, &file.source);
            ftp.extend(containers.ftp);
            // The publishing is the last filter before the container; a script's
            // own rules, for every family, are in front of it.
            // Docker DNATs published ports before INPUT and forwards them: a
            // container's server sees only its publishing, never the script's
            // INPUT rules (as a compose file is not combined with them).
            let (firewall, firewall_v6) = match containers.firewall {
                Some(publish) => (Some(publish), None),
                None => (firewall, firewall_v6),
            };
            FileFacts {
                ftp,
                firewall,
                firewall_v6,
                restores: ruleset.restored.clone(),
                platform: if ruleset.format == Format::ShellScript {
                    crate::platform::script_clues(&file.source)
                } else {
                    Vec::new()
                },
                boot: Vec::new(),
                mounts: containers.mounts,
                container_layer: containers.container_layer,
                reads: Vec::new(),
                windows: None,
            }
        }
        Document::IisMetabase(metabase) => servers(iis_metabase::facts(metabase, &file.source)),
        Document::IisApplicationHost(apphost) => servers(iis_apphost::facts(apphost, &file.source)),
        Document::RegFile(reg) => regfile::facts(reg, &file.source),
        Document::WindowsScript(script) => winscript::facts(script, &file.source),
        // Read with the other files of its bundle.
        Document::UfwSettings(_) => FileFacts::default(),
        Document::FirewalldZone(_) | Document::FirewalldService(_) | Document::FirewalldConf(_) => {
            FileFacts::default()
        }
        Document::PureFtpd(config) => servers(pureftpd::facts(config, &file.source)),
        Document::FileZilla(settings) => servers(filezilla::facts(settings)),
        Document::Platform(clues) => FileFacts {
            platform: clues.clone(),
            mounts: dockerfile::started_copies(&file.source),
            ..FileFacts::default()
        },
        // Read with the files it includes.
        Document::Proftpd(_) => FileFacts::default(),
        Document::Compose(doc) => compose::facts(doc, &file.source),
        // Read with the other manifests of its folder tree.
        Document::Kubernetes(_) => FileFacts::default(),
        // Read with the other files of its module.
        Document::Terraform(_) => FileFacts::default(),
        // Read with the other files of its playbook or role.
        Document::Ansible(_) => FileFacts::default(),
        // Read with the other manifests of its control repository or module.
        Document::Puppet(_) | Document::Hiera(_) => FileFacts::default(),
        Document::Nftables(nft) => {
            let (firewall, firewall_v6) = nftables::facts(nft, &file.source, true);
            FileFacts {
                firewall,
                firewall_v6,
                ..FileFacts::default()
            }
        }
    }
}

/// Prose about configuration is not configuration: a `.md` page or a `notes.txt`
/// with a pasted `iptables-save` dump is never read as one. A `.txt` whose name
/// says what it holds (`iptables-rules.txt`, `vsftpd.conf.txt`) still is.
fn is_documentation(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    let ext = ext.to_ascii_lowercase();
    const PROSE: &[&str] = &[
        "md", "markdown", "rst", "adoc", "asciidoc", "org", "html", "htm", "textile",
    ];
    if PROSE.contains(&ext.as_str()) {
        return true;
    }
    if ext != "txt" {
        return false;
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    const NAMES: &[&str] = &[
        "iptables",
        "ip6tables",
        "rules",
        "vsftpd",
        "firewall",
        "netsh",
        "metabase",
        "applicationhost",
    ];
    !NAMES.iter().any(|n| stem.contains(n))
}

/// fail2ban's own INI files (`/etc/fail2ban/jail.conf`, `filter.d/vsftpd.conf`,
/// `action.d/nftables.conf`): named after the servers and firewalls they watch,
/// read by fail2ban alone, never by vsftpd, ProFTPD, Pure-FTPd or nft.
fn is_fail2ban_config(path: &Path) -> bool {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str()).collect();
    let Some(at) = parts.iter().rposition(|p| *p == "fail2ban") else {
        return false;
    };
    let conf = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("conf" | "local")
    );
    match &parts[at + 1..] {
        [_] => conf,
        [dir, _] => conf && dir.to_string_lossy().ends_with(".d"),
        _ => false,
    }
}

/// Content sniffing looks this far into a file.
const SNIFF_BYTES: usize = 1 << 20;

/// The first [`SNIFF_BYTES`] of `text`, cut on a character boundary.
pub(crate) fn head(text: &str) -> &str {
    let mut end = text.len().min(SNIFF_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cheap rejection for content sniffing: XML starts (after blanks and any
/// stray byte-order mark) with `<`.
pub(crate) fn looks_like_xml(text: &str) -> bool {
    text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .starts_with('<')
}

/// How a format writes comments, for inline suppressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentStyle {
    /// `#` only at byte 0 of a line (vsftpd, iptables-restore files).
    HashAtColumnZero,
    /// `#` on its own line or after code (shell, PowerShell).
    Hash,
    /// `<!-- ... -->`.
    Xml,
    /// `;` at the start of a line (.reg).
    Semicolon,
    /// `REM ...` or `:: ...` (batch).
    Batch,
}

impl CommentStyle {
    pub fn openers(&self) -> &'static [&'static str] {
        match self {
            CommentStyle::HashAtColumnZero | CommentStyle::Hash => &["#"],
            CommentStyle::Xml => &["<!--"],
            CommentStyle::Semicolon => &[";"],
            CommentStyle::Batch => &["rem", "@rem", "::"],
        }
    }

    /// The comment must start at byte 0 (vsftpd and iptables-restore reject indented `#`).
    pub fn full_line_at_column_zero(&self) -> bool {
        *self == CommentStyle::HashAtColumnZero
    }

    /// A comment may end a line of code.
    pub fn allows_trailing(&self) -> bool {
        matches!(self, CommentStyle::Hash | CommentStyle::Xml)
    }
}

impl Format {
    pub fn comment_style(&self) -> CommentStyle {
        match self {
            Format::Vsftpd | Format::IptablesSave | Format::UfwRules => {
                CommentStyle::HashAtColumnZero
            }
            Format::UfwSettings => CommentStyle::Hash,
            Format::ShellScript => CommentStyle::Hash,
            Format::IisMetabase | Format::IisApplicationHost => CommentStyle::Xml,
            Format::RegFile => CommentStyle::Semicolon,
            Format::Batch => CommentStyle::Batch,
            Format::PowerShell => CommentStyle::Hash,
            Format::PureFtpd => CommentStyle::HashAtColumnZero,
            Format::FileZilla => CommentStyle::Xml,
            Format::Platform => CommentStyle::Hash,
            Format::FirewalldZone | Format::FirewalldService => CommentStyle::Xml,
            Format::FirewalldConf => CommentStyle::Hash,
            Format::Proftpd => CommentStyle::Hash,
            Format::Nftables => CommentStyle::Hash,
            Format::Compose | Format::Kubernetes => CommentStyle::Hash,
            Format::Terraform => CommentStyle::Hash,
            Format::Ansible | Format::AnsibleVars => CommentStyle::Hash,
            Format::Puppet | Format::Hiera => CommentStyle::Hash,
        }
    }
}

/// Problems the Windows parsers found and phrased for the document rules
/// (each finding names its rule); empty for other formats.
pub fn windows_findings(file: &ParsedFile) -> Vec<winfw::Finding> {
    match &file.doc {
        Document::RegFile(reg) => regfile::findings(reg, &file.source.text),
        Document::WindowsScript(script) => winscript::findings(script, &file.source),
        _ => Vec::new(),
    }
}

/// Invalid IIS passive ranges set by Windows sources (.reg exports and
/// scripts), shaped for `rules::iis_passive_range_invalid::invalid_range`:
/// `for (v, verdict, spans) in windows_passive_range_verdicts(file) { out.extend(invalid_range(v, &verdict, &spans)) }`.
pub fn windows_passive_range_verdicts(
    file: &ParsedFile,
) -> Vec<(iis::IisVersion, iis::RangeVerdict, Vec<crate::source::Span>)> {
    windows_passive_range_problems(file)
        .into_iter()
        .map(|(version, span, why)| (version, iis::RangeVerdict::Invalid(why), vec![span]))
        .collect()
}

/// `PassivePortRange` (and IIS 7 data-channel) values IIS refuses, from the
/// Windows sources (.reg exports and scripts), for `iis-passive-range-invalid`.
pub fn windows_passive_range_problems(
    file: &ParsedFile,
) -> Vec<(iis::IisVersion, crate::source::Span, String)> {
    match &file.doc {
        Document::RegFile(reg) => regfile::passive_range_problems(reg)
            .into_iter()
            .map(|(span, why)| (iis::IisVersion::Iis6, span, why))
            .collect(),
        Document::WindowsScript(script) => winscript::passive_range_problems(script),
        _ => Vec::new(),
    }
}

/// The IPsec policies a Windows script leaves behind; `None` for other files
/// and for scripts that touch no IPsec policy.
pub fn ipsec_store(file: &ParsedFile) -> Option<ipsec::IpsecStore> {
    match &file.doc {
        Document::WindowsScript(script) if !script.effects.ipsec.is_empty() => {
            Some(ipsec::IpsecStore::from_changes(&script.effects.ipsec))
        }
        _ => None,
    }
}

/// A container of a file with an image: a compose service, or a container of
/// a Kubernetes workload.
pub struct ImageContainer<'a> {
    pub image: &'a str,
    pub image_span: crate::source::Span,
    pub env: &'a [compose::EnvVar],
}

/// The containers of a compose file or a manifest that name an image.
pub fn image_containers(doc: &Document) -> Vec<ImageContainer<'_>> {
    fn of<'a>(
        image: &'a Option<(String, crate::source::Span)>,
        env: &'a [compose::EnvVar],
    ) -> Option<ImageContainer<'a>> {
        let (image, image_span) = image.as_ref()?;
        Some(ImageContainer {
            image,
            image_span: *image_span,
            env,
        })
    }
    match doc {
        Document::Compose(doc) => doc
            .services
            .iter()
            .filter_map(|s| of(&s.image, &s.env))
            .collect(),
        Document::Kubernetes(m) => m
            .objects
            .iter()
            .filter_map(|o| match o {
                kube::Object::Workload(w) => Some(&w.containers),
                _ => None,
            })
            .flatten()
            .filter_map(|c| of(&c.image, &c.env))
            .collect(),
        _ => Vec::new(),
    }
}

/// What a script's interpreter left besides commands (the files it writes, the
/// budget hits); `None` for files that are not scripts.
pub fn script_outcome(file: &ParsedFile) -> Option<&crate::scripts::Outcome> {
    match &file.doc {
        Document::Iptables(rs) if rs.format == Format::ShellScript => Some(&rs.outcome),
        Document::WindowsScript(script) => Some(&script.outcome),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 21 -j ACCEPT\nCOMMIT\n";

    #[test]
    fn prose_with_a_pasted_dump_is_not_configuration() {
        let note = format!("We fixed the firewall; the dump was:\n{DUMP}");
        for name in ["notes.txt", "README.md", "runbook.html", "howto.rst"] {
            assert_eq!(classify(Path::new(name), &note), None, "{name}");
        }
    }

    #[test]
    fn fail2ban_files_named_after_servers_are_not_theirs() {
        for name in [
            "etc/fail2ban/filter.d/vsftpd.conf",
            "etc/fail2ban/filter.d/proftpd.conf",
            "etc/fail2ban/filter.d/pure-ftpd.conf",
            "etc/fail2ban/action.d/nftables.conf",
            "etc/fail2ban/jail.local",
            "roles/f2b/files/fail2ban/jail.d/vsftpd.local",
        ] {
            assert!(!may_be_config(Path::new(name)), "{name}");
        }
        // A folder of that name that holds a server's own file is still read.
        assert!(may_be_config(Path::new("fail2ban/files/etc/vsftpd.conf")));
        assert!(may_be_config(Path::new("hosts/fail2ban/etc/vsftpd.conf")));
    }

    #[test]
    fn a_shell_script_feeding_iptables_restore_is_a_script() {
        let script = format!("#!/bin/sh\nPASV=40000:40100\niptables-restore <<EOF\n{DUMP}EOF\n");
        assert_eq!(
            classify(Path::new("etc/firewall"), &script),
            Some(Format::ShellScript)
        );
        let unmarked = format!("iptables-restore <<EOF\n{DUMP}EOF\n");
        assert_eq!(
            classify(Path::new("firewall.sh"), &unmarked),
            Some(Format::ShellScript)
        );
        // The boot path is a dump whatever it holds: the load fails on the `#!`.
        assert_eq!(
            classify(Path::new("etc/iptables/rules.v4"), &script),
            Some(Format::IptablesSave)
        );
    }

    #[test]
    fn a_txt_named_for_what_it_holds_is_read() {
        assert_eq!(
            classify(Path::new("iptables-rules.txt"), DUMP),
            Some(Format::IptablesSave)
        );
        assert_eq!(
            classify(Path::new("rules.v4"), DUMP),
            Some(Format::IptablesSave)
        );
    }
}
