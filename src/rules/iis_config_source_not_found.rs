//! `iis-config-source-not-found`: see rules/iis-config-source-not-found.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::iis_apphost::apphost_of;
use crate::formats::iis_config_source::{ConfigSource, State};

pub struct IisConfigSourceNotFound;

impl Rule for IisConfigSourceNotFound {
    fn name(&self) -> &'static str {
        "iis-config-source-not-found"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(doc) = apphost_of(file) else {
            return;
        };
        out.extend(doc.config_sources.iter().filter_map(|c| self.finding(c)));
    }
}

impl IisConfigSourceNotFound {
    fn finding(&self, c: &ConfigSource) -> Option<Diagnostic> {
        let file = &c.attr.value;
        let section = &c.section;
        let (message, label) = match &c.state {
            State::Read(_) => return None,
            State::Missing { .. } => (
                format!(
                    "<{section} configSource=\"{file}\">: {file} is not beside applicationHost.config, so the section's settings are not known (IIS refuses a configuration whose configSource file is missing)"
                ),
                "no such file",
            ),
            State::NotRead(why) => (
                format!(
                    "<{section} configSource=\"{file}\">: {file} is not read ({why}), so the section's settings are not known"
                ),
                "not read",
            ),
        };
        Some(
            Diagnostic::new(self.name(), message, c.attr.value_span, label).with_help(format!(
                "add {file} beside applicationHost.config, holding the <{section}> element, or move the section's settings back into applicationHost.config"
            )),
        )
    }
}
