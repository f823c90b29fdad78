//! bash (and dash, for `#!/bin/sh` scripts) runs every shell fixture with the
//! firewall programs replaced by recorders that log their argument vectors and
//! standard input; the commands pasvlint's interpreter streams must be the
//! recorded ones, in order, word for word. The files a script writes are
//! compared too: pasvlint's writes, applied in order, must leave each file as
//! the shell left it.
//!
//! The script runs in a temporary directory, with `/etc/`, `/tmp/` and `/var/`
//! rewritten (plain string replacement) to directories inside it, and in a
//! network and mount namespace of its own (`unshare`), so nothing on the machine
//! changes even if a script names a program the recorders do not cover. Commands pasvlint marks uncertain (their condition
//! cannot be decided statically) may or may not appear in the record; every
//! certain command must.
//!
//! Scripts that turn on `set -e` need the real exit statuses: for them the
//! `iptables`/`ip6tables` recorders go on to run the real program (in the
//! script's own network namespace), and pasvlint's side answers each command
//! with the status its iptables reader gives, so a command iptables rejects ends
//! both runs at the same place.

use pasvlint::scripts::{self, Command, Input, Status, UNKNOWN, WriteOp};
use pasvlint::source::{FileId, SourceFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Longer names first: the path rewrite replaces `/sbin/iptables-restore` whole.
const RECORDED: &[&str] = &[
    "iptables-legacy-restore",
    "ip6tables-legacy-restore",
    "iptables-nft-restore",
    "ip6tables-nft-restore",
    "iptables-restore",
    "ip6tables-restore",
    "iptables-legacy",
    "ip6tables-legacy",
    "iptables-nft",
    "ip6tables-nft",
    "iptables-save",
    "ip6tables-save",
    "iptables",
    "ip6tables",
    "ufw",
    "firewall-cmd",
    "nft",
];
const RESTORE: &[&str] = &[
    "iptables-legacy-restore",
    "ip6tables-legacy-restore",
    "iptables-nft-restore",
    "ip6tables-nft-restore",
    "iptables-restore",
    "ip6tables-restore",
];
/// Program directories a script may name programs by; rewritten to the recorders.
const PROGRAM_DIRS: &[&str] = &[
    "/usr/local/sbin/",
    "/usr/local/bin/",
    "/usr/sbin/",
    "/usr/bin/",
    "/sbin/",
    "/bin/",
];
const ROOTS: &[&str] = &["/etc/", "/tmp/", "/var/"];
/// Recorded programs that run for real (and exit with the real status) in a
/// script that uses `set -e`.
const REAL: &[&str] = &["iptables", "ip6tables", "iptables-nft", "ip6tables-nft"];

/// The part of OpenRC's `openrc-run.sh` that starts a service: its helpers and
/// default `start`, the script sourced from a function whose `$1` is its path,
/// then `start_pre`, `start`, `start_post`, each `|| exit $?`.
const OPENRC_RUN: &str = r#"for f in einfo einfon ewarn ewarnn ebegin veinfo vewarn vebegin eindent eoutdent; do
  eval "$f() { :; }"
done
eerror() { return 1; }
eend() { return "${1:-0}"; }
ewend() { return "${1:-0}"; }
yesno() { case "$1" in [Yy][Ee][Ss]|[Tt][Rr][Uu][Ee]|[Oo][Nn]|1) return 0 ;; esac; return 1; }
start() { [ -n "$command" ] || return 0; $command $command_args $command_args_background; }
sourcex() { . "$1"; }
if [ -n "$OPENRC_CONF" ]; then sourcex "$OPENRC_CONF"; fi
sourcex "$1"
shift
if [ "$(command -v start_pre)" = start_pre ]; then start_pre || exit $?; fi
start || exit $?
if [ "$(command -v start_post)" = start_post ]; then start_post || exit $?; fi
"#;

fn is_openrc_service(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    first.starts_with("#!") && (first.contains("openrc-run") || first.contains("runscript"))
}

/// The script turns on errexit (a `set -e` or `-e` on its `#!` line): statuses matter.
fn uses_errexit(text: &str) -> bool {
    shebang_option(text).is_some_and(|o| o.contains('e'))
        || text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("set -")
                && (l.contains("errexit")
                    || l.split_whitespace()
                        .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('e')))
        })
}

