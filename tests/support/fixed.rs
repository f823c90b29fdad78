//! A case after `pasvlint check --fix --unsafe-fixes`, for the truth tests to run
//! the real daemon on what the fixes wrote.

use std::path::Path;
use std::process::Command;

/// A copy of `case` with every fix applied; `None` when no fix changed a byte.
pub fn fixed_copy(case: &Path) -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(case, dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args([
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "json",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}: {out:?}",
        case.display()
    );
    (!same_tree(case, dir.path())).then_some(dir)
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn same_tree(a: &Path, b: &Path) -> bool {
    std::fs::read_dir(a).unwrap().flatten().all(|entry| {
        let other = b.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            same_tree(&entry.path(), &other)
        } else {
            std::fs::read(entry.path()).ok() == std::fs::read(other).ok()
        }
    })
}

/// The truth check run again on `case`'s fixed copy, in a fresh `scratch`: what
/// the daemon does must be what pasvlint then says, and a case pasvlint (and so
/// the daemon) accepted must not be refused after the fix.
fn check_fixed(
    case: &Path,
    name: &str,
    scratch: &Path,
    failures: &mut Vec<String>,
    refused: impl Fn(&Path) -> bool,
    check: impl FnOnce(&Path) -> Result<String, String>,
) {
    let Some(fixed) = fixed_copy(case) else {
        return;
    };
    if !refused(case) && refused(fixed.path()) {
        failures.push(format!(
            "{name}: the daemon accepted it, --fix made it refused"
        ));
    }
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    match check(fixed.path()) {
        Ok(note) => eprintln!("{name} after --fix: {note}"),
        Err(e) => failures.push(format!("{name} after --fix: {e}")),
    }
}

/// The truth check on `case` as written, then on its fixed copy
/// ([`check_fixed`]), each in a fresh `scratch`; failures are named by the
/// case's path under the crate.
pub fn check_written_and_fixed(
    case: &Path,
    scratch: &Path,
    failures: &mut Vec<String>,
    refused: impl Fn(&Path) -> bool,
    check: impl Fn(&Path) -> Result<String, String>,
) {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let name = case
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(case)
        .display()
        .to_string();
    match check(case) {
        Ok(note) => eprintln!("{name}: {note}"),
        Err(e) => failures.push(format!("{name}: {e}")),
    }
    // The same daemon on what `--fix --unsafe-fixes` wrote.
    check_fixed(case, &name, scratch, failures, refused, &check);
}
