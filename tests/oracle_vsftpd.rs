//! The real vsftpd 3.0.3 judges every vsftpd file under `fixtures/` and the
//! byte-exact cases of domain.md; pasvlint's verdict must agree with it:
//! vsftpd rejects the file ⇔ a "fatal parse" rule reports an error, and the
//! first such error is on the line vsftpd names.
//!
//! vsftpd runs as `vsftpd FILE -olisten=NO -olisten_ipv6=NO 0<>out`: `-o`
//! options after the file are applied after it (main.c), which works past the
//! 100000-byte cap and for files without a final newline, where appending
//! `listen=NO` lines would not. "Parses" means vsftpd got as far as
//! `500 OOPS: vsftpd: not configured for standalone, must be started from inetd`.

use pasvlint::diag::Severity;
use pasvlint::formats::vsftpd::{self, Config, Outcome};
use pasvlint::formats::{self, Format, ParsedFile};
use pasvlint::rules;
use pasvlint::source::{Encoding, FileId, SourceFile};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VSFTPD: &str = "/usr/sbin/vsftpd";
const PARSED: &str = "500 OOPS: vsftpd: not configured for standalone, must be started from inetd";

/// Startup checks that run after the whole config has parsed (main.c) and
/// depend on this machine, not on the file: DNS for pasv_addr_resolve=YES,
/// the certificate files for ssl_enable=YES.
const AFTER_PARSE: &[&str] = &[
    "500 OOPS: cannot resolve host:",
    "500 OOPS: SSL: cannot load",
];

/// Rules whose errors mean "vsftpd will not start with this file".
const FATAL_RULES: &[&str] = &[
    "vsftpd-unknown-directive",
    "vsftpd-missing-value",
    "vsftpd-bad-boolean",
    "vsftpd-blank-string-value",
];

#[derive(Debug, PartialEq)]
enum Judgement {
    Parses,
    /// The `500 OOPS:` line, each non-ASCII byte shown as `?`.
    Rejects(String),
    /// Killed by a signal (Debian's whitespace-only string crash).
    Crashes(i32),
}

fn judge(dir: &Path, bytes: &[u8]) -> Judgement {
    let conf = dir.join("case.conf");
    let out = dir.join("out");
    std::fs::write(&conf, bytes).expect("write case");
    let fd0 = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&out)
        .expect("open out");
    let status = Command::new(VSFTPD)
        .arg(&conf)
        .arg("-olisten=NO")
        .arg("-olisten_ipv6=NO")
        .stdin(Stdio::from(fd0))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run vsftpd");
    if let Some(signal) = status.signal() {
        return Judgement::Crashes(signal);
    }
    let raw = masked(&std::fs::read(&out).unwrap_or_default());
    // Only the reply's own CRLF: a key may end in a CR of its own.
    let said = raw.strip_suffix("\r\n").unwrap_or(&raw).to_owned();
    if said == PARSED || AFTER_PARSE.iter().any(|p| said.starts_with(p)) {
        Judgement::Parses
    } else {
        Judgement::Rejects(said)
    }
}

/// Whether the real vsftpd can run here; `Err` says why not.
fn oracle_available() -> Result<(), String> {
    if !Path::new(VSFTPD).exists() {
        return Err(format!("{VSFTPD} is not installed"));
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("");
    if euid != "0" {
        return Err("vsftpd reads only config files owned by its user: run as root".to_owned());
    }
    Ok(())
}

fn skip_unless_available() -> bool {
    match oracle_available() {
        Ok(()) => false,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but the vsftpd oracle cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping the vsftpd oracle: {why}");
            true
        }
    }
}

struct Verdict {
    config: Config,
    /// 1-based lines of the fatal-rule errors, in report order.
    error_lines: Vec<usize>,
    source: SourceFile,
}

