//! `compose-env-ignored`: see rules/compose-env-ignored.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::compose::{EnvVar, images};
use crate::formats::{ParsedFile, image_containers};

pub struct ComposeEnvIgnored;

impl Rule for ComposeEnvIgnored {
    fn name(&self) -> &'static str {
        "compose-env-ignored"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        for c in image_containers(&file.doc) {
            if let Some(image) = images::lookup(c.image) {
                self.check_env(file, image, c.env, out);
            }
        }
    }
}

/// The variable of that name the container sets last.
fn set<'e>(env: &'e [EnvVar], name: &str) -> Option<&'e EnvVar> {
    env.iter().rev().find(|e| e.name == name)
}

impl ComposeEnvIgnored {
    fn check_env(&self, file: &ParsedFile, image: &images::Image, env: &[EnvVar], out: &mut Vec<Diagnostic>) {
        for var in env {
            if let Some(range) = images::fixed_range_ignores(image, &var.name) {
                out.push(self.fixed_range(image, var, range));
                continue;
            }
            // Set under its right name too: the look-alike is only noise.
            let Some(right) = images::meant(image, &var.name) else {
                continue;
            };
            if set(env, right).is_some() {
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

    fn fixed_range(&self, image: &images::Image, var: &EnvVar, (lo, hi): (u16, u16)) -> Diagnostic {
        let conf = image.config.map_or("its config", |c| c.path);
        Diagnostic::new(
            self.name(),
            format!(
                "{} never reads {}: its passive range is fixed at {lo}-{hi} by the {conf} in the image, so this setting has no effect (source: {})",
                image.name, var.name, image.source
            ),
            var.name_span,
            format!("{} ignores this", image.name),
        )
        .with_help(format!(
            "remove it and publish {lo}-{hi}, or mount a config of your own over {conf} that sets the range you want"
        ))
    }
}
