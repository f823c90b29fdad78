//! The pre-commit hook and the GitHub Action stay valid and safe.

mod support;

use std::process::Command;

fn read(name: &str) -> String {
    std::fs::read_to_string(support::crate_dir().join(name)).unwrap()
}

/// `pre-commit validate-manifest` is pre-commit's own schema check.
#[test]
fn pre_commit_manifest_is_valid() {
    let Ok(out) = Command::new("pre-commit")
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(support::crate_dir())
        .output()
    else {
        eprintln!("skipped: pre-commit is not installed (pip install pre-commit)");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A finding needs both files of a host, and pasvlint recognises files by
/// content, so the hook must see the whole tree, not the staged names.
#[test]
fn pre_commit_hook_checks_the_whole_tree() {
    let manifest = read(".pre-commit-hooks.yaml");
    assert!(manifest.contains("pass_filenames: false"));
    assert!(manifest.contains("always_run: true"));
    assert!(manifest.contains("entry: pasvlint check"));
}

/// Inputs reach the script through the environment, never spliced into its text
/// (a crafted input would otherwise run as shell).
#[test]
fn action_does_not_splice_inputs_into_scripts() {
    let action = read("action.yml");
    assert!(action.contains("using: composite"));
    assert!(action.contains("github/codeql-action/upload-sarif"));
    let mut in_run = false;
    for line in action.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("run:") {
            in_run = true;
        } else if trimmed.starts_with("- name:")
            || trimmed.starts_with("env:")
            || trimmed.starts_with("if:")
        {
            in_run = false;
        }
        assert!(
            !(in_run && line.contains("${{")),
            "expression inside a run script: {line}"
        );
    }
}
