//! One file of Debian's `/etc/pure-ftpd/conf/`, read as `pure-ftpd-wrapper`
//! (Debian 1.0.50-2.1) reads it: the file's name is the option; files whose
//! name is not a letter then letters and digits are skipped; a name the wrapper
//! does not know stops it ("No corresponding directive"); blank lines and lines
//! starting with `#` (after blanks) are skipped; the first line that yields a
//! flag is the value, later lines are never read; a value its parser refuses
//! stops the wrapper ("Invalid configuration file ...").

use super::conf::is_c_space;
use super::options::{self, OptionSpec, WrapperValue};
use super::{Config, Finding, FindingKind, Flag, Layout};
use crate::source::{SourceFile, Span};

pub fn parse(source: &SourceFile) -> Config {
    let mut config = Config {
        layout: Layout::OptionFile,
        flags: Vec::new(),
        findings: Vec::new(),
    };
    let name = option_name(source);
    let whole = source.span(
        0,
        source
            .text
            .len()
            .min(source.text.find('\n').unwrap_or(source.text.len())),
    );
    if !wrapper_reads(&name) {
        config.findings.push(skipped(whole, &name));
        return config;
    }
    let Some(spec) = options::wrapper_option(&name) else {
        config.findings.push(unknown(whole, &name));
        return config;
    };
    if spec.wrapper == WrapperValue::Auth {
        return config;
    }
    let mut lines = value_lines(source);
    for (span, line) in lines.by_ref() {
        match converted(spec, line) {
            Ok(Some(arg)) => {
                config.flags.push(Flag {
                    flag: spec.flag.unwrap_or('l'),
                    arg,
                    span,
                    setting: span,
                    written: format!("{} {line}", spec.name),
                });
                break;
            }
            Ok(None) => {}
            Err(why) => {
                config.findings.push(refused(spec, span, &name, &why));
                return config;
            }
        }
    }
    for (span, line) in lines {
        config.findings.push(Finding {
            kind: FindingKind::Ignored,
            span,
            label: "never read",
            message: format!("`{line}` is never read: pure-ftpd-wrapper takes only the first value line of conf/{name}"),
            help: "keep one value per file; delete this line".to_owned(),
        });
    }
    config
}

/// The option a file stands for: its name.
pub fn option_name(source: &SourceFile) -> String {
    source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The wrapper's `next unless /^[A-Za-z][A-Za-z0-9]+$/`.
pub fn wrapper_reads(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric())
}

/// The lines the wrapper reads: not blank, trimmed, not starting with `#`.
fn value_lines(source: &SourceFile) -> impl Iterator<Item = (Span, &str)> {
    let text = source.text.as_str();
    let mut offset = 0;
    text.split_inclusive('\n').filter_map(move |raw| {
        let start = offset;
        offset += raw.len();
        let trimmed = raw.trim_start_matches(is_c_space);
        let line = trimmed.trim_end_matches(is_c_space);
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let at = start + raw.len() - trimmed.len();
        Some((source.span(at, at + line.len()), line))
    })
}

/// The flag's argument the wrapper builds (`Ok(None)`: nothing, as for `no`),
/// or the wrapper's complaint.
fn converted(spec: &OptionSpec, line: &str) -> Result<Option<Option<String>>, String> {
    let numbers: Vec<&str> = line.split(is_c_space).filter(|w| !w.is_empty()).collect();
    let all_digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let decimal = |w: &str| w.trim_start_matches('0').to_owned();
    let number = |w: &str| {
        let d = decimal(w);
        if d.is_empty() { "0".to_owned() } else { d }
    };
    match spec.wrapper {
        WrapperValue::YesNo => match line.to_ascii_lowercase().as_str() {
            "yes" | "1" | "on" => Ok(Some(None)),
            "no" | "0" | "off" => Ok(None),
            _ => Err(format!("\"{line}\" not convertible to true or false")),
        },
        WrapperValue::Number if all_digits(line) => Ok(Some(Some(number(line)))),
        WrapperValue::Number => Err(format!("\"{line}\" not a number")),
        WrapperValue::TwoNumbers | WrapperValue::TwoNumbersUnlimited => match numbers.as_slice() {
            [a, b] if all_digits(a) && all_digits(b) => {
                Ok(Some(Some(format!("{}:{}", number(a), number(b)))))
            }
            _ => Err(format!("\"{line}\" not two numbers")),
        },
        WrapperValue::OneOrTwoNumbers => Ok(Some(Some(line.replace(is_c_space, ":")))),
        WrapperValue::String | WrapperValue::Filename if numbers.len() == 1 => {
            Ok(Some(Some(line.to_owned())))
        }
        WrapperValue::String | WrapperValue::Filename => {
            Err(format!("\"{line}\" contains whitespace"))
        }
        WrapperValue::Word if line.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            Ok(Some(Some(line.to_owned())))
        }
        WrapperValue::Word => Err(format!("\"{line}\" contains non-word characters")),
        WrapperValue::Ip if is_dotted_quad(line) => Ok(Some(Some(line.to_owned()))),
        WrapperValue::Ip => Err(format!("\"{line}\": Invalid IP address")),
        WrapperValue::Umask => Ok(Some(Some(line.replace(is_c_space, ":")))),
        WrapperValue::Skip | WrapperValue::Auth | WrapperValue::Absent => Ok(None),
    }
}

