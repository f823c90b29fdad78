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
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pre-commit is not installed (CI=true, so this is a failure)"
        );
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
fn pre_commit_hooks_check_the_whole_tree() {
    let manifest = read(".pre-commit-hooks.yaml");
    let hooks: Vec<&str> = manifest.split("\n- id: ").skip(1).collect();
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h.lines().next()).collect();
    assert_eq!(ids, ["pasvlint", "pasvlint-system"]);
    for hook in &hooks {
        assert!(hook.contains("pass_filenames: false"), "{hook}");
        assert!(hook.contains("always_run: true"), "{hook}");
        assert!(hook.contains("entry: pasvlint check"), "{hook}");
    }
    assert!(hooks[0].contains("language: rust"));
    assert!(hooks[1].contains("language: system"));
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

/// GitHub reads action.yml as YAML and refuses a composite step with `run:` but no
/// `shell:`. Loaded with PyYAML (pre-commit's own YAML library), not pasvlint's.
#[test]
fn action_is_a_valid_composite_action() {
    const CHECK: &str = r#"
import sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
assert action["runs"]["using"] == "composite", action["runs"]
for name in ("name", "description"):
    assert isinstance(action.get(name), str), name
for key, spec in action["inputs"].items():
    assert isinstance(spec.get("description"), str), key
for step in action["runs"]["steps"]:
    assert ("run" in step) != ("uses" in step), step
    assert "run" not in step or step.get("shell") == "bash", step
print(len(action["runs"]["steps"]))
"#;
    let out = Command::new("python3")
        .args(["-c", CHECK, "action.yml"])
        .current_dir(support::crate_dir())
        .output();
    let out = match out {
        Ok(out) if !String::from_utf8_lossy(&out.stderr).contains("No module named 'yaml'") => out,
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 with PyYAML is needed (CI=true, so this is a failure)"
            );
            eprintln!("skipped: python3 with PyYAML is not installed (pip install pre-commit)");
            return;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "5");
}
