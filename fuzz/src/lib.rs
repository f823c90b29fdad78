//! Fuzz targets for pasvlint: one per parser and script interpreter, and one for
//! the whole `lint` over a small host tree built from the input bytes.
//!
//! Each target takes the bytes of one file and does with them what `pasvlint check`
//! does in its per-file stage: decode them (BOM, UTF-16, Windows-1252), parse them as
//! the target's format, run every file rule, scan for inline suppressions, extract
//! the facts (for formats read in bundles: assemble the bundle, run the bundle rules
//! and take its facts). Limits are the CLI's own: a file over
//! [`pasvlint::limits::MAX_FILE_BYTES`] is not read, and every interpreter keeps
//! its built-in step, depth and length budgets.
//!
//! This file is also compiled into the main crate's `tests/fuzz_regressions.rs`
//! (through `#[path]`), so a kept input is replayed through the very function the
//! fuzzer ran. It uses only pasvlint's public API.

use pasvlint::formats::{self, Format};
use pasvlint::policy::Config;
use pasvlint::rules;
use pasvlint::source::{FileId, SourceFile};
use std::path::PathBuf;

/// Files of a target live under this folder, which does not exist: nothing a
/// parser reads beside its file (compose's `.env`, an `Include`) comes from the
/// machine running the fuzzer.
pub const ROOT: &str = "/nonexistent-pasvlint-fuzz";

