//! PowerShell scripts (stub, filled in below).
use super::Effects;
use crate::source::SourceFile;

pub fn run(_source: &SourceFile, _fx: &mut Effects) {}
