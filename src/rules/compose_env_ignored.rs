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
                let d = Diagnostic::new(
                    self.name(),
                    format!(
                        "{} never reads {}: its entrypoint reads {right}, so this setting has no effect (source: {})",
                        image.name, var.name, image.source
                    ),
                    var.name_span,
                    format!("{} ignores this", image.name),
                )
                .with_help(format!("rename it to {right}"));
                // Only a name written as it is read (an env file's line is not
                // this file's text).
                let written = var.name_span.file == file.source.id
                    && file.source.text.get(var.name_span.range()) == Some(var.name.as_str());
                if written {
                    out.push(d.with_fix(
                        format!("rename it to {right}"),
                        vec![(var.name_span, right.to_owned())],
                    ));
                } else {
                    out.push(d);
                }
            }
        }
    }
}