/// The option word of a `#!/bin/bash -e` line, which the kernel passes to the shell.
fn shebang_option(text: &str) -> Option<&str> {
    let line = text.lines().next()?.strip_prefix("#!")?;
    let (prog, arg) = line.trim().split_once(' ')?;
    (!prog.ends_with("/env") && arg.trim().starts_with('-')).then(|| arg.trim())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn have(program: &str) -> bool {
    std::process::Command::new(program)
        .args(["-c", "true"])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn isolated() -> bool {
    std::process::Command::new("unshare")
        .args(["--net", "--mount", "true"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ready(shell: &str) -> bool {
    let reason = if !have(shell) {
        format!("{shell} is not installed")
    } else if !isolated() {
        "unshare --net --mount does not work here (root needed)".to_owned()
    } else {
        return true;
    };
    assert!(!in_ci(), "{reason} (CI=true, so this is a failure)");
    eprintln!("skipping: {reason} (set CI=true to make this a failure)");
    false
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "sh")
                || p.starts_with(root.join("scripts/sh"))
                || p.parent().is_some_and(|d| d.ends_with("init.d"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One recorded call: the program's name, its arguments, and what it read.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    argv: Vec<String>,
    stdin: Option<String>,
}

fn recorder(bin: &Path, log: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    let write = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/bash\n{body}\n")).unwrap();
        let mut perm = std::fs::metadata(&p).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&p, perm).unwrap();
    };
    let log = log.display();
    for name in RECORDED {
        let stdin = if RESTORE.contains(name) {
            "printf '\\001'; cat; "
        } else {
            ""
        };
        let real = if REAL.contains(name) {
            format!(
                "if [ -n \"$ORACLE_REAL\" ] && [ -x /usr/sbin/{name} ]; then exec /usr/sbin/{name} \"$@\" >/dev/null 2>&1; fi\n"
            )
        } else {
            String::new()
        };
        write(
            name,
            &format!(
                "{{ printf '%s\\0' \"${{0##*/}}\" \"$@\"; {stdin}printf '\\036'; }} >> '{log}'\n{real}exit 0"
            ),
        );
    }
    write(
        "sudo",
        "while [ \"${1#-}\" != \"$1\" ]; do shift; done\nexec \"$@\"",
    );
    write("systemctl", "exit 0");
    write("service", "exit 0");
}

fn read_log(log: &Path, tmp: &str) -> Vec<Call> {
    let bytes = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).replace(tmp, "");
    text.split('\u{1e}')
        .filter(|r| !r.is_empty())
        .map(|r| {
            let (args, stdin) = match r.split_once('\u{1}') {
                Some((a, s)) => (a, Some(s.to_owned())),
                None => (r, None),
            };
            let argv = args
                .split('\0')
                .filter(|_| true)
                .map(str::to_owned)
                .collect::<Vec<_>>();
            let argv = argv[..argv.len().saturating_sub(1)].to_vec();
            Call { argv, stdin }
        })
        .collect()
}

/// The script as the shell runs it here: program paths to the recorders, the
/// host's directories to the temporary ones.
fn rewrite(text: &str, tmp: &str) -> String {
    let mut out = text.to_owned();
    for dir in PROGRAM_DIRS {
        for name in RECORDED
            .iter()
            .chain(["sudo", "systemctl", "service"].iter())
        {
            out = out.replace(&format!("{dir}{name}"), name);
        }
    }
    // One pass: the temporary directory itself lives under `/tmp/`.
    let mut rewritten = String::new();
    let mut rest = out.as_str();
    while let Some((at, root)) = ROOTS
        .iter()
        .filter_map(|r| rest.find(r).map(|at| (at, *r)))
        .min()
    {
        rewritten.push_str(&rest[..at]);
        rewritten.push_str(tmp);
        rewritten.push_str(root);
        rest = &rest[at + root.len()..];
    }
    rewritten.push_str(rest);
    rewritten
}

/// Paths under the rewritten roots that the script mentions: their directories
/// are made, so redirections into them can succeed. A file the script sources
/// is staged from the fixture's copy of the host's tree when it has one (the
/// fixture folder holding `etc/` is the host's `/`), else made empty.
fn prepare(text: &str, tmp: &Path, script: &Path, depth: usize) {
    stage_relative_sources(text, tmp, script, depth);
    for root in ROOTS {
        std::fs::create_dir_all(tmp.join(&root[1..])).unwrap();
        for (at, _) in text.match_indices(root) {
            let rest = &text[at + 1..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "\"';|&<>)$`".contains(c))
                .unwrap_or(rest.len());
            let path = tmp.join(&rest[..end]);
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            // Files the script reads (`< F`, `. F`) exist, as on a host.
            let before = text[..at].trim_end_matches([' ', '"', '\'']);
            let dot = before
                .strip_suffix('.')
                .is_some_and(|b| b.is_empty() || b.ends_with(char::is_whitespace));
            let read = before.ends_with('<') || dot || before.ends_with("source");
            if read && !path.exists() {
                match host_copy(script, &rest[..end]) {
                    Some(copy) if depth < 8 => stage(&copy, &path, tmp, depth),
                    _ => {
                        let _ = std::fs::write(&path, "");
                    }
                }
            }
        }
    }
}

/// The fixture's file for the host path `rooted` (`etc/default/firewall`):
/// under the nearest folder around the script that holds it.
fn host_copy(script: &Path, rooted: &str) -> Option<PathBuf> {
    let dir = script.parent()?;
    dir.ancestors()
        .take_while(|a| !a.ends_with("fixtures"))
        .map(|a| a.join(rooted))
        .find(|p| p.is_file())
}

/// `. ./vars.sh`, `source lib.sh`: the script runs from its own folder, so its
/// neighbours are staged into the working directory.
fn stage_relative_sources(text: &str, tmp: &Path, script: &Path, depth: usize) {
    let Some(dir) = script.parent() else { return };
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some("." | "source"), Some(name)) = (words.next(), words.next()) else {
            continue;
        };
        let name = name.trim_matches(['"', '\'']);
        if name.starts_with('/') || name.contains('$') || depth >= 8 {
            continue;
        }
        let copy = dir.join(name);
        if copy.is_file() {
            stage(&copy, &tmp.join("work").join(name), tmp, depth);
        }
    }
}

fn stage(copy: &Path, to: &Path, tmp: &Path, depth: usize) {
    let text = std::fs::read_to_string(copy).unwrap_or_default();
    if let Some(dir) = to.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(to, rewrite(&text, &tmp.display().to_string()));
    prepare(&text, tmp, copy, depth + 1);
}

/// pasvlint's view: the recorded programs' calls, and the writes.
fn pasvlint(text: &str, bash: bool, script: &Path) -> (Vec<(Call, bool)>, scripts::Outcome) {
    let text = if bash && text.starts_with("#!/bin/sh") {
        text.replacen("#!/bin/sh", "#!/bin/bash", 1)
    } else {
        text.to_owned()
    };
    let src = SourceFile::new(FileId(0), script, text.as_bytes());
    let real = uses_errexit(&text);
    let mut statuses = pasvlint::formats::iptables::Statuses::new(&src);
    let mut calls = Vec::new();
    let outcome = scripts::sh::run(&src, &mut |c: Command| {
        let status = statuses.of(&c);
        let Some((p, first)) = c.program() else {
            return Status::Unknown;
        };
        // `NFT=$(command -v nft); $NFT …`: the readers take the program looked up.
        let looked_up = first
            .checked_sub(1)
            .and_then(|i| c.argv.get(i))
            .and_then(|w| w.unknown.as_deref())
            .and_then(looked_up_program);
        let name = match looked_up {
            Some(name) if RECORDED.contains(&name) => name.to_owned(),
            _ if p.on_path && RECORDED.contains(&p.name) => p.name.to_owned(),
            _ => return Status::Unknown,
        };
        let mut argv = vec![name.clone()];
        argv.extend(c.argv[first..].iter().map(|w| w.text.clone()));
        let stdin = match &c.stdin {
            Some(Input::Text(t)) if RESTORE.contains(&name.as_str()) => Some(t.text.clone()),
            _ => None,
        };
        calls.push((Call { argv, stdin }, c.uncertain.is_some()));
        // The recorders of other programs always succeed.
        if real && REAL.contains(&name.as_str()) {
            status
        } else {
            Status::Unknown
        }
    });
    (calls, outcome)
}

/// `$(command -v NAME)`, `$(which NAME)`: the program looked up.
fn looked_up_program(unknown: &str) -> Option<&str> {
    let inner = unknown.strip_prefix("$(")?.strip_suffix(')')?;
    let mut words = inner.split_whitespace();
    let name = match words.next()? {
        "which" => words.next()?,
        "command" if words.next() == Some("-v") => words.next()?,
        _ => return None,
    };
    words.next().is_none().then_some(name)
}

/// `expected` may hold [`UNKNOWN`]: it stands for any text.
fn word_matches(expected: &str, got: &str) -> bool {
    let mut parts = expected.split(UNKNOWN);
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = got.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() {
        return rest.is_empty();
    }
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(p);
        }
        match rest.find(p) {
            Some(n) => rest = &rest[n + p.len()..],
            None => return false,
        }
    }
    true
}

