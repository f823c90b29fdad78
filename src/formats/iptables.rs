//! iptables-save dumps and iptables shell scripts. (Stub: replaced by the real parser.)

use super::Format;
use crate::facts::Firewall;
use crate::source::SourceFile;
use std::path::Path;

#[derive(Debug, Default)]
pub struct Ruleset {}

pub fn sniff(_path: &Path, text: &str) -> Option<Format> {
    text.lines()
        .any(|l| l == "*filter")
        .then_some(Format::IptablesSave)
}

pub fn parse_save(_source: &SourceFile) -> Ruleset {
    Ruleset::default()
}

pub fn parse_script(_source: &SourceFile) -> Ruleset {
    Ruleset::default()
}

pub fn facts(_ruleset: &Ruleset, _source: &SourceFile) -> Option<Firewall> {
    None
}
