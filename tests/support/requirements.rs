//! Whether this machine can run tests that need root, namespaces and real daemons.
//!
//! Outside CI a missing tool skips the test with a printed reason; with
//! `CI=true` it is a failure, so CI never passes by skipping.

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
