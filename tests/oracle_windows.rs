//! Windows oracles run through Wine: every `.reg` fixture is imported with
//! `reg import` and its keys exported back, and must hold exactly the values
//! (types and data) pasvlint's parser says the import leaves; every batch
//! fixture is run by Wine's `cmd` with `netsh`/`cscript`/`appcmd` turned into
//! `echo`, and the commands it prints (loops expanded by cmd itself) must
//! give the same port sets and IIS settings as pasvlint's symbolic expansion.
//!
//! Skipped with a printed reason when `wine` is missing, unless `CI=true`.
//! One throw-away WINEPREFIX serves the whole run; each side is one Wine
//! process running a generated script, to stay well under a minute.

mod support;

use pasvlint::formats::ipsec::{IpsecChange, Ports};
use pasvlint::formats::regfile::{self, StoredValue, Version};
use pasvlint::formats::winfw::{Change, LocalPorts};
use pasvlint::formats::winscript::{self, ScriptKind};
use pasvlint::portset::PortSet;
use pasvlint::source::{FileId, SourceFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::crate_dir;

fn find_wine() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("wine"))
        .find(|p| p.is_file())
}

fn files_with_ext(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_with_ext(&p, exts, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
        {
            out.push(p);
        }
    }
}

/// A Unix path as Wine's `Z:` drive shows it.
fn win_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

struct Wine {
    exe: PathBuf,
    prefix: tempfile::TempDir,
}

impl Wine {
    fn cmd(&self, script: &Path) -> String {
        let out = Command::new(&self.exe)
            .args(["cmd", "/c", &win_path(script)])
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .output()
            .expect("wine runs");
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let server = self.exe.with_file_name("wineserver");
        let _ = Command::new(if server.is_file() {
            server.as_os_str()
        } else {
            "wineserver".as_ref()
        })
        .arg("-k")
        .env("WINEPREFIX", self.prefix.path())
        .status();
    }
}

#[test]
fn reg_parser_and_batch_expander_agree_with_wine() {
    let Some(exe) = find_wine() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "wine is not installed (apt-get install wine64)"
        );
        eprintln!(
            "skipping the Wine oracle: `wine` is not on PATH (Debian: apt-get install wine64)"
        );
        return;
    };
    let wine = Wine {
        exe,
        prefix: tempfile::Builder::new()
            .prefix("pasvlint-wine")
            .tempdir()
            .expect("tempdir"),
    };
    let work = tempfile::Builder::new()
        .prefix("pasvlint-oracle")
        .tempdir()
        .expect("tempdir");
    let mut failures = Vec::new();
    let (reg_files, reg_values) = check_reg_files(&wine, work.path(), &mut failures);
    let (bat_files, bat_ports) = check_batch_files(&wine, work.path(), &mut failures);
    eprintln!(
        "Wine oracle: {reg_files} .reg files ({reg_values} values) and {bat_files} batch files ({bat_ports} with ports) compared"
    );
    assert!(reg_values > 10 && bat_ports > 5, "too little compared");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn read_source(path: &Path) -> SourceFile {
    SourceFile::new(
        FileId(0),
        path,
        &std::fs::read(path).expect("fixture readable"),
    )
}

/// (normalised key, lower-case name) → (type, bytes).
type Values = BTreeMap<(String, String), (u32, Vec<u8>)>;

fn by_key(values: &[StoredValue], keys: &[String]) -> Values {
    values
        .iter()
        .filter(|v| keys.contains(&v.key))
        .map(|v| {
            let name = v.name.clone().unwrap_or_default().to_ascii_lowercase();
            ((v.key.clone(), name), (v.ty, v.bytes.clone()))
        })
        .collect()
}

fn check_reg_files(wine: &Wine, work: &Path, failures: &mut Vec<String>) -> (usize, usize) {
    let mut files = Vec::new();
    files_with_ext(&crate_dir().join("fixtures"), &["reg"], &mut files);
    let mut script = String::from("@echo off\r\n");
    let mut plans = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let source = read_source(path);
        let parsed = regfile::parse(&source);
        let mut written: Vec<(String, String)> = Vec::new();
        for k in parsed.keys().filter(|k| k.opened && !k.deleted) {
            let norm = regfile::normalize_key(&k.path);
            if !written.iter().any(|(n, _)| *n == norm) {
                written.push((norm, k.path.clone()));
            }
        }
        for (_, key) in &written {
            script.push_str(&format!("reg delete \"{key}\" /f >nul 2>&1\r\n"));
        }
        script.push_str(&format!(
            "reg import \"{}\" >nul 2>&1\r\necho RC {i} %errorlevel%\r\n",
            win_path(path)
        ));
        for (j, (_, key)) in written.iter().enumerate() {
            let out = work.join(format!("export-{i}-{j}.reg"));
            script.push_str(&format!(
                "reg export \"{key}\" \"{}\" /y >nul 2>&1\r\n",
                win_path(&out)
            ));
        }
        plans.push((path.clone(), parsed, written));
    }
    let script_path = work.join("reg-oracle.cmd");
    std::fs::write(&script_path, script).expect("write script");
    let output = wine.cmd(&script_path);
    let mut compared = 0;
    for (i, (path, parsed, written)) in plans.iter().enumerate() {
        let rel = path
            .strip_prefix(crate_dir())
            .unwrap_or(path)
            .display()
            .to_string();
        let rc = output
            .lines()
            .find_map(|l| l.strip_prefix(&format!("RC {i} ")))
            .map(str::trim)
            .unwrap_or("?");
        let expect_rc = if parsed.version == Some(Version::Invalid) {
            "1"
        } else {
            "0"
        };
        if rc != expect_rc {
            failures.push(format!(
                "{rel}: reg import exit {rc}, pasvlint expects {expect_rc}"
            ));
        }
        let keys: Vec<String> = written.iter().map(|(n, _)| n.clone()).collect();
        let ours = by_key(&regfile::stored_values(parsed), &keys);
        let mut theirs = Values::new();
        for j in 0..written.len() {
            let out = work.join(format!("export-{i}-{j}.reg"));
            if !out.exists() {
                continue;
            }
            let exported = regfile::parse(&read_source(&out));
            theirs.extend(by_key(&regfile::stored_values(&exported), &keys));
        }
        compared += theirs.len();
        if ours != theirs {
            failures.push(format!(
                "{rel}: values differ\n  pasvlint: {}\n  wine:     {}",
                show(&ours),
                show(&theirs)
            ));
        }
    }
    (plans.len(), compared)
}

