//! `vsftpd-duplicate-directive`: see rules/vsftpd-duplicate-directive.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Outcome, Setting, config_of, shown_short, trim_c_space};
use crate::source::SourceFile;
use std::collections::BTreeMap;

pub struct VsftpdDuplicateDirective;

impl Rule for VsftpdDuplicateDirective {
    fn name(&self) -> &'static str {
        "vsftpd-duplicate-directive"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        let mut by_name: BTreeMap<&str, Vec<&Setting>> = BTreeMap::new();
        for setting in config.settings.iter().filter(|s| s.takes_effect()) {
            by_name.entry(&setting.name).or_default().push(setting);
        }
        for settings in by_name.values() {
            // Every value unknown (templated, or under a template's `{% if %}`):
            // neither the values nor that the lines are all there is known.
            if settings.iter().all(|s| s.outcome == Outcome::Templated) {
                continue;
            }
            if let [earlier @ .., last] = settings.as_slice() {
                if !earlier.is_empty() {
                    out.push(self.finding(earlier, last, &file.source));
                }
            }
        }
    }
}

impl VsftpdDuplicateDirective {
    fn finding(&self, earlier: &[&Setting], last: &Setting, source: &SourceFile) -> Diagnostic {
        let shown = |s: &Setting| {
            format!(
                "{}={}",
                s.name,
                shown_short(trim_c_space(s.value_text(source).unwrap_or("")))
            )
        };
        let same = earlier.iter().all(|s| s.outcome == last.outcome);
        let times = earlier.len() + 1;
        let message = if same {
            format!(
                "`{}` is set {times} times, all to the same value: vsftpd uses the last one",
                last.name
            )
        } else {
            let lines: Vec<String> = earlier
                .iter()
                .map(|s| format!("`{}` on line {}", shown(s), source.line_col(s.line.start).0))
                .collect();
            format!(
                "`{}` is set {times} times: vsftpd uses the last one, `{}`, and ignores {}",
                last.name,
                shown(last),
                lines.join(", ")
            )
        };
        let mut d = Diagnostic::new(self.name(), message, last.line, "this one wins");
        for s in earlier {
            d = d.with_related(s.line, "overridden");
        }
        let help = if same {
            format!("delete the repeated `{}` lines", last.name)
        } else {
            format!(
                "keep one `{}` line with the value you mean and delete the others",
                last.name
            )
        };
        let d = d.with_help(help);
        let edits = earlier.iter().map(|s| (whole_line(s, source), String::new())).collect();
        let title = format!("delete the overridden `{}` lines", last.name);
        // Deleting what vsftpd ignores changes nothing it does; where the values
        // differ, which one was meant is the author's call.
        if same {
            d.with_fix(title, edits)
        } else {
            d.with_unsafe_fix(title, edits)
        }
    }
}

/// A setting's line with its line ending.
fn whole_line(setting: &Setting, source: &SourceFile) -> crate::source::Span {
    let start = setting.line.start as usize;
    let end = source.text[start..]
        .find('\n')
        .map_or(source.text.len(), |i| start + i + 1);
    source.span(start, end)
}
