//! Every fixture case under fixtures/rules/<rule>/<case>/ is linted with all rules on.
//! Hard assertions first (which rule fires where), then one snapshot beside the case
//! (how it reads). `ok-*` cases are plain assertions, so blessing a snapshot can
//! never approve a false positive.

mod support;

use serde::Deserialize;
use std::path::Path;
use support::*;

/// Optional `<case>.toml` beside a case folder.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseMeta {
    #[serde(default)]
    #[allow(dead_code)]
    note: String,
    /// Other rules allowed to fire on this case.
    #[serde(default)]
    also: Vec<String>,
}

/// Reported on every fixture that holds no firewall; the snapshot still shows it.
const ALWAYS_ALLOWED: &[&str] = &["no-firewall-found"];

fn case_meta(case: &Path) -> CaseMeta {
    let sidecar = case.with_extension("toml");
    match std::fs::read_to_string(&sidecar) {
        Ok(text) => toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", sidecar.display())),
        Err(_) => CaseMeta::default(),
    }
}

fn check_case(rule: &str, case: &Path) -> Result<(), String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let rel = case.strip_prefix(crate_dir()).unwrap_or(case);
    let report = lint_path(rel);
    let meta = case_meta(case);
    let fired = |r: &str| report.diagnostics.iter().any(|d| d.rule == r);
    let strays: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.rule)
        .filter(|r| *r != rule && !meta.also.iter().any(|a| a == r) && !ALWAYS_ALLOWED.contains(r))
        .collect();
    if name.starts_with("ok-") && fired(rule) {
        return Err(format!(
            "{rule} fired on {}:\n{}",
            rel.display(),
            concise_with_related(&report)
        ));
    }
    if name.starts_with("bad-") && !fired(rule) {
        return Err(format!(
            "{rule} did not fire on {}:\n{}",
            rel.display(),
            concise_with_related(&report)
        ));
    }
    if !name.starts_with("ok-") && !name.starts_with("bad-") {
        return Err(format!(
            "{}: case folders are named bad-* or ok-*",
            rel.display()
        ));
    }
    if !strays.is_empty() {
        return Err(format!(
            "{}: other rules fired ({}); list them in {name}.toml `also` if intended:\n{}",
            rel.display(),
            strays.join(", "),
            concise_with_related(&report)
        ));
    }
    let snapshot = format!(
        "# Diagnostics\n{}\n# Rendered\n{}",
        concise_with_related(&report),
        human(&report)
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(case.parent().unwrap());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(case);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.clone(), snapshot));
    }));
    result.map_err(|_| format!("snapshot of {} changed (cargo insta review)", rel.display()))
}

#[test]
fn every_rule_case() {
    let root = crate_dir().join("fixtures/rules");
    let filter = std::env::var("PASVLINT_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    let mut ran = 0;
    for rule_dir in subdirs(&root) {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        for case in subdirs(&rule_dir) {
            if !case.to_string_lossy().contains(&filter) {
                continue;
            }
            ran += 1;
            if let Err(e) = check_case(&rule, &case) {
                failures.push(e);
            }
        }
    }
    assert!(
        ran > 0 || !filter.is_empty(),
        "no fixture cases under {}",
        root.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
