//! `pure-ftpd.conf` as the daemon's simpleconf parser reads it: one option a
//! line, `Name value` (or `Name=value`, `Name:value`), names in any case, `#`
//! only at the start of a line, blank lines skipped. A name it does not know
//! stops it ("property not found line N"), a value its pattern refuses too
//! ("syntax error line N"); both measured with Debian's 1.0.50.

use super::options::{self, ConfValue, OptionSpec};
use super::{Config, Finding, FindingKind, Flag, Layout};
use crate::source::{SourceFile, Span};

pub fn parse(source: &SourceFile) -> Config {
    let mut config = Config {
        layout: Layout::ConfFile,
        flags: Vec::new(),
        findings: Vec::new(),
    };
    let text = source.text.as_str();
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        line_entry(source, &mut config, line, start, index + 1);
    }
    config
}

fn line_entry(source: &SourceFile, config: &mut Config, line: &str, start: usize, number: usize) {
    let body = line.trim_start_matches(is_c_space);
    if body.is_empty() || body.starts_with('#') {
        return;
    }
    let at = start + (line.len() - body.len());
    let setting = source.span(at, start + line.trim_end_matches(is_c_space).len());
    let name_len = body
        .find(|c: char| is_c_space(c) || c == '=' || c == ':')
        .unwrap_or(body.len());
    let name = &body[..name_len];
    if name.eq_ignore_ascii_case("Include") {
        return;
    }
    let Some(spec) = options::conf_option(name) else {
        config.findings.push(unknown(setting, name, number));
        return;
    };
    let rest = &body[name_len..];
    let separator = usize::from(rest.starts_with(['=', ':']));
    let after = &rest[separator..];
    let trimmed = after.trim_start_matches(is_c_space);
    let value = trimmed.trim_end_matches(is_c_space);
    let value_at = at + name_len + separator + (after.len() - trimmed.len());
    let value_span = source.span(value_at, value_at + value.len());
    let separated = rest.starts_with(|c: char| is_c_space(c) || c == '=' || c == ':');
    match converted(spec, value).filter(|_| separated) {
        Some(Some(arg)) => config
            .flags
            .push(flag(spec, arg, value_span, setting, body)),
        Some(None) => {}
        None => config.findings.push(syntax_error(
            spec,
            non_empty(value_span, setting),
            body,
            number,
        )),
    }
}

fn flag(spec: &OptionSpec, arg: Option<String>, span: Span, setting: Span, body: &str) -> Flag {
    Flag {
        flag: spec.flag.unwrap_or('l'),
        arg,
        span: if span.is_empty() { setting } else { span },
        setting,
        written: body.trim_end_matches(is_c_space).to_owned(),
    }
}

/// The flag's argument the daemon builds from `value`: `Some(Some(Some(arg)))`
/// for a flag with an argument, `Some(Some(None))` for a boolean that is on,
/// `Some(None)` for a boolean that is off, `None` when the pattern refuses it.
#[allow(clippy::option_option)]
fn converted(spec: &OptionSpec, value: &str) -> Option<Option<Option<String>>> {
    let words: Vec<&str> = value.split(is_c_space).filter(|w| !w.is_empty()).collect();
    let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let arg = |s: String| Some(Some(Some(s)));
    match spec.conf {
        ConfValue::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" | "1" => Some(Some(None)),
            "no" | "off" | "false" | "0" => Some(None),
            _ => None,
        },
        ConfValue::Digits => (words.len() == 1 && digits(words[0])).then(|| arg(value.into()))?,
        ConfValue::TwoDigits => (words.len() == 2 && words.iter().all(|w| digits(w)))
            .then(|| arg(format!("{}:{}", words[0], words[1])))?,
        ConfValue::OneOrTwoDigits => match words.as_slice() {
            [one] if digits(one) => arg((*one).into()),
            [a, b] if digits(a) && digits(b) => arg(format!("{a}:{b}")),
            _ => None,
        },
        ConfValue::DigitsColonDigits => {
            let (a, b) = value.split_once(':')?;
            (digits(a) && digits(b)).then(|| arg(value.into()))?
        }
        ConfValue::NoSpace => (words.len() == 1).then(|| arg(value.into()))?,
        ConfValue::Alnum => (words.len() == 1 && value.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| arg(value.into()))?,
        ConfValue::Any => (!value.is_empty()).then(|| arg(value.into()))?,
        ConfValue::Absent => None,
    }
}