fn pasvlint_verdict(path: &Path, bytes: &[u8]) -> Verdict {
    let source = SourceFile::new(FileId(0), path, bytes);
    let parsed: ParsedFile = formats::parse(source, Format::Vsftpd);
    let mut diagnostics = Vec::new();
    for registered in rules::registry() {
        if FATAL_RULES.contains(&registered.rule.name()) {
            registered.rule.check_file(&parsed, &mut diagnostics);
        }
    }
    let mut error_lines: Vec<usize> = diagnostics
        .iter()
        .filter(|d| rules::meta(d.rule).map(|m| m.severity) == Some(Severity::Error))
        .map(|d| parsed.source.line_col(d.primary.span.start).0)
        .collect();
    error_lines.sort_unstable();
    let config = vsftpd::parse(&parsed.source);
    Verdict {
        config,
        error_lines,
        source: parsed.source,
    }
}

/// What vsftpd's message says about the first bad line, as pasvlint's parser names it.
fn expected_first_fatal(judgement: &Judgement) -> Option<(Outcome, String)> {
    let Judgement::Rejects(said) = judgement else {
        return None;
    };
    let key = |prefix: &str| said.strip_prefix(prefix).map(str::to_owned);
    if let Some(k) = key("500 OOPS: unrecognised variable in config file: ") {
        return Some((Outcome::Unknown, k));
    }
    if let Some(k) = key("500 OOPS: missing value in config file for: ") {
        return Some((Outcome::MissingValue, k));
    }
    key("500 OOPS: bad bool value in config file for: ").map(|k| (Outcome::BadBool, k))
}

/// `None` when pasvlint agrees with vsftpd on `bytes`, else what differs.
fn disagreement(name: &str, path: &Path, bytes: &[u8], dir: &Path) -> Option<String> {
    let judgement = judge(dir, bytes);
    let ours = pasvlint_verdict(path, bytes);
    let rejects = judgement != Judgement::Parses;
    let reported = !ours.error_lines.is_empty();
    if rejects != reported {
        return Some(format!(
            "{name}: vsftpd says {judgement:?}, pasvlint fatal errors on lines {:?}",
            ours.error_lines
        ));
    }
    if !rejects || ours.config.utf16.is_some() {
        return None;
    }
    let Some(first) = ours.config.first_fatal() else {
        return Some(format!(
            "{name}: vsftpd says {judgement:?}, pasvlint's parser finds no fatal line"
        ));
    };
    let first_line = ours.source.line_col(first.line.start).0;
    let ours_kind = (
        first.outcome.clone(),
        masked_name(&first.name, ours.source.encoding),
    );
    let expected_kind = match &judgement {
        Judgement::Crashes(_) => Some((Outcome::BlankStr, ours_kind.1.clone())),
        _ => expected_first_fatal(&judgement),
    };
    if expected_kind.as_ref() != Some(&ours_kind) {
        return Some(format!(
            "{name}: vsftpd says {judgement:?}, pasvlint's first fatal line {first_line} is {ours_kind:?}"
        ));
    }
    if ours.error_lines.first() != Some(&first_line) {
        return Some(format!(
            "{name}: vsftpd stops at line {first_line}, pasvlint's first error is on line {:?}",
            ours.error_lines.first()
        ));
    }
    None
}

/// Bytes with each non-ASCII byte as `?`: vsftpd's messages are bytes.
fn masked(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| if b.is_ascii() { b as char } else { '?' })
        .collect()
}

/// pasvlint's name for a key, masked like vsftpd's message: in a Windows-1252
/// file each character was one byte; otherwise the text is the file's UTF-8,
/// except that a BOM file's invalid bytes were replaced (one U+FFFD each).
fn masked_name(name: &str, encoding: Encoding) -> String {
    name.chars()
        .map(|c| match c {
            _ if c.is_ascii() => c.to_string(),
            _ if encoding == Encoding::Windows1252 || c == char::REPLACEMENT_CHARACTER => {
                "?".to_owned()
            }
            _ => "?".repeat(c.len_utf8()),
        })
        .collect()
}

fn vsftpd_fixtures() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let (text, _) = pasvlint::source::decode(bytes.clone());
        let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
        if vsftpd::sniff(rel, &text) {
            found.push((rel.to_path_buf(), bytes));
        }
    }
    found
}

