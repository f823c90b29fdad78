//! Files a configuration names (`. FILE` in a shell script, `configSource=` in
//! IIS's applicationHost.config), read from the repository without leaving it:
//! nothing outside the folder the run started in is read (or outside the
//! naming file's folder, for a file outside the run's folder), symlinks are not
//! followed, and a file over the size cap is not read, so a repository cannot
//! make pasvlint read the machine it runs on.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

/// The folder nothing is read outside of, for a file named from `naming`: the
/// run's own folder, or `naming`'s folder when it lies outside it.
pub fn jail(naming: &Path) -> Option<PathBuf> {
    let dir = absolute(naming.parent().unwrap_or(Path::new("")))?;
    let cwd = absolute(Path::new(""))?;
    Some(if dir.starts_with(&cwd) { cwd } else { dir })
}

/// Whether `candidate`, with `.` and `..` resolved by name, lies in `jail`.
pub fn within(candidate: &Path, jail: &Path) -> bool {
    absolute(candidate).is_some_and(|c| c.starts_with(jail))
}

/// The path made absolute and `.`/`..` resolved by name, as `open` would walk
/// them without symlinks.
pub fn absolute(path: &Path) -> Option<PathBuf> {
    let full = std::env::current_dir().ok()?.join(path);
    let mut out = PathBuf::new();
    for part in full.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// The bytes of a regular file (not a symlink, not a folder), at most
/// [`crate::limits::MAX_FILE_BYTES`] of them.
pub fn read_regular(path: &Path) -> Option<Vec<u8>> {
    if !std::fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    read_at_most_cap(path)
}

/// At most [`crate::limits::MAX_FILE_BYTES`] of the file at `path` (the caller
/// has made sure it is a regular file, so the read ends).
pub fn read_at_most_cap(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(crate::limits::MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_above_the_run_folder_is_within() {
        let jail = absolute(Path::new("")).unwrap();
        assert!(within(Path::new("etc/x"), &jail));
        assert!(!within(Path::new("../../etc/passwd"), &jail));
        assert!(!within(Path::new("/etc/passwd"), &jail) || jail == Path::new("/"));
    }
}