fn unknown(setting: Span, name: &str, number: usize) -> Finding {
    let help = match options::spelled_differently(name).or_else(|| closest(name)) {
        Some(o) => format!("did you mean `{}`? otherwise delete the line", o.name),
        None => "delete the line: pure-ftpd knows no such option".to_owned(),
    };
    Finding {
        kind: FindingKind::Invalid,
        span: setting,
        label: "unknown to pure-ftpd",
        message: format!(
            "pure-ftpd does not know `{name}` and refuses to start (\"property not found line {number}\")"
        ),
        help,
    }
}

fn closest(name: &str) -> Option<&'static OptionSpec> {
    let lower = name.to_ascii_lowercase();
    options::OPTIONS.iter().find(|o| {
        o.conf != ConfValue::Absent && {
            let n = o.name.to_ascii_lowercase();
            lower.len() > 4 && (n.starts_with(&lower) || lower.starts_with(&n))
        }
    })
}

fn syntax_error(spec: &OptionSpec, span: Span, body: &str, number: usize) -> Finding {
    let kind = if spec.name == "PassivePortRange" {
        FindingKind::RangeInvalid
    } else {
        FindingKind::Invalid
    };
    Finding {
        kind,
        span,
        label: "pure-ftpd cannot read this value",
        message: format!(
            "`{}` is not {}: pure-ftpd refuses to start (\"syntax error line {number}\")",
            body.trim_end_matches(is_c_space),
            expected(spec.conf)
        ),
        help: format!("write `{} {}`", spec.name, example(spec)),
    }
}

fn expected(value: ConfValue) -> &'static str {
    match value {
        ConfValue::Bool => "`Name yes` or `Name no`",
        ConfValue::Digits => "one number",
        ConfValue::TwoDigits => "two numbers separated by blanks",
        ConfValue::OneOrTwoDigits => "one or two numbers separated by blanks",
        ConfValue::DigitsColonDigits => "two numbers separated by `:`",
        ConfValue::NoSpace => "one word without blanks",
        ConfValue::Alnum => "one word of letters and digits",
        ConfValue::Any | ConfValue::Absent => "a value",
    }
}

fn example(spec: &OptionSpec) -> &'static str {
    match (spec.name, spec.conf) {
        ("PassivePortRange", _) => {
            "30000 30099 (first and last port, separated by a blank; no `:` or `-`)"
        }
        ("Bind", _) => "198.51.100.5,21 (address,port; or ,21 for every address)",
        (_, ConfValue::Bool) => "yes",
        (_, ConfValue::Digits) => "50",
        (_, ConfValue::TwoDigits | ConfValue::OneOrTwoDigits) => "10 20",
        (_, ConfValue::DigitsColonDigits) => "133:022",
        _ => "value",
    }
}

/// C `isspace` (simpleconf skips these around names and values).
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// The value's span, or the whole setting when the value is empty.
fn non_empty(value: Span, setting: Span) -> Span {
    if value.is_empty() { setting } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn read(text: &str) -> Config {
        let source = SourceFile::new(FileId(0), "etc/pure-ftpd.conf", text.as_bytes());
        parse(&source)
    }

    #[test]
    fn options_become_the_daemons_flags() {
        let c = read(
            "# x\nPassivePortRange  30000 30009\nmaxclientsnumber=5\nIPV4Only yes\nNoAnonymous no\nBind ,2121\n",
        );
        let flags: Vec<(char, Option<&str>)> =
            c.flags.iter().map(|f| (f.flag, f.arg.as_deref())).collect();
        assert_eq!(
            flags,
            [
                ('p', Some("30000:30009")),
                ('c', Some("5")),
                ('4', None),
                ('S', Some(",2121"))
            ]
        );
        assert!(c.findings.is_empty(), "{:?}", c.findings);
    }

    #[test]
    fn what_the_daemon_refuses() {
        let c = read(
            "Foo yes\nPassivePortRange 30000:30009\nIPV4Only maybe\nMaxClientsNumber 5 # five\n",
        );
        let kinds: Vec<FindingKind> = c.findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FindingKind::Invalid,
                FindingKind::RangeInvalid,
                FindingKind::Invalid,
                FindingKind::Invalid
            ]
        );
        assert!(c.findings[0].message.contains("property not found line 1"));
        assert!(c.findings[1].message.contains("syntax error line 2"));
    }
}