#[test]
fn vsftpd_agrees_on_every_fixture() {
    if skip_unless_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = vsftpd_fixtures();
    assert!(
        fixtures.len() >= 20,
        "only {} vsftpd fixtures found",
        fixtures.len()
    );
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, bytes) in &fixtures {
        let source = SourceFile::new(FileId(0), path, bytes);
        if vsftpd::parse(&source).templated {
            eprintln!(
                "not judged (template, its rendered text is unknown): {}",
                path.display()
            );
            continue;
        }
        checked += 1;
        failures.extend(disagreement(
            &path.display().to_string(),
            path,
            bytes,
            dir.path(),
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures disagree with vsftpd:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// domain.md §1-§2 byte-exact cases, plus the ones this linter's messages rely on.
fn inline_cases() -> Vec<(String, Vec<u8>)> {
    let mut cases: Vec<(String, Vec<u8>)> = [
        &b"#comment\n"[..],
        b"  #comment\n",
        b"  #x=1\n",
        b"\x0c#x\n",
        b"\n   \n\t\n\r\n",
        b"  listen_port=21\n\tlisten_port=21\n\x0blisten_port=21\n",
        b"Listen_port=21\n",
        b"Listen_port = 21\nPasv_enable = Yes\nPasv_min_port = 9981\nPasvanderbilt max_port = 9986\n",
        b"listen_port = 21\n",
        b"listen_port =21\n",
        b"pasv_enable\t=YES\n",
        b"listen_port= 21\n",
        b"foo\n",
        b"foo=1\n",
        b"listen_port\n",
        b"pasv_min_port=\n",
        b"listen_ipv6\n",
        b"pasv_address\npasv_address=\nanon_root=\n",
        b"=\n",
        b"==\n",
        b"=5\n",
        b"ftpd_banner=a=b # not a comment\n",
        b"\xEF\xBB\xBFlisten_port=21\n",
        b"\xEF\xBB\xBF#comment\n",
        b"\xEF\xBB\xBF",
        b"\xEF\xBB\xBF\nlisten=YES\n",
        b"listen_port=21\r\n",
        b"pasv_enable=YES\r\n",
        b"listen_port=21\r\npasv_enable=YES\r\nanonymous_enable=NO\r\n",
        b"listen_port=21\rpasv_enable=BAD\n",
        b"listen_port=21\x00garbage\n",
        b"pasv_enable=YES\x00junk\n",
        b"#c\x00\n",
        b"\x00\n",
        b"  \x00  \n",
        b"pasv_min_port=\x00junk\n",
        b"pasv_enable=YES\npasv_enable=maybe\n",
        b"pasv_enable=YES",
        b"pasv_enable=YES ",
        b"pasv_enable= YES\n",
        b"pasv_enable=on\n",
        b"pasv_enable=Y\n",
        b"pasv_enable=01\n",
        b"pasv_enable=YES #c\n",
        b"pasv_enable=\xc3\xbfes\n",
        b"listen=yes\npasv_enable=True\nport_enable=0\nwrite_enable=No\n",
        b"pasv_min_port=abc\npasv_max_port=-1\nlisten_port=70000\nmax_clients=5e4\n",
        b"pasv_min_port=050000\npasv_max_port=0x1000\nlocal_umask=22\n",
        b"pasv_min_port=99999999999999999999\n",
        b"ftpd_banner=   \n",
        b"pasv_address= \n",
        b"pasv_address=\t\n",
        b"ftpd_banner=\r\n",
        b"ftpd_banner=Welcome\r\nmax_clients=50\r\n",
        b"anon_root= /srv/ftp \n",
        b"ssl_tlsv1_2=YES\n",
        b"allow_writable_chroot=YES\n",
        b"sandbox=YES\n",
        b"utf8_filesystem=maybe\n",
        b"upload_file\ndownload_file=maybe\n",
        b"listen=YES\nlisten_ipv6=YES\n",
        b"listen_port 21\n",
        b"caf\xe9=1\n",
        b"ftpd_banner=caf\xe9\n",
    ]
    .iter()
    .map(|b| (format!("{:?}", String::from_utf8_lossy(b)), b.to_vec()))
    .collect();

    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "listen=YES\r\n".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    cases.push(("UTF-16LE file".to_owned(), utf16));

    let pad = format!("#{}\n", "x".repeat(98)).repeat(1000).into_bytes();
    assert_eq!(pad.len(), vsftpd::FILE_MAX);
    let with = |tail: &[u8], cut: usize| [&pad[..cut], tail].concat();
    cases.push((
        "padding to the cap, then a bad line".to_owned(),
        with(b"bogus_directive=1\n", pad.len()),
    ));
    cases.push((
        "a bad line starting at byte 99999".to_owned(),
        with(b"\nbogus_directive=1\n", pad.len() - 2),
    ));
    cases.push((
        "pasv_enable=NOPE cut by the cap after NO".to_owned(),
        with(b"\npasv_enable=NOPE\n", pad.len() - 16),
    ));
    cases.push((
        "a bad bool cut by the cap after YE".to_owned(),
        with(b"\npasv_enable=YES\n", pad.len() - 15),
    ));
    cases.push((
        "BOM file over the cap".to_owned(),
        [
            b"\xEF\xBB\xBF#\n".as_slice(),
            &pad[..pad.len() - 5],
            b"\nbogus=1\n",
        ]
        .concat(),
    ));
    cases.push((
        "1.2 MB of valid lines".to_owned(),
        b"pasv_min_port=50000\n".repeat(60000),
    ));
    let mut banner = b"ftpd_banner=".to_vec();
    banner.extend(std::iter::repeat_n(b'A', 200_000));
    cases.push(("a 200000-byte banner line".to_owned(), banner));
    cases
}

#[test]
fn vsftpd_agrees_on_the_measured_byte_cases() {
    if skip_unless_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = Path::new("etc/vsftpd.conf");
    let cases = inline_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, bytes)| disagreement(name, path, bytes, dir.path()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with vsftpd:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The judge itself: known verdicts, so a broken harness cannot pass everything.
#[test]
fn the_oracle_tells_parse_from_reject() {
    if skip_unless_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(judge(dir.path(), b"listen_port=21\n"), Judgement::Parses);
    assert_eq!(
        judge(dir.path(), b"Listen_port = 21\n"),
        Judgement::Rejects(
            "500 OOPS: unrecognised variable in config file: Listen_port ".to_owned()
        )
    );
    assert!(matches!(
        judge(dir.path(), b"ftpd_banner=   \n"),
        Judgement::Crashes(11)
    ));
}

/// Deterministic mutations of the vsftpd fixtures (stray bytes, case flips,
/// deleted and doubled bytes): a differential test against the real parser.
#[test]
fn vsftpd_agrees_on_mutated_fixtures() {
    if skip_unless_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n.max(1)
    };
    const STRAY: &[&[u8]] = &[
        b"\0",
        b"\r",
        b"\t",
        b" ",
        b"=",
        b"#",
        b"\n",
        b"\x0b",
        b"\xEF\xBB\xBF",
        b"0",
        b"-",
        b"\xe9",
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, bytes) in vsftpd_fixtures() {
        for _ in 0..6 {
            let mut b = bytes.clone();
            let at = next(b.len() + 1);
            match next(4) {
                0 => {
                    b.splice(at..at, STRAY[next(STRAY.len())].iter().copied());
                }
                1 if at < b.len() => b[at] = b[at].to_ascii_uppercase(),
                2 if at < b.len() => {
                    b.remove(at);
                }
                _ if at < b.len() => b.insert(at, b[at]),
                _ => {}
            }
            let source = SourceFile::new(FileId(0), &path, &b);
            if vsftpd::parse(&source).templated {
                continue;
            }
            checked += 1;
            let name = format!(
                "{} mutated to {:?}",
                path.display(),
                String::from_utf8_lossy(&b)
            );
            failures.extend(disagreement(&name, &path, &b, dir.path()));
        }
    }
    assert!(checked > 100, "only {checked} mutated cases");
    assert!(
        failures.is_empty(),
        "{} of {checked} mutated fixtures disagree with vsftpd:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
