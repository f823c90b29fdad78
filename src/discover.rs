//! Finding the files to read: walk the given paths, in a stable order.

use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Files larger than this are skipped with a warning; no config is this big.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Directories never worth reading: VCS metadata and build output.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    "__pycache__",
];

#[derive(Debug)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// Paths that could not be walked (missing, unreadable directory...), with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

/// Every regular file under `paths`, sorted and without duplicates.
/// Symlinks are not followed (a link given directly on the command line is).
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if root.is_file() {
            files.push(root.clone());
            continue;
        }
        if !root.exists() {
            errors.push((root.clone(), "no such file or directory".to_owned()));
            continue;
        }
        let walker = WalkDir::new(root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_skipped_dir(e.path(), e.file_type().is_dir()));
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                Ok(_) => {}
                Err(err) => errors.push((
                    err.path().unwrap_or(root).to_path_buf(),
                    err.io_error()
                        .map_or_else(|| err.to_string(), |e| e.to_string()),
                )),
            }
        }
    }
    files.sort();
    files.dedup();
    Discovered { files, errors }
}

fn is_skipped_dir(path: &Path, is_dir: bool) -> bool {
    is_dir
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| SKIPPED_DIRS.contains(&n))
}