fn call_matches(ours: &Call, theirs: &Call) -> bool {
    ours.argv.len() == theirs.argv.len()
        && ours
            .argv
            .iter()
            .zip(&theirs.argv)
            .all(|(a, b)| word_matches(a, b))
        && match (&ours.stdin, &theirs.stdin) {
            (Some(a), Some(b)) => word_matches(a, b),
            _ => true,
        }
}

/// Every recorded call is one of ours, in order; every certain one of ours is recorded.
/// Where pasvlint's budget `stopped` its run, the shell's calls after ours are not compared.
fn compare(
    name: &str,
    ours: &[(Call, bool)],
    theirs: &[Call],
    stopped: bool,
) -> Result<(), String> {
    let mut i = 0;
    for t in theirs {
        loop {
            let Some((o, uncertain)) = ours.get(i) else {
                if stopped {
                    return Ok(());
                }
                return Err(format!(
                    "{name}: the shell ran {t:?}, pasvlint has nothing more"
                ));
            };
            i += 1;
            if call_matches(o, t) {
                break;
            }
            if !uncertain {
                return Err(format!(
                    "{name}: the shell ran\n  {t:?}\npasvlint has\n  {o:?}"
                ));
            }
        }
    }
    if let Some((o, _)) = ours[i..].iter().find(|(_, u)| !u) {
        return Err(format!("{name}: pasvlint runs {o:?}, the shell did not"));
    }
    Ok(())
}

