//! Finding the files to read: walk the given paths in parallel, skipping what is
//! never configuration by its path alone, and return them in a stable order.

use std::path::PathBuf;
use std::sync::Mutex;

/// Directories never worth reading: VCS metadata, dependency stores and build
/// output (`.terraform` holds provider binaries of hundreds of MB).
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "target",
    "__pycache__",
    ".terraform",
    ".venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".gradle",
];

/// How to walk.
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    /// Skip what `.gitignore`, `.ignore` and `.git/info/exclude` exclude, as `rg` does.
    pub respect_ignore_files: bool,
    /// Walker threads (0: one per core).
    pub threads: usize,
}

impl Default for Walk {
    fn default() -> Walk {
        Walk {
            respect_ignore_files: true,
            threads: 0,
        }
    }
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// Paths that could not be walked (missing, unreadable directory...), with the reason.
    pub errors: Vec<(PathBuf, String)>,
    /// Symlinks met in the walk (under a config's name, or to a directory), not
    /// followed, with what they point at: said, so a linked config is not
    /// silently unchecked.
    pub links: Vec<(PathBuf, String)>,
}

/// Every regular file under `paths` that may be configuration, sorted and without
/// duplicates. A path given directly is always read. Symlinks are not followed (a
/// link given directly is).
pub fn discover(paths: &[PathBuf], walk: Walk) -> Discovered {
    let found = Mutex::new(Discovered::default());
    let mut roots = Vec::new();
    for root in paths {
        if root.is_file() {
            found.lock().unwrap().files.push(root.clone());
        } else if !root.exists() {
            let missing = (root.clone(), "no such file or directory".to_owned());
            found.lock().unwrap().errors.push(missing);
        } else if !root.is_dir() {
            found.lock().unwrap().errors.push(not_regular(root.clone()));
        } else {
            roots.push(root);
        }
    }
    if let Some((first, rest)) = roots.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for root in rest {
            builder.add(root);
        }
        builder
            .standard_filters(false)
            .git_ignore(walk.respect_ignore_files)
            .git_exclude(walk.respect_ignore_files)
            .ignore(walk.respect_ignore_files)
            .parents(walk.respect_ignore_files)
            .follow_links(false)
            .threads(walk.threads)
            .filter_entry(|e| e.depth() == 0 || !is_skipped_dir(e));
        builder.build_parallel().run(|| {
            let found = &found;
            Box::new(move |entry| {
                record(entry, &mut found.lock().unwrap());
                ignore::WalkState::Continue
            })
        });
    }
    let mut found = found.into_inner().unwrap();
    found.files.sort();
    found.files.dedup();
    found.errors.sort();
    found.links.sort();
    found
}

fn record(entry: Result<ignore::DirEntry, ignore::Error>, found: &mut Discovered) {
    match entry {
        Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
            if crate::formats::may_be_config(e.path()) {
                found.files.push(e.into_path());
            }
        }
        // A pipe, socket or device under a config's name would block or never
        // end if read: said, never read.
        Ok(e)
            if e.file_type().is_some_and(is_special) && crate::formats::may_be_config(e.path()) =>
        {
            found.errors.push(not_regular(e.into_path()));
        }
        Ok(e) if e.depth() > 0 && e.path_is_symlink() => {
            if let Some(note) = link_note(e.path()) {
                found.links.push((e.into_path(), note));
            }
        }
        Ok(_) => {}
        Err(err) => found.errors.push(walk_error(err)),
    }
}

/// What a walked symlink points at and why it is not read through, for a link
/// under a name a format reads (`vsftpd.conf`, `rules.v4`) or to a directory;
/// `None` for other links: `/etc` holds hundreds (`alternatives/`, `ssl/certs/`,
/// `rc2.d/`) that no format would read, and a note for each is noise.
fn link_note(link: &std::path::Path) -> Option<String> {
    let target = std::fs::read_link(link).ok()?;
    let shown = target.display();
    let named_as_config = crate::formats::classify(link, "").is_some();
    let Ok(meta) = std::fs::metadata(link) else {
        return named_as_config
            .then(|| format!("a symlink to {shown}, which does not exist: not read"));
    };
    if !meta.is_dir() && !named_as_config {
        return None;
    }
    let what = if meta.is_dir() { "directory" } else { "file" };
    Some(format!(
        "a symlink to the {what} {shown}: not followed (no file is read through a link, as rg reads none); the {what} is checked where it lies when that is under the checked paths"
    ))
}

fn is_special(t: std::fs::FileType) -> bool {
    !(t.is_file() || t.is_dir() || t.is_symlink())
}

fn not_regular(path: PathBuf) -> (PathBuf, String) {
    let reason = "not a regular file (a named pipe, socket or device), so not read".to_owned();
    (path, reason)
}

fn walk_error(err: ignore::Error) -> (PathBuf, String) {
    let mut path = None;
    let mut inner = &err;
    loop {
        match inner {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(p.clone());
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err;
            }
            ignore::Error::Io(io) => return (path.unwrap_or_default(), io.to_string()),
            other => return (path.unwrap_or_default(), other.to_string()),
        }
    }
}

fn is_skipped_dir(entry: &ignore::DirEntry) -> bool {
    entry.file_type().is_some_and(|t| t.is_dir())
        && entry
            .file_name()
            .to_str()
            .is_some_and(|n| SKIPPED_DIRS.contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_and_never_config_files_are_left_out_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        for f in [
            "etc/vsftpd.conf",
            "etc/logo.png",
            "old.conf",
            "node_modules/x/vsftpd.conf",
        ] {
            std::fs::write(root.join(f), "listen=YES\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "old.conf\n").unwrap();
        let names = |d: Discovered| -> Vec<String> {
            d.files
                .iter()
                .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let walked = discover(&[root.to_path_buf()], Walk::default());
        assert_eq!(names(walked), ["etc/vsftpd.conf"]);
        let all = Walk {
            respect_ignore_files: false,
            threads: 1,
        };
        let walked = discover(&[root.to_path_buf()], all);
        assert_eq!(names(walked), ["etc/vsftpd.conf", "old.conf"]);
        let named = discover(
            &[root.join("old.conf"), root.join("etc/logo.png")],
            Walk::default(),
        );
        assert_eq!(names(named), ["etc/logo.png", "old.conf"]);
    }
}
