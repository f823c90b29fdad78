//! `compose-env-ignored`: see rules/compose-env-ignored.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::compose::images;
use crate::formats::{Document, ParsedFile};

pub struct ComposeEnvIgnored;

impl Rule for ComposeEnvIgnored {
    fn name(&self) -> &'static str {
        "compose-env-ignored"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Compose(doc) = &file.doc else {
            return;
        };
        for service in &doc.services {
            let Some(image) = service.image.as_ref().and_then(|(r, _)| images::lookup(r)) else {
                continue;
            };
            for var in &service.env {
                // Set under its right name too: the look-alike is only noise.
                let Some(right) = images::meant(image, &var.name) else {
                    continue;
                };
                if service.env(right).is_some() {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        self.name(),
                        format!(
                            "{} never reads {}: its entrypoint reads {right}, so this setting has no effect (source: {})",
                            image.name, var.name, image.source
                        ),
                        var.name_span,
                        format!("{} ignores this", image.name),
                    )
                    .with_help(format!("rename it to {right}")),
                );
            }
        }
    }
}
