//! No input makes pasvlint panic: every fixture file, mutated many ways
//! (truncation, byte flips, stray bytes, CRLF, UTF-16, duplication), is linted.
//! Deterministic: the same mutations every run.

mod support;

use std::path::{Path, PathBuf};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn fixture_files() -> Vec<PathBuf> {
    walkdir::WalkDir::new(support::crate_dir().join("fixtures"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| !p.extension().is_some_and(|e| e == "snap" || e == "md"))
        .collect()
}

fn mutations(bytes: &[u8], rng: &mut Lcg) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let len = bytes.len().max(1);
    out.push(bytes[..rng.next() % len].to_vec());
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + rng.next() % 8 {
            if !b.is_empty() {
                let i = rng.next() % b.len();
                b[i] = (rng.next() % 256) as u8;
            }
        }
        out.push(b);
    }
    let special: &[&[u8]] = &[
        b"\0",
        b"\r",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"=",
        b"#",
        b":",
        b"\\",
        b"-",
        b"\"",
        b"%",
        b"<",
        b"\n\n",
        b"999999999999999999999",
    ];
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        let at = rng.next() % (b.len() + 1);
        let ins = special[rng.next() % special.len()];
        b.splice(at..at, ins.iter().copied());
        out.push(b);
    }
    out.push(
        bytes
            .iter()
            .flat_map(|&c| {
                if c == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![c]
                }
            })
            .collect(),
    );
    let text = String::from_utf8_lossy(bytes);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out.push(utf16);
    out.push(bytes.repeat(3));
    let lines: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
    let mut shuffled = lines.clone();
    shuffled.reverse();
    out.push(shuffled.join(&b'\n'));
    out
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(42);
    let mut n = 0;
    for file in fixture_files() {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let name = file.file_name().unwrap().to_owned();
        for m in mutations(&bytes, &mut rng) {
            let case = dir.path().join(format!("case{n}"));
            std::fs::create_dir_all(&case).unwrap();
            std::fs::write(case.join(&name), m).unwrap();
            n += 1;
        }
    }
    assert!(n > 100, "only {n} mutated inputs");
    let all = std::panic::catch_unwind(|| support::lint_path(dir.path()));
    if all.is_ok() {
        return;
    }
    let culprits: Vec<String> = support::subdirs(dir.path())
        .into_iter()
        .filter(|case| std::panic::catch_unwind(|| support::lint_path(case)).is_err())
        .map(|case| keep(&case))
        .collect();
    panic!("pasvlint panicked on:\n{}", culprits.join("\n"));
}

/// Copy a crashing input where it survives the test, for a regression fixture.
fn keep(case: &Path) -> String {
    let dest = std::env::temp_dir().join(format!(
        "pasvlint-crash-{}",
        case.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::create_dir_all(&dest);
    for e in std::fs::read_dir(case).unwrap().flatten() {
        let _ = std::fs::copy(e.path(), dest.join(e.file_name()));
    }
    dest.display().to_string()
}

/// Inputs built to blow up a parser or evaluator: deep nesting, long repetition,
/// very long lines. Each must be linted, without a panic, within [`LIMIT`].
fn structural_cases() -> Vec<(&'static str, &'static str, String)> {
    let chains: String = {
        let n = 3000;
        let mut s = String::from("*filter\n:INPUT DROP [0:0]\n");
        for i in 0..n {
            s.push_str(&format!(":C{i} - [0:0]\n"));
        }
        s.push_str("-A INPUT -j C0\n");
        for i in 0..n - 1 {
            s.push_str(&format!("-A C{i} -j C{}\n", i + 1));
        }
        s.push_str(&format!(
            "-A C{} -p tcp --dport 21 -j ACCEPT\nCOMMIT\n",
            n - 1
        ));
        s
    };
    let long_rule = format!(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT{} -j ACCEPT\nCOMMIT\n",
        " -p tcp".repeat(150_000)
    );
    let nested_xml = format!(
        "<configuration><system.ftpServer>{}{}</system.ftpServer></configuration>",
        "<a>".repeat(50_000),
        "</a>".repeat(50_000)
    );
    vec![
        ("vsftpd-repeated", "vsftpd.conf", "pasv_min_port=40000\n".repeat(200_000)),
        ("iptables-chain-of-chains", "rules.v4", chains),
        ("iptables-one-long-rule", "rules.v4", long_rule),
        (
            "iptables-many-rules",
            "rules.v4",
            format!(
                "*filter\n:INPUT DROP [0:0]\n{}COMMIT\n",
                "-A INPUT -s 198.51.100.7/32 -p tcp -m multiport --dports 21,40000:40100 -j ACCEPT\n"
                    .repeat(100_000)
            ),
        ),
        ("xml-deep", "applicationHost.config", nested_xml),
        (
            "shell-nested-substitution",
            "fw.sh",
            format!(
                "#!/bin/sh\niptables -A INPUT -p tcp --dport {}21{} -j ACCEPT\n",
                "$(echo ".repeat(5_000),
                ")".repeat(5_000)
            ),
        ),
        (
            "shell-nested-braces",
            "fw.sh",
            format!("#!/bin/sh\n{}iptables -P INPUT DROP\n{}", "{ ".repeat(5_000), "; }".repeat(5_000)),
        ),
        (
            "shell-endless-loop",
            "fw.sh",
            "#!/bin/sh\nwhile true; do iptables -A INPUT -p tcp --dport 21 -j ACCEPT; done\n".to_owned(),
        ),
        (
            "shell-recursion",
            "fw.sh",
            "#!/bin/bash\nf() { iptables -A INPUT -j ACCEPT; f; }\nf\n".to_owned(),
        ),
        (
            "batch-nested-parentheses",
            "fw.cmd",
            format!(
                "@echo off\n{}netsh advfirewall firewall add rule name=ftp dir=in action=allow protocol=TCP localport=21\n{}",
                "if 1==1 (\n".repeat(5_000),
                ")\n".repeat(5_000)
            ),
        ),
        (
            "powershell-nested-parentheses",
            "fw.ps1",
            format!(
                "New-NetFirewallRule -DisplayName ftp -Direction Inbound -Protocol TCP -LocalPort {}21{} -Action Allow\n",
                "(".repeat(5_000),
                ")".repeat(5_000)
            ),
        ),
        (
            "reg-many-keys",
            "ftp.reg",
            format!(
                "Windows Registry Editor Version 5.00\n\n{}",
                "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\n\"PassivePortRange\"=\"5001-5010\"\n\n"
                    .repeat(50_000)
            ),
        ),
    ]
}

/// Generous for a debug build on a loaded 2-core machine; a blow-up takes far longer.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[test]
fn structural_blowups_finish_in_time_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (case, name, text) in structural_cases() {
        let folder = dir.path().join(case);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), text).unwrap();
        // Printed first: a stack overflow aborts the process before any assert.
        eprintln!("robustness: {case}");
        let (done, wait) = std::sync::mpsc::channel();
        let path = folder.clone();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            let ok = std::panic::catch_unwind(|| support::lint_path(&path)).is_ok();
            let _ = done.send(ok);
        });
        match wait.recv_timeout(LIMIT) {
            Ok(true) => eprintln!("robustness: {case} took {:?}", started.elapsed()),
            Ok(false) => failures.push(format!("{case}: panicked")),
            Err(_) => failures.push(format!("{case}: still running after {LIMIT:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
