//! Keeps code, docs and fixtures in step: every registered rule has its TOML
//! with every section, fixtures both ways, and examples that do what they say.

mod support;

use pasvlint::rules::{RuleMeta, registry};
use std::collections::BTreeSet;
use support::*;

const CATEGORIES: &[&str] = &[
    "reachability",
    "exposure",
    "capacity",
    "policy",
    "vsftpd",
    "nftables",
    "containers",
    "cloud",
    "ansible",
    "iptables",
    "ufw",
    "firewalld",
    "iis",
    "suppression",
    "iis",
    "windows",
    "windows-firewall",
    "scripts",
    "pure-ftpd",
    "filezilla",
    "proftpd",
    "puppet",
];
const HEADINGS: &[&str] = &["## What it checks", "## Why it matters"];

fn metas() -> Vec<RuleMeta> {
    registry()
        .iter()
        .map(|r| {
            toml::from_str(r.toml).unwrap_or_else(|e| panic!("rules/{}.toml: {e}", r.rule.name()))
        })
        .collect()
}

#[test]
fn registry_and_rules_dir_name_the_same_rules() {
    let registered: BTreeSet<String> = registry()
        .iter()
        .map(|r| r.rule.name().to_owned())
        .collect();
    let documented: BTreeSet<String> = std::fs::read_dir(crate_dir().join("rules"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".toml")
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(registered, documented);
}

#[test]
fn every_toml_is_complete_and_named_after_its_rule() {
    for (meta, reg) in metas().iter().zip(registry()) {
        let name = reg.rule.name();
        assert_eq!(
            meta.name, name,
            "rules/{name}.toml has name = {:?}",
            meta.name
        );
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.starts_with("check-")
                && !name.starts_with("no-check"),
            "{name}: rule names are kebab-case and say what is wrong"
        );
        assert!(
            CATEGORIES.contains(&meta.category.as_str()),
            "{name}: category {}",
            meta.category
        );
        for h in HEADINGS {
            assert!(
                meta.description.contains(h),
                "{name}: description lacks `{h}`"
            );
        }
        assert!(
            !meta.summary.trim().is_empty() && !meta.fix.trim().is_empty(),
            "{name}: summary/fix empty"
        );
        assert!(
            starts_in_lower_case(&meta.summary) && !meta.summary.ends_with('.'),
            "{name}: summary starts in lower case and has no final period"
        );
        assert!(
            !meta.bad.files.is_empty() && !meta.good.files.is_empty(),
            "{name}: needs bad and good examples"
        );
    }
}

#[test]
fn every_rule_has_fixtures_both_ways() {
    for reg in registry() {
        let name = reg.rule.name();
        let cases: Vec<String> = subdirs(&crate_dir().join("fixtures/rules").join(name))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            cases.iter().any(|c| c.starts_with("bad-")),
            "{name}: no fixtures/rules/{name}/bad-* case"
        );
        assert!(
            cases.iter().any(|c| c.starts_with("ok-")),
            "{name}: no fixtures/rules/{name}/ok-* case"
        );
    }
}

/// The `bad` example triggers its rule; the `good` one triggers nothing
/// (beyond the info that no firewall was found, for single-file examples).
#[test]
fn toml_examples_do_what_they_say() {
    let mut failures = Vec::new();
    for meta in metas() {
        for (kind, example) in [("bad", &meta.bad), ("good", &meta.good)] {
            let dir = tempfile::tempdir().unwrap();
            for f in &example.files {
                let path = dir.path().join(&f.path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &f.text).unwrap();
            }
            let report = lint_path(dir.path());
            let rules: Vec<&str> = report.diagnostics.iter().map(|d| d.rule).collect();
            let ok = match kind {
                "bad" => rules.contains(&meta.name.as_str()),
                _ => rules
                    .iter()
                    .all(|r| *r == "no-firewall-found" && meta.name != "no-firewall-found"),
            };
            if !ok {
                failures.push(format!("{} {kind} example gave {rules:?}", meta.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Messages read like the rest: lower-case start, no final period, no bare "invalid".
#[test]
fn messages_follow_the_convention() {
    let report = lint_path(std::path::Path::new("fixtures"));
    let mut bad = Vec::new();
    for d in &report.diagnostics {
        if !starts_in_lower_case(&d.message)
            || d.message.ends_with('.')
            || d.message.trim() != d.message
        {
            bad.push(format!("[{}] {:?}", d.rule, d.message));
        }
        if let Some(help) = &d.help {
            if help.ends_with('.') {
                bad.push(format!("[{}] help ends with a period: {help:?}", d.rule));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Lower case, unless the first word is an identifier such as `PassivePortRange`
/// or `RELATED` that is spelt that way.
fn starts_in_lower_case(text: &str) -> bool {
    let first_word = text.split_whitespace().next().unwrap_or("");
    let capitalised = first_word.starts_with(|c: char| c.is_ascii_uppercase());
    !capitalised || first_word.chars().skip(1).any(|c| c.is_ascii_uppercase())
}

/// README's rule table is `pasvlint rules --format markdown`, so it lists every rule.
#[test]
fn readme_rule_table_is_current() {
    let readme = std::fs::read_to_string(crate_dir().join("README.md")).unwrap();
    let table = pasvlint::rules::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's rule table is stale: paste `pasvlint rules --format markdown` under ## Rules"
    );
}
