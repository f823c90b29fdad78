//! Shared helpers for the integration tests.
#![allow(dead_code)]

use pasvlint::policy::Config;
use pasvlint::{Report, lint};
use std::path::{Path, PathBuf};

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lint `path` with every rule on and no config file. Cargo runs tests from the
/// crate root, so a relative `fixtures/...` path is reported as such.
/// A `pasvlint.toml` at the top of `path` is used, as a user's would be.
pub fn lint_path(path: &Path) -> Report {
    let config_file = path.join(pasvlint::policy::CONFIG_FILE);
    let config = if config_file.is_file() {
        Config::load(&config_file).expect("fixture pasvlint.toml")
    } else {
        Config::default()
    };
    lint(&[path.to_path_buf()], &config)
}

/// `path:line:col: severity: message [rule]` lines, with related locations indented.
pub fn concise_with_related(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let loc = pasvlint::emit::location(&report.sources, d.primary.span);
        out.push_str(&format!(
            "{}:{}:{}: {}: {} [{}]\n",
            pasvlint::emit::path_of(&report.sources, d.primary.span),
            loc.line,
            loc.column,
            d.severity.as_str(),
            d.message,
            d.rule
        ));
        for r in &d.related {
            let l = pasvlint::emit::location(&report.sources, r.span);
            out.push_str(&format!(
                "    {}:{}:{}: {}\n",
                pasvlint::emit::path_of(&report.sources, r.span),
                l.line,
                l.column,
                r.message
            ));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!("    help: {help}\n"));
        }
    }
    out
}

pub fn human(report: &Report) -> String {
    pasvlint::emit::human::render(
        report,
        &pasvlint::emit::human::Options {
            color: false,
            width: 100,
        },
    )
}

/// Sub-directories of `dir`, sorted.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}
