//! `vsftpd-bad-number`: see rules/vsftpd-bad-number.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::directives::{self, Default};
use crate::formats::vsftpd::{
    Config, Outcome, Setting, config_of, pasv_range, read_number, shown_short, trim_c_space,
};

pub struct VsftpdBadNumber;

/// Permission bits: octal is what the man page asks for.
const MODE_DIRECTIVES: &[&str] = &["local_umask", "anon_umask", "file_open_mode", "chown_upload_mode"];

impl Rule for VsftpdBadNumber {
    fn name(&self) -> &'static str {
        "vsftpd-bad-number"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        for setting in &config.settings {
            let (Outcome::Uint(n), Some(value)) = (&setting.outcome, setting.value_text(&file.source)) else {
                continue;
            };
            let Some(problem) = misread(&setting.name, value) else {
                continue;
            };
            let effect = effect(setting, config);
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "`{}={}` {}{effect}",
                    setting.name,
                    shown_short(value.trim_end_matches('\r')),
                    problem.what
                ),
                setting.value.unwrap_or(setting.line),
                format!("vsftpd reads {n}"),
            )
            .with_help(problem.help);
            if let (Some(meant), Some(span)) = (&problem.meant, setting.value) {
                // Whatever follows the number (a CR of a CRLF file) stays.
                let kept = &value[value.trim_end().len()..];
                d = d.with_fix(
                    format!("write {}={meant}", setting.name),
                    vec![(span, format!("{meant}{kept}"))],
                );
            }
            out.push(d);
        }
    }
}

struct Misread {
    /// Completes "`name=value` ...": the cause and the number vsftpd uses.
    what: String,
    help: String,
    /// The value that says what was meant, where that is clear.
    meant: Option<String>,
}

fn misread(name: &str, value: &str) -> Option<Misread> {
    let r = read_number(value);
    let n = r.value;
    let mode = MODE_DIRECTIVES.contains(&name);
    let port = matches!(name, "listen_port" | "ftp_data_port" | "pasv_min_port" | "pasv_max_port");
    let plain = if port {
        "write a port number from 1 to 65535".to_owned()
    } else {
        format!("write a plain decimal number{}", default_example(name))
    };
    let misread = |what: String, help: String| {
        Some(Misread {
            what,
            help,
            meant: None,
        })
    };
    let meant = |what: String, help: String, value: String| {
        Some(Misread {
            what,
            help,
            meant: Some(value),
        })
    };
    let trimmed = trim_c_space(value);
    if trimmed.starts_with("0x") || trimmed.starts_with("0X") {
        return misread(
            format!("is hexadecimal, which vsftpd does not read: it sees octal `0` and uses {n}"),
            plain,
        );
    }
    let Some(written) = r.written else {
        return misread(format!("is not a number: vsftpd uses {n}"), plain);
    };
    if r.octal && !mode && i128::from(n) != written {
        let stop = r
            .ignored
            .chars()
            .next()
            .filter(char::is_ascii_digit)
            .map(|c| format!(" up to `{c}`"))
            .unwrap_or_default();
        return meant(
            format!("starts with 0, so vsftpd reads it as octal{stop}: {n}"),
            format!("write `{name}={}` without the leading zero", written),
            written.to_string(),
        );
    }
    if mode && !r.octal && written >= 8 {
        return misread(
            format!("has no leading 0, so vsftpd reads decimal {n}, which is octal 0{n:o}"),
            format!("write `{name}=0{written}` if you meant octal {written}"),
        );
    }
    if !r.octal && written != i128::from(n) {
        let why = if written < 0 {
            "is negative"
        } else {
            "does not fit in 32 bits"
        };
        return misread(format!("{why}: vsftpd reads it as {n}"), plain);
    }
    if !r.ignored.is_empty() && !r.ignored.starts_with('#') {
        let help = scientific(trimmed)
            .map(|v| format!("write `{name}={v}`"))
            .unwrap_or(plain);
        return misread(
            format!("is not a plain number: vsftpd uses {n} and ignores `{}`", shown_short(&r.ignored)),
            help,
        );
    }
    match name {
        "listen_port" | "ftp_data_port" if n > 65535 => misread(
            format!("is above 65535: vsftpd uses port {} ({n} modulo 65536)", n as u16),
            plain,
        ),
        "listen_port" if n == 0 => misread(
            "lets the kernel pick a random port to listen on".to_owned(),
            "write `listen_port=21`, or the port your firewall opens".to_owned(),
        ),
        _ => None,
    }
}

/// What a misread passive port does to the range vsftpd hands out.
fn effect(setting: &Setting, config: &Config) -> String {
    if !matches!(setting.name.as_str(), "pasv_min_port" | "pasv_max_port") {
        return String::new();
    }
    let min = config.uint_value("pasv_min_port").known();
    let max = config.uint_value("pasv_max_port").known();
    match min.zip(max) {
        Some((min, max)) => {
            let (lo, hi) = pasv_range(min, max);
            format!("; passive mode uses ports {lo}-{hi}")
        }
        None => String::new(),
    }
}

fn default_example(name: &str) -> String {
    match directives::lookup(name).map(|d| d.default) {
        Some(Default::Uint(n)) => format!(" (the default is {n})"),
        _ => String::new(),
    }
}

/// `5e4` → 50000: what a number written in scientific notation meant.
fn scientific(text: &str) -> Option<u32> {
    let v: f64 = text.parse().ok()?;
    (v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v)).then_some(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(name: &str, value: &str) -> Option<String> {
        misread(name, value).map(|m| m.what)
    }

    #[test]
    fn says_what_vsftpd_really_uses() {
        assert_eq!(what("pasv_min_port", "abc").unwrap(), "is not a number: vsftpd uses 0");
        assert!(what("pasv_min_port", "5e4").unwrap().contains("uses 5 and ignores `e4`"));
        assert!(what("pasv_min_port", "050000").unwrap().ends_with("octal: 20480"));
        assert!(what("pasv_min_port", "09").unwrap().ends_with("octal up to `9`: 0"));
        assert!(what("pasv_min_port", "-1").unwrap().contains("4294967295"));
        assert!(what("listen_port", "70000").unwrap().contains("port 4464"));
        assert!(what("listen_port", "0x15").unwrap().contains("hexadecimal"));
        assert!(what("local_umask", "22").unwrap().contains("octal 026"));
        assert_eq!(misread("max_clients", "5e4").unwrap().help, "write `max_clients=50000`");
    }

    #[test]
    fn leaves_numbers_vsftpd_reads_as_written() {
        for (name, value) in [
            ("listen_port", "21"),
            ("listen_port", " 21"),
            ("pasv_min_port", "50000\r"),
            ("pasv_min_port", "+50000"),
            ("pasv_max_port", "50010 # end of the band"),
            ("local_umask", "022"),
            ("local_umask", "7"),
            ("max_clients", "0"),
            ("pasv_min_port", "00"),
        ] {
            assert_eq!(what(name, value), None, "{name}={value}");
        }
    }
}