/// The files pasvlint says the script writes, each built from its writes in order;
/// files with an uncertain write or an edit this test cannot apply are left out.
fn expected_files(
    outcome: &scripts::Outcome,
    tmp: &Path,
    work: &Path,
) -> BTreeMap<PathBuf, String> {
    let mut files: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    for w in &outcome.writes {
        if !w.path.is_known() {
            continue;
        }
        let p = &w.path.text;
        let path = match ROOTS.iter().find(|r| p.starts_with(*r)) {
            Some(_) => tmp.join(&p[1..]),
            None if p.starts_with('/') => continue,
            None => work.join(p),
        };
        let entry = files
            .entry(path.clone())
            .or_insert_with(|| Some(std::fs::read_to_string(&path).unwrap_or_default()));
        if w.uncertain.is_some() {
            *entry = None;
        }
        let Some(content) = entry else { continue };
        match &w.op {
            WriteOp::Replace(t) => *content = t.text.clone(),
            WriteOp::Append(t) => content.push_str(&t.text),
            WriteOp::Sed(edits) => match apply_sed(content, edits) {
                Some(c) => *content = c,
                None => *entry = None,
            },
        }
    }
    files
        .into_iter()
        .filter_map(|(p, c)| c.map(|c| (p, c)))
        .collect()
}