fn is_dotted_quad(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n < 256)
        })
}

fn skipped(span: Span, name: &str) -> Finding {
    let meant = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|part| options::wrapper_option(part).is_some());
    let help = match meant {
        Some(option) => {
            format!("rename the file to conf/{option} (the option's exact name, nothing after it)")
        }
        None => {
            "delete the file, or name it after an option (`PassivePortRange`, `MaxClientsNumber`)"
                .to_owned()
        }
    };
    Finding {
        kind: FindingKind::Ignored,
        span,
        label: "skipped by pure-ftpd-wrapper",
        message: format!(
            "conf/{name} is never read: pure-ftpd-wrapper skips files whose name is not letters and digits"
        ),
        help,
    }
}

fn unknown(span: Span, name: &str) -> Finding {
    let help = match options::spelled_differently(name) {
        Some(o) => format!(
            "rename the file to conf/{} (the wrapper matches names exactly)",
            o.name
        ),
        None => "delete the file: every file in conf/ must be named after an option".to_owned(),
    };
    Finding {
        kind: FindingKind::Invalid,
        span,
        label: "no such option",
        message: format!(
            "pure-ftpd-wrapper does not know conf/{name} and refuses to start pure-ftpd (\"No corresponding directive\")"
        ),
        help,
    }
}

fn refused(spec: &OptionSpec, span: Span, name: &str, why: &str) -> Finding {
    let range = spec.name == "PassivePortRange";
    let help = match spec.wrapper {
        _ if range => {
            "write the first and last port separated by a blank, e.g. `29799 29899` (no `:` or `-`)"
                .to_owned()
        }
        WrapperValue::YesNo => "write `yes` or `no`".to_owned(),
        WrapperValue::Number => "write one number".to_owned(),
        WrapperValue::TwoNumbers | WrapperValue::TwoNumbersUnlimited => {
            "write two numbers separated by a blank".to_owned()
        }
        WrapperValue::Ip => "write a dotted IPv4 address".to_owned(),
        _ => "write one word without blanks".to_owned(),
    };
    Finding {
        kind: if range {
            FindingKind::RangeInvalid
        } else {
            FindingKind::Invalid
        },
        span,
        label: "refused by pure-ftpd-wrapper",
        message: format!(
            "pure-ftpd-wrapper refuses conf/{name} and does not start pure-ftpd: {why}"
        ),
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn read(name: &str, text: &str) -> Config {
        let path = format!("etc/pure-ftpd/conf/{name}");
        super::super::parse(
            &SourceFile::new(FileId(0), path, text.as_bytes()),
            Layout::OptionFile,
        )
    }

    #[test]
    fn the_first_value_line_is_the_flag() {
        let c = read(
            "PassivePortRange",
            "# range\n\n  29799   29899 \n30000 30009\n",
        );
        assert_eq!(c.flags.len(), 1);
        assert_eq!(c.flags[0].arg.as_deref(), Some("29799:29899"));
        assert_eq!(c.findings.len(), 1);
        assert_eq!(c.findings[0].kind, FindingKind::Ignored);
    }

    #[test]
    fn a_no_line_lets_the_next_line_count() {
        let c = read("IPV4Only", "no\nyes\n");
        assert_eq!(
            c.flags.len(),
            1,
            "parse_yesno gives '' for no, and the loop goes on"
        );
    }

    #[test]
    fn what_the_wrapper_refuses_or_skips() {
        let colon = read("PassivePortRange", "29799:29899\n");
        assert_eq!(colon.findings[0].kind, FindingKind::RangeInvalid);
        assert!(colon.findings[0].message.contains("not two numbers"));
        let case = read("passiveportrange", "29799 29899\n");
        assert_eq!(case.findings[0].kind, FindingKind::Invalid);
        assert!(case.findings[0].help.contains("conf/PassivePortRange"));
        let backup = read("PassivePortRange.bak", "29799 29899\n");
        assert_eq!(backup.findings[0].kind, FindingKind::Ignored);
        assert!(backup.flags.is_empty());
        assert!(
            read("PureDB", "/etc/pure-ftpd/pureftpd.pdb\n")
                .findings
                .is_empty()
        );
    }
}
