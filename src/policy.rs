//! `pasvlint.toml`: rule selection, severities, site policy, explicit hosts.

use crate::diag::Severity;
use crate::platform::Platform;
use crate::portset::PortSet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "pasvlint.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub hosts: Vec<HostConfig>,
    #[serde(default)]
    pub files: FilesConfig,
    #[serde(default)]
    pub limits: crate::limits::Limits,
    /// Where the file was read from; globs in `[[hosts]]` are relative to its directory.
    #[serde(skip)]
    pub root: Option<PathBuf>,
}

/// Which files a walk reads.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// Skip what `.gitignore`, `.ignore` and `.git/info/exclude` exclude, as `rg`
    /// does (default true; `--no-ignore` turns it off).
    pub respect_gitignore: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Rule names or categories to run (all when empty).
    #[serde(default)]
    pub select: Vec<String>,
    /// Rule names or categories to skip.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Per-rule severity overrides.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
}

/// Site policy values the host rules read.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Concurrent sessions every FTP server must carry (overrides the server's own limit).
    pub expected_sessions: Option<u32>,
    /// Passive ports one session needs at once (default 1).
    pub ports_per_session: Option<u32>,
    /// Passive ports must lie in this band, e.g. `"49152-65535"`.
    #[serde(default, deserialize_with = "de_portset")]
    pub allowed_passive_ports: Option<PortSet>,
    /// The control port every FTP server must listen on.
    pub control_port: Option<u16>,
    /// Honour `pasvlint: ignore` comments (default true; turn off for a strict gate).
    pub inline_suppressions: Option<bool>,
    /// The distribution every host runs unless its files or `[[hosts]]` say otherwise:
    /// `"debian-12"`, `"rhel-7"`, `"ubuntu-22.04"`.
    #[serde(default, deserialize_with = "de_platform")]
    pub platform: Option<Platform>,
}

impl Policy {
    pub fn ports_per_session(&self) -> u32 {
        self.ports_per_session.unwrap_or(1).max(1)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    pub name: String,
    /// Globs (relative to the config file's directory) of the host's files.
    pub files: Vec<String>,
    /// The distribution this host runs (wins over `[policy] platform` and its files).
    #[serde(default, deserialize_with = "de_platform")]
    pub platform: Option<Platform>,
}

fn de_platform<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Platform>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| {
        Platform::parse(&t).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{t}` is not a platform like \"debian-12\", \"ubuntu-22.04\", \"rhel-7\" (also centos, rocky, almalinux), \"fedora-39\", \"alpine-3.19\""
            ))
        })
    })
    .transpose()
}

fn de_portset<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PortSet>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| {
        PortSet::parse(&t).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{t}` is not a port list like \"49152-65535\" or \"21,5001-5201\""
            ))
        })
    })
    .transpose()
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Config, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(problem) = config.limits.problems().into_iter().next() {
            let key = problem.split_whitespace().nth(1).unwrap_or("");
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(String::new(), |i| format!("line {}: ", i + 1));
            return Err(format!("{line}{problem}"));
        }
        // `[[hosts]]` globs are matched against canonical paths below the root.
        config.root = path.parent().map(|dir| {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
        });
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text, path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Rule names and categories in `[rules]` must exist; `known` says which do.
    /// The error names the line of the TOML file that holds the bad name.
    pub fn check_rule_names(
        &self,
        text: &str,
        path: &Path,
        known: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let names = self
            .rules
            .select
            .iter()
            .chain(&self.rules.ignore)
            .chain(self.rules.severity.keys());
        for name in names {
            if known(name) {
                continue;
            }
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{name}\"")))
                .map_or(String::new(), |i| format!(":{}", i + 1));
            return Err(format!(
                "{}{line}: unknown rule or category `{name}` in [rules] (see `pasvlint rules`)",
                path.display()
            ));
        }
        Ok(())
    }

    /// The nearest `pasvlint.toml` from `start` upward.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(start).ok()?;
        start
            .ancestors()
            .map(|d| d.join(CONFIG_FILE))
            .find(|p| p.is_file())
    }
}
