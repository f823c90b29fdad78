//! Whether this machine can run tests that need root, namespaces and real daemons.
//!
//! Outside CI a missing tool skips the test with a printed reason; with
//! `CI=true` it is a failure, so CI never passes by skipping.
// Each test binary includes this module and uses only some of it.
#![allow(dead_code)]

use super::netns::{run, unique_name};
use std::path::Path;
use std::process::Command;

/// `true`: go ahead. `false`: skipped, with the reason printed. Panics in CI.
pub fn ready(test: &str, binaries: &[&str], programs: &[&str]) -> bool {
    match missing(binaries, programs) {
        None => true,
        Some(reason) if in_ci() => panic!("{test}: {reason} (CI=true, so this is a failure)"),
        Some(reason) => {
            eprintln!("skipping {test}: {reason} (set CI=true to make this a failure)");
            false
        }
    }
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn missing(binaries: &[&str], programs: &[&str]) -> Option<String> {
    if !is_root() {
        return Some("not running as root".to_string());
    }
    for binary in binaries {
        if !Path::new(binary).is_file() {
            return Some(format!("{binary} is not installed"));
        }
    }
    for program in programs {
        if !on_path(program) {
            return Some(format!("{program} is not on PATH"));
        }
    }
    netns_works().err()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn netns_works() -> Result<(), String> {
    let name = unique_name("check");
    run(Command::new("ip").args(["netns", "add", &name]))
        .map_err(|e| format!("`ip netns add` does not work here: {e}"))?;
    run(Command::new("ip").args(["netns", "del", &name])).map(|_| ())
}

/// `problem` is what keeps this machine from running `test`: `None` goes ahead;
/// otherwise the test is skipped with the reason printed, or fails in CI.
pub fn ready_unless(test: &str, problem: Option<String>) -> bool {
    match problem {
        None => true,
        Some(reason) if in_ci() => panic!("{test}: {reason} (CI=true, so this is a failure)"),
        Some(reason) => {
            eprintln!("skipping {test}: {reason} (set CI=true to make this a failure)");
            false
        }
    }
}

/// The shared libraries `binary` needs that the loader cannot find: a daemon
/// unpacked with `dpkg -x` brings none of its dependencies (`.ci/run` installs them).
pub fn unloadable_libraries(binary: &Path) -> Option<String> {
    let out = Command::new("ldd").arg(binary).output().ok()?;
    let missing: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap_or("")
        .lines()
        .filter(|l| l.contains("not found"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} cannot load {} (installed by .ci/run)",
            binary.display(),
            missing.join(", ")
        )
    })
}

/// No system account `name`: the daemons' anonymous logins run as `ftp`, which
/// Debian's vsftpd or ftp packages create.
pub fn missing_account(name: &str) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let found = passwd.lines().any(|l| l.split(':').next() == Some(name));
    (!found)
        .then(|| format!("no `{name}` account for anonymous logins (installing vsftpd creates it)"))
}