fn show(values: &Values) -> String {
    values
        .iter()
        .map(|((_, name), (ty, bytes))| {
            format!(
                "{name}:{ty}:{}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const ECHOED: &[(&str, &str)] = &[
    ("netsh", "NETSH"),
    ("cscript", "CSCRIPT"),
    ("appcmd", "APPCMD"),
    ("ipseccmd", "IPSECCMD"),
    ("ipsecpol", "IPSECPOL"),
];

/// `netsh` → `echo NETSH` (also `netsh.exe`), whole words, any case.
fn echo_copy(text: &str) -> String {
    let mut out = String::new();
    let lower = text.to_ascii_lowercase();
    let mut i = 0;
    'outer: while i < text.len() {
        for (word, upper) in ECHOED {
            let boundary_before = i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphanumeric();
            if boundary_before && lower[i..].starts_with(word) {
                let mut end = i + word.len();
                if lower[end..].starts_with(".exe") {
                    end += 4;
                }
                let boundary_after = lower
                    .as_bytes()
                    .get(end)
                    .is_none_or(|b| !b.is_ascii_alphanumeric());
                if boundary_after {
                    out.push_str(&format!("echo {upper}"));
                    i = end;
                    continue 'outer;
                }
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// What a script does, without spans: opened port sets, IIS settings and
/// the ports of its IPsec filters.
fn summary(text: &str, path: &Path) -> (PortSet, Vec<String>, PortSet) {
    let source = SourceFile::new(FileId(0), path, text.as_bytes());
    let script = winscript::parse(&source, ScriptKind::Batch);
    let ports = script
        .effects
        .firewall
        .iter()
        .fold(PortSet::empty(), |acc, c| match c {
            Change::Add(rule) => match &rule.local_ports {
                LocalPorts::Set(p) => acc.union(p),
                _ => acc,
            },
            _ => acc,
        });
    let iis = script
        .effects
        .iis
        .iter()
        .map(|s| match s {
            winscript::IisSetting::PassivePortRange { value, .. } => {
                format!("PassivePortRange={value}")
            }
            other => format!("{:?}", std::mem::discriminant(other)),
        })
        .collect();
    let ipsec = script
        .effects
        .ipsec
        .iter()
        .flat_map(|c| match c {
            IpsecChange::AddFilter { filter, .. } => vec![filter],
            IpsecChange::CmdRule(rule) => rule.filters.iter().collect(),
            _ => Vec::new(),
        })
        .flat_map(|f| [&f.src_ports, &f.dst_ports])
        .fold(PortSet::empty(), |acc, p| match p {
            Ports::Set(s) => acc.union(s),
            Ports::Any => acc,
        });
    (ports, iis, ipsec)
}

fn check_batch_files(wine: &Wine, work: &Path, failures: &mut Vec<String>) -> (usize, usize) {
    let mut files = Vec::new();
    files_with_ext(&crate_dir().join("fixtures"), &["cmd", "bat"], &mut files);
    let mut master = String::from("@echo off\r\n");
    for (i, path) in files.iter().enumerate() {
        let text = read_source(path).text;
        let copy = work.join(format!("echo-{i}.cmd"));
        std::fs::write(&copy, echo_copy(&text)).expect("write copy");
        master.push_str(&format!(
            "echo ==={i}===\r\ncall \"{}\"\r\n@echo off\r\n",
            win_path(&copy)
        ));
    }
    master.push_str(&format!("echo ==={}===\r\n", files.len()));
    let master_path = work.join("batch-oracle.cmd");
    std::fs::write(&master_path, master).expect("write master");
    let output = wine.cmd(&master_path);
    let mut with_ports = 0;
    for (i, path) in files.iter().enumerate() {
        let rel = path
            .strip_prefix(crate_dir())
            .unwrap_or(path)
            .display()
            .to_string();
        let start = format!("==={i}===");
        let end = format!("==={}===", i + 1);
        let printed: Vec<&str> = output
            .lines()
            .skip_while(|l| l.trim() != start)
            .skip(1)
            .take_while(|l| l.trim() != end)
            .collect();
        let replayed: String = printed
            .iter()
            .filter_map(|l| {
                ECHOED.iter().find_map(|(word, upper)| {
                    l.trim_start()
                        .strip_prefix(upper)
                        .map(|rest| format!("{word}{rest}\r\n"))
                })
            })
            .collect::<String>()
            .replace('%', "%%");
        let ours = summary(&read_source(path).text, path);
        let real = summary(&replayed, path);
        with_ports += usize::from(!real.0.is_empty() || !real.2.is_empty());
        if ours != real {
            failures.push(format!(
                "{rel}: pasvlint's expansion differs from cmd's\n  pasvlint: {:?}\n  cmd:      {:?}\n  printed:\n{}",
                ours,
                real,
                printed.join("\n")
            ));
        }
    }
    (files.len(), with_ports)
}
