//! pasvlint's fixes in a real editor: Neovim's own LSP client
//! (`tests/data/nvim_apply_fix.lua`) starts `pasvlint lsp`, takes the code action a
//! finding offers and applies it with Neovim's workspace-edit code, then writes
//! the buffers. The test reads what Neovim wrote to disk. Skipped with a printed
//! reason when `nvim` is missing, unless `CI=true`.

mod support {
    #![allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::requirements::ready;

const NVIM: &str = "/usr/bin/nvim";

/// Runs the session on `file` of `root`; `Err` with Neovim's log when it failed.
fn apply_in_neovim(root: &Path, file: &Path, rule: &str, title: &str) -> Result<String, String> {
    let state = tempfile::tempdir().unwrap();
    let log = state.path().join("session.log");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nvim_apply_fix.lua");
    let mut child = Command::new(NVIM)
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .current_dir(root)
        .env("PASVLINT", env!("CARGO_BIN_EXE_pasvlint"))
        .env("ROOT", root)
        .env("FILE", file)
        .env("RULE", rule)
        .env("TITLE", title)
        .env("OUT", &log)
        .env("XDG_CACHE_HOME", state.path())
        .env("XDG_STATE_HOME", state.path())
        .env("XDG_DATA_HOME", state.path())
        .env("XDG_CONFIG_HOME", state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nvim");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(said),
        Some(s) => Err(format!("nvim exited with {s}:\n{said}")),
        None => Err(format!("nvim still ran after 300 s:\n{said}")),
    }
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
}

/// The quick fix for a directive in the wrong case, taken in Neovim, leaves the
/// rest of the file as it was.
#[test]
fn neovim_applies_a_quick_fix() {
    if !ready("neovim_applies_a_quick_fix", &[NVIM], &[]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        &[(
            "etc/vsftpd.conf",
            "Listen=YES\npasv_min_port=9981\npasv_max_port=9990\nmax_clients=2\n",
        )],
    );
    let conf = root.join("etc/vsftpd.conf");
    let said = apply_in_neovim(&root, &conf, "vsftpd-unknown-directive", "rename to listen")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "listen=YES\npasv_min_port=9981\npasv_max_port=9990\nmax_clients=2\n",
        "{said}"
    );
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// A cross-file finding's fix in a UTF-16 `.reg` export, taken in Neovim: the
/// positions pasvlint sends (UTF-16 units of the decoded text) land on the
/// digits, and Neovim writes the file back as it read it, BOM and CRLF included.
#[test]
fn neovim_moves_an_iis_range_in_a_utf16_registry_export() {
    if !ready(
        "neovim_moves_an_iis_range_in_a_utf16_registry_export",
        &[NVIM],
        &[],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let reg = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n\"PassivePortRange\"=\"40000-40100\"\r\n\r\n";
    write(
        &root,
        &[(
            "firewall.cmd",
            "netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound\r\nnetsh advfirewall firewall add rule name=\"FTP\" dir=in action=allow protocol=TCP localport=21 profile=any\r\nnetsh advfirewall firewall add rule name=\"FTP passive\" dir=in action=allow protocol=TCP localport=40000-40050 profile=any\r\n",
        )],
    );
    let export = root.join("exports/msftpsvc.reg");
    std::fs::create_dir_all(export.parent().unwrap()).unwrap();
    std::fs::write(&export, utf16le_with_bom(reg)).unwrap();
    let said = apply_in_neovim(
        &root,
        &export,
        "passive-ports-blocked",
        "hand out only the open ports",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        std::fs::read(&export).unwrap() == utf16le_with_bom(&reg.replace("40100", "40050")),
        "{said}\n{:?}",
        String::from_utf8_lossy(&std::fs::read(&export).unwrap())
    );
}

/// A cross-file fix taken in Neovim: the finding is on the vsftpd config the
/// editor has open, the fix that widens the firewall rule edits `rules.v4`,
/// which Neovim opens, edits and writes from the same workspace edit.
#[test]
fn neovim_takes_a_fix_that_edits_the_other_file_of_the_host() {
    if !ready(
        "neovim_takes_a_fix_that_edits_the_other_file_of_the_host",
        &[NVIM],
        &[],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let dump = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -p tcp --dport 21 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 49152:49180 -j ACCEPT\nCOMMIT\n";
    let conf = "listen=YES\npasv_min_port=49152\npasv_max_port=49200\nmax_clients=20\n";
    write(
        &root,
        &[("etc/vsftpd.conf", conf), ("etc/iptables/rules.v4", dump)],
    );
    let said = apply_in_neovim(
        &root,
        &root.join("etc/vsftpd.conf"),
        "passive-ports-blocked",
        "in the firewall rule",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read_to_string(root.join("etc/iptables/rules.v4")).unwrap(),
        dump.replace("--dport 49152:49180", "--dport 49152:49200"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/vsftpd.conf")).unwrap(),
        conf,
        "{said}"
    );
}