/// A target: its name (the binary's and the corpus folder's) and what it runs.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    Target {
        name: "vsftpd",
        run: vsftpd,
    },
    Target {
        name: "proftpd",
        run: proftpd,
    },
    Target {
        name: "pureftpd",
        run: pureftpd,
    },
    Target {
        name: "filezilla",
        run: filezilla,
    },
    Target {
        name: "iis-metabase",
        run: iis_metabase,
    },
    Target {
        name: "iis-apphost",
        run: iis_apphost,
    },
    Target {
        name: "regfile",
        run: regfile,
    },
    Target {
        name: "iptables-save",
        run: iptables_save,
    },
    Target {
        name: "nftables",
        run: nftables,
    },
    Target {
        name: "firewalld",
        run: firewalld,
    },
    Target {
        name: "ufw",
        run: ufw,
    },
    Target {
        name: "powershell",
        run: powershell,
    },
    Target {
        name: "sh",
        run: sh,
    },
    Target {
        name: "cmd",
        run: cmd,
    },
    Target {
        name: "compose",
        run: compose,
    },
    Target {
        name: "kube",
        run: kube,
    },
    Target {
        name: "puppet",
        run: puppet,
    },
    Target {
        name: "lint",
        run: lint,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

pub fn vsftpd(data: &[u8]) {
    file("etc/vsftpd.conf", Format::Vsftpd, data);
}

pub fn proftpd(data: &[u8]) {
    file("etc/proftpd/proftpd.conf", Format::Proftpd, data);
}

/// `pure-ftpd.conf`, and the same bytes as one of Debian's `conf/<Option>` files.
pub fn pureftpd(data: &[u8]) {
    file("etc/pure-ftpd/pure-ftpd.conf", Format::PureFtpd, data);
    file(
        "etc/pure-ftpd/conf/PassivePortRange",
        Format::PureFtpd,
        data,
    );
}

/// 0.9's `FileZilla Server.xml` and 1.x's `settings.xml` (the parser tells them apart).
pub fn filezilla(data: &[u8]) {
    file("FileZilla Server.xml", Format::FileZilla, data);
}

pub fn iis_metabase(data: &[u8]) {
    file(
        "windows/system32/inetsrv/MetaBase.xml",
        Format::IisMetabase,
        data,
    );
}

pub fn iis_apphost(data: &[u8]) {
    file(
        "windows/system32/inetsrv/config/applicationHost.config",
        Format::IisApplicationHost,
        data,
    );
}

/// A `.reg` export: the bytes go through the decoder (UTF-16LE/BE, BOM, ANSI).
pub fn regfile(data: &[u8]) {
    file("ftp.reg", Format::RegFile, data);
}

/// An `iptables-save` dump, loaded as IPv4 (`rules.v4`) and as IPv6 (`rules.v6`).
pub fn iptables_save(data: &[u8]) {
    file("etc/iptables/rules.v4", Format::IptablesSave, data);
    file("etc/iptables/rules.v6", Format::IptablesSave, data);
}

pub fn nftables(data: &[u8]) {
    file("etc/nftables.conf", Format::Nftables, data);
}

/// A zone, a service and `firewalld.conf`.
pub fn firewalld(data: &[u8]) {
    file(
        "etc/firewalld/zones/public.xml",
        Format::FirewalldZone,
        data,
    );
    file(
        "etc/firewalld/services/ftp.xml",
        Format::FirewalldService,
        data,
    );
    file("etc/firewalld/firewalld.conf", Format::FirewalldConf, data);
}

/// ufw's `user.rules` (an iptables-restore file with ufw's tuples) and its settings.
pub fn ufw(data: &[u8]) {
    file("etc/ufw/user.rules", Format::UfwRules, data);
    file("etc/default/ufw", Format::UfwSettings, data);
}

/// A Puppet manifest: lexer, parser, catalog walk, firewall lowering.
pub fn puppet(data: &[u8]) {
    file("modules/ftp/manifests/init.pp", Format::Puppet, data);
}

/// A PowerShell script: `New-NetFirewallRule`, `Set-WebConfigurationProperty`, `netsh`.
pub fn powershell(data: &[u8]) {
    file("setup/firewall.ps1", Format::PowerShell, data);
}

/// A shell script run by the sh interpreter (iptables, ufw, firewall-cmd, writes).
pub fn sh(data: &[u8]) {
    file("setup/firewall.sh", Format::ShellScript, data);
}

/// A batch file run by the cmd interpreter (`netsh`, `adsutil`, `appcmd`, `FOR /L`).
pub fn cmd(data: &[u8]) {
    file("setup/firewall.cmd", Format::Batch, data);
}

pub fn compose(data: &[u8]) {
    file("app/compose.yaml", Format::Compose, data);
}

/// A Dockerfile as `build:` reads it, for the final stage and a named one.
pub fn dockerfile(data: &[u8]) {
    let (text, _) = pasvlint::source::decode(data.to_vec());
    let _ = formats::dockerfile::parse(&text, None);
    let _ = formats::dockerfile::parse(&text, Some("build"));
}

/// A Kubernetes manifest (the YAML reader and the cluster model).
pub fn kube(data: &[u8]) {
    file("k8s/ftp.yaml", Format::Kubernetes, data);
}

/// What `pasvlint check` does with one file of `format` at `path` under [`ROOT`].
pub fn file(path: &str, format: Format, data: &[u8]) {
    if data.len() as u64 > pasvlint::limits::MAX_FILE_BYTES {
        return;
    }
    let path = PathBuf::from(ROOT).join(path);
    let parsed = formats::parse(SourceFile::new(FileId(0), path, data), format);
    let mut out = Vec::new();
    for r in rules::registry() {
        r.rule.check_file(&parsed, &mut out);
    }
    std::hint::black_box(pasvlint::suppress::scan(
        &parsed.source,
        format.comment_style(),
    ));
    if format.bundle_family().is_some() {
        for bundle in formats::bundles::assemble(vec![parsed]) {
            for r in rules::registry() {
                r.rule.check_bundle(&bundle, &mut out);
            }
            std::hint::black_box(formats::bundles::facts(&bundle));
        }
    } else {
        std::hint::black_box(formats::facts(&parsed));
    }
    std::hint::black_box(out);
}

/// Where each file of a [`lint`] tree goes: two hosts (`a/`, `b/`) with every
/// format, and files above them that pair with both.
pub const TREE: &[&str] = &[
    "a/etc/vsftpd.conf",
    "a/etc/iptables/rules.v4",
    "a/etc/iptables/rules.v6",
    "a/setup.sh",
    "a/etc/nftables.conf",
    "a/etc/ufw/user.rules",
    "a/etc/ufw/ufw.conf",
    "a/etc/default/ufw",
    "a/etc/firewalld/zones/public.xml",
    "a/etc/firewalld/services/ftp.xml",
    "a/etc/firewalld/firewalld.conf",
    "a/etc/proftpd/proftpd.conf",
    "a/etc/proftpd/conf.d/passive.conf",
    "a/etc/pure-ftpd/pure-ftpd.conf",
    "a/etc/pure-ftpd/conf/PassivePortRange",
    "a/etc/os-release",
    "a/Dockerfile",
    "a/compose.yaml",
    "a/k8s/ftp.yaml",
    "b/FileZilla Server.xml",
    "b/settings.xml",
    "b/inetsrv/MetaBase.xml",
    "b/inetsrv/config/applicationHost.config",
    "b/ftp.reg",
    "b/firewall.cmd",
    "b/firewall.ps1",
    "b/etc/vsftpd.conf",
    "firewall.sh",
    "pasvlint.toml",
];

/// Split the input into the files of a tree: chunks separated by two NUL bytes,
/// each chunk's first byte picking its path in [`TREE`] (modulo), the rest its bytes.
/// A later chunk for the same path replaces an earlier one.
pub fn tree(data: &[u8]) -> Vec<(&'static str, &[u8])> {
    let mut files: Vec<(&'static str, &[u8])> = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let end = find(rest, b"\0\0").unwrap_or(rest.len());
        let (chunk, next) = rest.split_at(end);
        rest = next.get(2..).unwrap_or(&[]);
        let Some((&pick, body)) = chunk.split_first() else {
            continue;
        };
        let path = TREE[pick as usize % TREE.len()];
        files.retain(|(p, _)| *p != path);
        files.push((path, body));
    }
    files
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The whole `lint` over the tree [`tree`] builds (read from memory, as the
/// editor's unsaved buffers are), with its `pasvlint.toml` when it has a valid one,
/// then every report format rendered.
pub fn lint(data: &[u8]) {
    let root = PathBuf::from(ROOT);
    let mut overlay = pasvlint::Overlay::new();
    let mut config = Config::default();
    for (path, bytes) in tree(data) {
        let (text, _) = pasvlint::source::decode(bytes.to_vec());
        let path = root.join(path);
        if path.ends_with("pasvlint.toml") {
            if let Ok(parsed) = Config::parse(&text, &path) {
                config = parsed;
            }
            continue;
        }
        overlay.insert(path, text);
    }
    let report = pasvlint::lint_with(&[root], &config, &overlay);
    let options = pasvlint::emit::RenderOptions {
        color: false,
        width: 100,
        rules: rules::catalog(),
        srcroot: None,
    };
    for format in pasvlint::emit::ReportFormat::ALL {
        std::hint::black_box(pasvlint::emit::render(format, &report, &options));
    }
    std::hint::black_box(pasvlint::emit::facts::render_json(&report));
}

/// The stack a file is parsed on in `pasvlint check`: a rayon worker's (Rust's
/// default for spawned threads, 2 MiB), not the main thread's 8 MiB.
pub const WORKER_STACK: usize = 2 << 20;

/// Run `f` on a thread with [`WORKER_STACK`], so a recursion that would overflow
/// in `pasvlint check` overflows here too. A panic in `f` is resumed here.
pub fn on_worker_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, f)
            .expect("spawn a worker thread");
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    });
}