/// pasvlint's parsed `s` edits, run by the real sed.
fn apply_sed(content: &str, edits: &[scripts::SedEdit]) -> Option<String> {
    let mut script = String::new();
    for e in edits {
        if e.command != 's' {
            return None;
        }
        let esc = |s: &str| s.replace('/', "\\/");
        script.push_str(&format!(
            "{}s/{}/{}/{}\n",
            e.address.clone().unwrap_or_default(),
            esc(e.pattern.as_deref()?),
            esc(e.replacement.as_deref()?),
            e.flags
        ));
    }
    let mut child = std::process::Command::new("sed")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    std::io::Write::write_all(child.stdin.as_mut()?, content.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    String::from_utf8(out.stdout).ok()
}

/// Runs one script; the number of recorded calls and of files compared.
fn run_one(shell: &str, script: &Path) -> Result<(usize, usize), String> {
    let name = script.display().to_string();
    let text = std::fs::read_to_string(script).map_err(|e| format!("{name}: {e}"))?;
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();
    let tmp_s = tmp.display().to_string();
    let work = tmp.join("work");
    let bin = tmp.join("bin");
    let log = tmp.join("log");
    std::fs::create_dir_all(&work).unwrap();
    recorder(&bin, &log);
    prepare(&text, tmp, script, 0);
    let run_path = work.join("script");
    std::fs::write(&run_path, rewrite(&text, &tmp_s)).unwrap();
    let (ours, outcome) = pasvlint(&text, shell == "bash", script);
    let expected = expected_files(&outcome, tmp, &work);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = std::process::Command::new("unshare");
    command.args(["--net", "--mount", shell]).env_clear();
    // As the kernel runs `#!/bin/bash -e`: the line's option goes to the shell.
    command.args(shebang_option(&text));
    if uses_errexit(&text) {
        command.env("ORACLE_REAL", "1");
    }
    if is_openrc_service(&text) {
        // As `rc-service NAME start` runs it (openrc-run.sh, checked against
        // OpenRC 0.45.2's openrc-run in a namespace): sourced, then started.
        let runner = work.join("openrc-run.sh");
        std::fs::write(&runner, OPENRC_RUN).unwrap();
        command.arg(&runner);
        let name = script.file_name().unwrap_or_default().to_string_lossy();
        if let Some(conf) = host_copy(script, &format!("etc/conf.d/{name}")) {
            command.env("OPENRC_CONF", conf);
        }
    }
    command.arg(&run_path);
    // An init script runs with `start` at boot, as the init system starts it.
    if script.parent().is_some_and(|d| d.ends_with("init.d")) && !is_openrc_service(&text) {
        command.arg("start");
    }
    let status = command
        .current_dir(&work)
        .env("PATH", path)
        .env("LOG", &log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{name}: {e}"))?;
    let _ = status;
    let theirs = read_log(&log, &tmp_s);
    let stopped = !outcome.limits.is_empty();
    compare(&format!("{name} ({shell})"), &ours, &theirs, stopped)?;
    if stopped {
        // The files hold what the shell wrote after pasvlint stopped.
        return Ok((theirs.len(), 0));
    }
    let files = expected.len();
    for (path, content) in expected {
        let got = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .replace(&tmp_s, "");
        if !word_matches(&content, &got) {
            return Err(format!(
                "{name} ({shell}): {} holds\n{got:?}\npasvlint's writes give\n{content:?}",
                path.display()
            ));
        }
    }
    Ok((theirs.len(), files))
}

fn run_all(shell: &str, only_sh: bool) {
    if !ready(shell) {
        return;
    }
    let mut failures = Vec::new();
    let mut count = 0;
    let (mut calls, mut files) = (0, 0);
    for script in fixtures() {
        let text = std::fs::read_to_string(&script).unwrap_or_default();
        if only_sh && !text.starts_with("#!/bin/sh") {
            continue;
        }
        count += 1;
        match run_one(shell, &script) {
            Ok((c, f)) => {
                calls += c;
                files += f;
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(count > 0, "no shell fixtures found");
    assert!(
        calls > 0 && files > 0,
        "{shell} recorded {calls} calls, {files} files"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn bash_runs_what_pasvlint_reads() {
    run_all("bash", false);
}

#[test]
fn dash_runs_what_pasvlint_reads_of_sh_scripts() {
    run_all("dash", true);
}

#[test]
fn unknown_parts_match_any_text() {
    let u = UNKNOWN.to_string();
    assert!(word_matches(&format!("a{u}b"), "aXYb"));
    assert!(word_matches(&u, ""));
    assert!(!word_matches(&format!("a{u}b"), "aXY"));
    assert!(word_matches("abc", "abc"));
    assert!(!word_matches("abc", "abd"));
}
