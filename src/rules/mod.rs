//! The rule registry: one `rules!` list binds each rule's code to its `rules/<name>.toml`.

use crate::diag::{Diagnostic, Severity};
use crate::formats::ParsedFile;
use crate::hosts::Host;
use crate::policy::Policy;
use serde::Deserialize;
use std::sync::OnceLock;

/// A check. Implement only the hook for what the rule reads.
pub trait Rule: Sync + Send {
    fn name(&self) -> &'static str;

    /// Reads one parsed file (syntax and single-file semantics).
    fn check_file(&self, _file: &ParsedFile, _out: &mut Vec<Diagnostic>) {}

    /// Reads one host's facts (cross-checks between server and firewall, policy).
    fn check_host(&self, _host: &Host, _policy: &Policy, _out: &mut Vec<Diagnostic>) {}
}

/// A rule's documentation and defaults, from `rules/<name>.toml`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub name: String,
    pub severity: Severity,
    pub category: String,
    pub since: String,
    pub summary: String,
    pub description: String,
    pub bad: Example,
    pub good: Example,
    pub fix: String,
    #[serde(default)]
    pub references: Vec<String>,
}

/// Files that show a rule firing (`bad`) or staying quiet (`good`).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub files: Vec<ExampleFile>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExampleFile {
    pub path: String,
    pub text: String,
}

pub struct Registered {
    pub rule: &'static dyn Rule,
    pub toml: &'static str,
}

macro_rules! rules {
    ($($module:ident :: $ty:ident => $name:literal),* $(,)?) => {
        $(pub mod $module;)*
        static REGISTRY: &[Registered] = &[
            $(Registered {
                rule: &$module::$ty,
                toml: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $name, ".toml")),
            },)*
        ];
    };
}

rules! {}

/// Every rule, in registry order.
pub fn registry() -> &'static [Registered] {
    REGISTRY
}

/// Every rule's metadata, parsed once. A TOML that does not parse is a build
/// defect caught by `tests/catalog.rs`; here it is skipped rather than panicking.
pub fn catalog() -> &'static [RuleMeta] {
    static CATALOG: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        REGISTRY
            .iter()
            .filter_map(|r| toml::from_str(r.toml).ok())
            .collect()
    })
}

pub fn meta(name: &str) -> Option<&'static RuleMeta> {
    catalog().iter().find(|m| m.name == name)
}
