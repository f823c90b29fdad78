//! Windows oracles run through Wine: every `.reg` fixture is imported with
//! `reg import` and its keys exported back, and must hold exactly the values
//! (types and data) pasvlint's parser says the import leaves; every batch
//! fixture is run by Wine's `cmd` with `netsh`/`cscript`/`appcmd`/`ipseccmd`
//! replaced by recorders that log the command line they get, and the
//! argument vectors (split by this file's own MSVCRT splitter) must equal
//! the ones pasvlint's cmd interpreter streams, in order.
//!
//! Wine 8's `cmd` runs both sides of `&&` and `||` after an external program
//! whatever it returned (checked with `cmd /c exit 1 && echo x`), so this
//! oracle cannot judge which side of a conditional runs: the recorders always
//! succeed, and a fixture's recorded calls never depend on a failing one.
//!
//! Skipped with a printed reason when `wine` is missing, unless `CI=true`.
//! One throw-away WINEPREFIX serves the whole run; each side is one Wine
//! process running a generated script, to stay well under a minute.

#[path = "support/reg_export.rs"]
mod reg_export;
mod support;

use pasvlint::formats::regfile::{self, StoredValue, Version};
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

/// Longer than the whole batch oracle takes under load (about a minute).
const CMD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

struct Wine {
    exe: PathBuf,
    prefix: tempfile::TempDir,
}

impl Wine {
    /// What `cmd /c script` prints; a script still running after [`CMD_TIMEOUT`]
    /// fails the test (a hang would otherwise hang CI).
    fn cmd(&self, script: &Path) -> String {
        // Files the scripts write land beside them, not in the checkout.
        let out_path = script.with_extension("stdout");
        let stdout = std::fs::File::create(&out_path).expect("create stdout file");
        let mut child = Command::new(&self.exe)
            .args(["cmd", "/c", &win_path(script)])
            .current_dir(script.parent().unwrap_or(Path::new(".")))
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .stdout(stdout)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("wine runs");
        let started = std::time::Instant::now();
        while child.try_wait().expect("wait for wine").is_none() {
            if started.elapsed() > CMD_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} still ran after {CMD_TIMEOUT:?} under wine: a fixture cmd never finishes?",
                    script.display()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let bytes = std::fs::read(&out_path).unwrap_or_default();
        String::from_utf8_lossy(&bytes).replace('\r', "")
    }
}

impl Wine {
    /// Creates the prefix and waits until every process of its first start
    /// (wineboot, services, explorer) has ended, so nothing of the prefix's
    /// set-up runs beside the oracle's own scripts.
    fn boot(&self) {
        let booted = Command::new(&self.exe)
            .args(["wineboot", "--init"])
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("wineboot runs");
        assert!(booted.success(), "wineboot --init failed: {booted}");
        let waited = self.server().arg("-w").status().expect("wineserver runs");
        assert!(waited.success(), "wineserver -w failed: {waited}");
    }

