//! `vsftpd-passive-range-invalid`: see rules/vsftpd-passive-range-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Outcome, Setting, Value, config_of, pasv_range, shown_short, trim_c_space};
use crate::source::SourceFile;

pub struct VsftpdPassiveRangeInvalid;

impl Rule for VsftpdPassiveRangeInvalid {
    fn name(&self) -> &'static str {
        "vsftpd-passive-range-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        let min = config.uint_value("pasv_min_port");
        let max = config.uint_value("pasv_max_port");
        let (Some(min_value), Some(max_value)) = (min.known(), max.known()) else {
            return;
        };
        let (lo, hi) = pasv_range(min_value, max_value);
        let source = &file.source;
        let uses = format!("vsftpd uses {lo}-{hi}");
        if let Value::Set(v, setting) = min {
            if v != 0 && v != u32::from(lo) {
                let (what, help) = if v < 1024 {
                    (
                        format!("is below 1024: {uses}"),
                        "set pasv_min_port=1024 or higher: vsftpd never hands out ports below 1024",
                    )
                } else {
                    (
                        format!("is above 65535: vsftpd ignores it (the minimum becomes 1024, not the default 5001) and uses {lo}-{hi}"),
                        "use ports from 1025 to 65535",
                    )
                };
                out.push(self.finding(setting, source, what, help.to_owned(), max.setting()));
            }
        }
        if let Value::Set(v, setting) = max {
            if v != 0 && v != u32::from(hi) {
                let (what, help) = if v > 65535 {
                    (
                        format!("is above 65535: vsftpd ignores it and uses {lo}-{hi}"),
                        "use ports from 1025 to 65535".to_owned(),
                    )
                } else {
                    let min_text = match min {
                        Value::Set(m, s) if m == u32::from(lo) => shown_setting(s, source),
                        Value::Set(..) => format!("pasv_min_port's effective {lo}"),
                        _ => format!("the default pasv_min_port={lo}"),
                    };
                    let help = match min {
                        Value::Set(m, _) if m > v && m <= 65535 => format!(
                            "swap the values: pasv_min_port={v} and pasv_max_port={m}"
                        ),
                        Value::Default(_) => format!(
                            "set pasv_min_port to the start of the band you meant: without it the minimum is {lo}"
                        ),
                        _ => "make pasv_max_port at least pasv_min_port".to_owned(),
                    };
                    (
                        format!("is below {min_text}: vsftpd ignores it and uses {lo}-{hi}"),
                        help,
                    )
                };
                let d = self.finding(setting, source, what, help, min.setting());
                out.push(match (min, swapped(min_value, v)) {
                    (Value::Set(_, min_line), true) => d.with_unsafe_fix(
                        format!("swap the values: pasv_min_port={v} and pasv_max_port={min_value}"),
                        vec![
                            (min_line.line, format!("pasv_min_port={v}")),
                            (setting.line, format!("pasv_max_port={min_value}")),
                        ],
                    ),
                    _ => d,
                });
            }
        }
    }
}

/// The ends were written the wrong way round, and vsftpd takes them swapped.
/// Unsafe: one of the two numbers may be the typo instead.
fn swapped(min: u32, max: u32) -> bool {
    min > max && max > 1024 && min <= 65535 && pasv_range(max, min) == (max as u16, min as u16)
}

impl VsftpdPassiveRangeInvalid {
    fn finding(
        &self,
        setting: &Setting,
        source: &SourceFile,
        what: String,
        help: String,
        other: Option<&Setting>,
    ) -> Diagnostic {
        let mut d = Diagnostic::new(
            self.name(),
            format!("{} {what}", shown_setting(setting, source)),
            setting.value.unwrap_or(setting.line),
            "ignored by vsftpd",
        )
        .with_help(help);
        if let Some(other) = other {
            d = d.with_related(other.line, "the other end of the range");
        }
        d
    }
}

/// `pasv_min_port=050000 (read as 20480)`: the line as written, and the number
/// vsftpd makes of it when that differs.
fn shown_setting(setting: &Setting, source: &SourceFile) -> String {
    let text = trim_c_space(setting.value_text(source).unwrap_or(""));
    let read = match setting.outcome {
        Outcome::Uint(n) if n.to_string() != text => {
            format!(" (read as {n})")
        }
        _ => String::new(),
    };
    format!("{}={}{read}", setting.name, shown_short(text))
}