    fn server(&self) -> Command {
        let server = self.exe.with_file_name("wineserver");
        let mut command = Command::new(if server.is_file() {
            server.as_os_str()
        } else {
            "wineserver".as_ref()
        });
        command.env("WINEPREFIX", self.prefix.path());
        command
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let _ = self.server().arg("-k").status();
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
    wine.boot();
    let mut failures = Vec::new();
    let (reg_files, reg_values) = check_reg_files(&wine, work.path(), &mut failures);
    let (bat_files, bat_calls) = check_batch_files(&wine, work.path(), &mut failures);
    eprintln!(
        "Wine oracle: {reg_files} .reg files ({reg_values} values) and {bat_files} batch files ({bat_calls} program calls) compared"
    );
    assert!(reg_values > 10 && bat_calls > 50, "too little compared");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn read_source(path: &Path) -> SourceFile {
    SourceFile::new(
        FileId(0),
        path,
        &std::fs::read(path).expect("fixture readable"),
    )
}

/// (folded key, lower-case name) → (type, bytes).
type Values = BTreeMap<(String, String), (u32, Vec<u8>)>;

fn value_entry(
    key: &str,
    name: Option<&str>,
    ty: u32,
    bytes: &[u8],
) -> ((String, String), (u32, Vec<u8>)) {
    let name = name.unwrap_or_default().to_ascii_lowercase();
    ((reg_export::fold_key(key), name), (ty, bytes.to_vec()))
}

/// What pasvlint says the import leaves under `keys` (folded).
fn claimed(values: &[StoredValue], keys: &[String]) -> Values {
    values
        .iter()
        .filter(|v| keys.contains(&reg_export::fold_key(&v.key_as_written)))
        .map(|v| value_entry(&v.key_as_written, v.name.as_deref(), v.ty, &v.bytes))
        .collect()
}

/// What Wine's `reg export` wrote for `keys` (folded), read without pasvlint.
fn exported(path: &Path, keys: &[String]) -> Result<Values, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok(reg_export::read(&bytes)?
        .iter()
        .filter(|v| keys.contains(&reg_export::fold_key(&v.key)))
        .map(|v| value_entry(&v.key, v.name.as_deref(), v.ty, &v.bytes))
        .collect())
}

fn check_reg_files(wine: &Wine, work: &Path, failures: &mut Vec<String>) -> (usize, usize) {
    let mut files = Vec::new();
    files_with_ext(&crate_dir().join("fixtures"), &["reg"], &mut files);
    let mut script = String::from("@echo off\r\n");
    let mut plans = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let parsed = regfile::parse(&read_source(path));
        let written = written_keys(&parsed);
        script.push_str(&import_steps(i, path, &written, work));
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
        for again in output
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("RETRY {i} ")))
        {
            eprintln!("{rel}: the first `reg delete` of {again} left it in place; deleted again");
        }
        for left in output
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("LEFT {i} ")))
        {
            failures.push(format!(
                "{rel}: `reg delete` left {left} in place twice before the import, so the \
                 prefix is not clean and the comparison would be meaningless"
            ));
        }
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
        let folded: Vec<String> = written.iter().map(|k| reg_export::fold_key(k)).collect();
        let ours = claimed(&regfile::stored_values(parsed), &folded);
        let mut theirs = Values::new();
        for j in 0..written.len() {
            let out = work.join(format!("export-{i}-{j}.reg"));
            if !out.exists() {
                continue;
            }
            match exported(&out, &folded) {
                Ok(values) => theirs.extend(values),
                Err(why) => failures.push(format!("{rel}: Wine's export {j} unreadable: {why}")),
            }
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

/// The keys pasvlint says the file opens and leaves, once each, as written.
fn written_keys(parsed: &regfile::RegFile) -> Vec<String> {
    let mut written: Vec<String> = Vec::new();
    for k in parsed.keys().filter(|k| k.opened && !k.deleted) {
        let folded = reg_export::fold_key(&k.path);
        if !written.iter().any(|w| reg_export::fold_key(w) == folded) {
            written.push(k.path.clone());
        }
    }
    written
}

/// cmd lines that clear `written`, import `path` and export each key again.
/// A key still there after a second `reg delete` is echoed as `LEFT i key`.
fn import_steps(i: usize, path: &Path, written: &[String], work: &Path) -> String {
    let mut steps = String::new();
    for key in written {
        let query = format!("reg query \"{key}\" >nul 2>&1\r\n");
        let delete = format!("reg delete \"{key}\" /f >nul 2>&1\r\n");
        // Wine's cmd runs `a >nul 2>&1 && b` whatever `a` returned, so each
        // test is an `if not errorlevel 1` of its own.
        steps.push_str(&delete);
        steps.push_str(&query);
        steps.push_str(&format!("if not errorlevel 1 echo RETRY {i} {key}\r\n"));
        steps.push_str(&format!("if not errorlevel 1 {delete}"));
        steps.push_str(&query);
        steps.push_str(&format!("if not errorlevel 1 echo LEFT {i} {key}\r\n"));
    }
    steps.push_str(&format!(
        "reg import \"{}\" >nul 2>&1\r\necho RC {i} %errorlevel%\r\n",
        win_path(path)
    ));
    for (j, key) in written.iter().enumerate() {
        let out = work.join(format!("export-{i}-{j}.reg"));
        steps.push_str(&format!(
            "reg export \"{key}\" \"{}\" /y >nul 2>&1\r\n",
            win_path(&out)
        ));
    }
    steps
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

/// The programs the batch oracle replaces by recorders.
const RECORDED: &[&str] = &["netsh", "cscript", "appcmd", "ipseccmd", "ipsecpol"];

/// `netsh`, `netsh.exe`, `%SystemRoot%\system32\netsh.exe` where a command
/// starts → `call netsh` (a batch recorder must be `call`ed to return).
fn recorder_copy(text: &str) -> String {
    let mut out = String::new();
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    'outer: while i < text.len() {
        let command_start = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'(' | b'&' | b'|' | b'@'
            );
        if command_start {
            let word_end = lower[i..]
                .find(|c: char| c.is_whitespace() || "&|()<>".contains(c))
                .map_or(text.len(), |e| i + e);
            let word = lower[i..word_end].trim_matches('"');
            let base = word.rsplit(['\\', '/']).next().unwrap_or(word);
            let base = base.strip_suffix(".exe").unwrap_or(base);
            if let Some(name) = RECORDED.iter().find(|r| **r == base) {
                out.push_str(&format!("call {name}"));
                i = word_end;
                continue 'outer;
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A recorder: one line per call to `log`, the program and its raw command
/// tail. The log's path is written out: a `%NAME%` in the recorder would be
/// read as FOR variable `%N` by Wine when a loop calls it.
fn write_recorders(dir: &Path, log: &str) {
    std::fs::create_dir_all(dir).expect("recorder dir");
    for name in RECORDED {
        std::fs::write(
            dir.join(format!("{name}.cmd")),
            format!("@>>\"{log}\" echo {name} %*\r\n"),
        )
        .expect("write recorder");
    }
}

/// The arguments a program sees, split by the MSVCRT rules (written here,
/// independently of pasvlint): blanks separate, quotes group, `2n`
/// backslashes before a quote are `n` and the quote counts, `2n+1` are `n`
/// and a literal quote, `""` inside quotes is a literal quote.
fn msvcrt_split(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= chars.len() {
            return args;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if (c == ' ' || c == '\t') && !quoted {
                break;
            }
            if c == '\\' {
                let mut n = 0;
                while i < chars.len() && chars[i] == '\\' {
                    n += 1;
                    i += 1;
                }
                if i < chars.len() && chars[i] == '"' {
                    arg.push_str(&"\\".repeat(n / 2));
                    if n % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.push_str(&"\\".repeat(n));
                }
                continue;
            }
            if c == '"' {
                if quoted && chars.get(i + 1) == Some(&'"') {
                    arg.push('"');
                    i += 2;
                    continue;
                }
                quoted = !quoted;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        args.push(arg);
    }
}

/// One call: the program and its arguments after argv[0].
type Call = (String, Vec<String>);

/// What pasvlint's interpreter runs: each recorded program's arguments, and
/// whether it runs only under a condition pasvlint cannot decide.
fn interpreted(path: &Path) -> Vec<(Call, bool)> {
    let source = read_source(path);
    let run = pasvlint::scripts::Run::collect(|sink| pasvlint::scripts::cmd::run(&source, sink));
    run.commands
        .iter()
        .filter_map(|c| {
            let (program, first) = c.program()?;
            let name = RECORDED.iter().find(|r| program.is(r))?;
            let args = c.argv[first..].iter().map(|w| w.text.clone()).collect();
            Some((((*name).to_owned(), args), c.uncertain.is_some()))
        })
        .collect()
}

/// The recorded calls are pasvlint's certain calls, in order, with some of
/// its uncertain calls (those Wine's run took).
fn agrees(ours: &[(Call, bool)], recorded: &[Call]) -> bool {
    let (n, m) = (ours.len(), recorded.len());
    let mut can = vec![vec![false; m + 1]; n + 1];
    can[n][m] = true;
    for i in (0..n).rev() {
        can[i][m] = ours[i].1 && can[i + 1][m];
    }
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let take = same_call(&ours[i].0, &recorded[j]) && can[i + 1][j + 1];
            let skip = ours[i].1 && can[i + 1][j];
            can[i][j] = take || skip;
        }
    }
    can[0][0]
}

/// A call pasvlint reads as `ours` is the call cmd made: the same program and
/// arguments, where a part pasvlint marks unknown (a variable the script does
/// not set, which the environment may) stands for any text, the empty text cmd
/// gives an unset variable included.
fn same_call(ours: &Call, recorded: &Call) -> bool {
    ours.0 == recorded.0
        && ours.1.len() == recorded.1.len()
        && ours
            .1
            .iter()
            .zip(&recorded.1)
            .all(|(a, b)| matches_with_unknowns(a, b))
}

fn matches_with_unknowns(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split(pasvlint::scripts::UNKNOWN);
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Fixtures this oracle cannot run as Windows' cmd would: (fixture folder, why).
const NOT_COMPARED: &[(&str, &str)] = &[(
    "bad-escaped-redirection-reaches-netsh",
    "the recorder is reached through `call`, which parses the line again: the escaped `>` becomes a redirection",
)];

fn check_batch_files(wine: &Wine, work: &Path, failures: &mut Vec<String>) -> (usize, usize) {
    let mut files = Vec::new();
    files_with_ext(&crate_dir().join("fixtures"), &["cmd", "bat"], &mut files);
    // Fuzz regressions are hostile on purpose (a FOR /L step of 0 never ends in
    // cmd): pasvlint's budget is what they test, not cmd's behaviour.
    let fuzz = crate_dir().join("fixtures/fuzz");
    files.retain(|f| !f.starts_with(&fuzz));
    let recorders = work.join("recorders");
    let log = work.join("calls.log");
    let log_win = win_path(&log);
    write_recorders(&recorders, &log_win);
    let mut master = format!("@echo off\r\nset PATH={};%PATH%\r\n", win_path(&recorders));
    for (i, path) in files.iter().enumerate() {
        let text = read_source(path).text;
        let copy = work.join(format!("script-{i}.cmd"));
        std::fs::write(&copy, recorder_copy(&text)).expect("write copy");
        master.push_str(&format!(
            ">>\"{log_win}\" echo ==={i}===\r\ncmd /c \"{}\" >nul 2>&1\r\n",
            win_path(&copy)
        ));
    }
    let master_path = work.join("batch-oracle.cmd");
    std::fs::write(&master_path, master).expect("write master");
    let _ = wine.cmd(&master_path);
    let calls = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).replace('\r', "");
    let recorded_of = |calls: &str, i: usize| -> Vec<Call> {
        let marker = format!("==={i}===");
        calls
            .lines()
            .skip_while(|l| l.trim() != marker)
            .skip(1)
            .take_while(|l| !l.starts_with("==="))
            .map(|l| {
                let (name, raw) = l.split_once(' ').unwrap_or((l, ""));
                (name.to_owned(), msvcrt_split(raw))
            })
            .collect()
    };
    let mut compared = 0;
    for (i, path) in files.iter().enumerate() {
        let rel = path
            .strip_prefix(crate_dir())
            .unwrap_or(path)
            .display()
            .to_string();
        if let Some((_, why)) = NOT_COMPARED.iter().find(|(name, _)| rel.contains(name)) {
            eprintln!("batch oracle: {rel} not compared: {why}");
            continue;
        }
        let ours = interpreted(path);
        let mut recorded = recorded_of(&calls, i);
        if recorded.is_empty() && ours.iter().any(|(_, uncertain)| !uncertain) {
            // Under load Wine now and then runs a script of the master file without
            // its recorders reaching the log: that script alone, once more.
            recorded = recorded_of(&rerun_alone(wine, work, i), i);
        }
        compared += recorded.len();
        if !agrees(&ours, &recorded) {
            failures.push(format!(
                "{rel}: pasvlint's commands differ from what cmd ran\n{}",
                first_difference(&ours, &recorded)
            ));
        }
    }
    (files.len(), compared)
}

/// The calls `script-{i}.cmd` makes when cmd runs it on its own, under the
/// same recorders, into a log of its own.
fn rerun_alone(wine: &Wine, work: &Path, i: usize) -> String {
    let log = work.join(format!("calls-{i}.log"));
    let log_win = win_path(&log);
    let alone = work.join(format!("recorders-{i}"));
    write_recorders(&alone, &log_win);
    let master = format!(
        "@echo off\r\nset PATH={};%PATH%\r\n>>\"{log_win}\" echo ==={i}===\r\ncmd /c \"{}\" >nul 2>&1\r\n",
        win_path(&alone),
        win_path(&work.join(format!("script-{i}.cmd")))
    );
    let path = work.join(format!("batch-oracle-{i}.cmd"));
    std::fs::write(&path, master).expect("write master");
    let _ = wine.cmd(&path);
    String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).replace('\r', "")
}

/// Where the two runs part, with a few calls of context.
fn first_difference(ours: &[(Call, bool)], recorded: &[Call]) -> String {
    let certain: Vec<&Call> = ours.iter().filter(|(_, u)| !u).map(|(c, _)| c).collect();
    let at = certain
        .iter()
        .zip(recorded)
        .position(|(a, b)| *a != b)
        .unwrap_or(certain.len().min(recorded.len()));
    let from = at.saturating_sub(2);
    let show = |calls: Vec<&Call>| {
        calls
            .iter()
            .map(|(n, a)| format!("    {n} {a:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "  {} certain calls ({} uncertain) in pasvlint, {} recorded; call {at} differs\n  pasvlint:\n{}\n  cmd:\n{}",
        certain.len(),
        ours.len() - certain.len(),
        recorded.len(),
        show(certain.iter().skip(from).take(5).copied().collect()),
        show(recorded.iter().skip(from).take(5).collect()),
    )
}

#[test]
fn an_unknown_part_stands_for_any_text() {
    let u = pasvlint::scripts::UNKNOWN;
    assert!(matches_with_unknowns(
        &format!("/lowDataChannelPort:{u}"),
        "/lowDataChannelPort:"
    ));
    assert!(matches_with_unknowns(&format!("a{u}b{u}c"), "axxbyyc"));
    assert!(!matches_with_unknowns(
        &format!("localport={u}"),
        "remoteport=1"
    ));
    assert!(!matches_with_unknowns("21", "22"));
}

#[test]
fn msvcrt_splitter_follows_the_documented_examples() {
    // The examples of "Parsing C++ command-line arguments" (Microsoft docs).
    assert_eq!(msvcrt_split(r#""a b c" d e"#), ["a b c", "d", "e"]);
    assert_eq!(msvcrt_split(r#""ab\"c" "\\" d"#), [r#"ab"c"#, "\\", "d"]);
    assert_eq!(msvcrt_split(r#"a\\\b d"e f"g h"#), [r"a\\\b", "de fg", "h"]);
    assert_eq!(msvcrt_split(r#"a\\\"b c d"#), [r#"a\"b"#, "c", "d"]);
    assert_eq!(msvcrt_split(r#"a\\\\"b c" d e"#), [r"a\\b c", "d", "e"]);
    assert_eq!(msvcrt_split(r#"a"b"" c d"#), [r#"ab" c d"#]);
}
