//! `vsftpd-passive-command-refused`: see rules/vsftpd-passive-command-refused.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{Families, Passive};
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{HalfRefused, config_of, half_refused, is_per_user_file};
use crate::source::SourceFile;

pub struct VsftpdPassiveCommandRefused;

impl Rule for VsftpdPassiveCommandRefused {
    fn name(&self) -> &'static str {
        "vsftpd-passive-command-refused"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        // The listener and the range are the main config's.
        if is_per_user_file(&file.source.path) {
            return;
        }
        let Some(refused) = half_refused(config) else {
            return;
        };
        let families = refused.families.value;
        let diagnostic = match refused.command {
            // A listener that takes only IPv6 gets no PASV anyway.
            "PASV" if families != Some(Families::Ipv6) => self.pasv_refused(&refused),
            // Over IPv4, clients ask PASV (lftp, ftplib) or fall back to it (curl).
            "EPSV" if matches!(families, Some(Families::Both | Families::Ipv6)) => {
                self.epsv_refused(&refused)
            }
            _ => return,
        };
        out.push(with_fix(diagnostic, &refused, &file.source));
    }
}

impl VsftpdPassiveCommandRefused {
    fn pasv_refused(&self, refused: &HalfRefused) -> Diagnostic {
        Diagnostic::new(
            self.name(),
            format!(
                "vsftpd answers PASV with `550 Permission denied.` ({}): IPv4 clients that ask PASV (lftp, Python's ftplib) get no passive connection to {}; only clients that send EPSV first (curl) do",
                why(refused),
                ports(&refused.passive)
            ),
            refused.setting.line,
            "refuses PASV",
        )
        .with_help(format!(
            "let PASV through: {}; to serve active mode only, set pasv_enable=NO instead",
            remedy(refused)
        ))
    }

    fn epsv_refused(&self, refused: &HalfRefused) -> Diagnostic {
        let diagnostic = Diagnostic::new(
            self.name(),
            format!(
                "vsftpd answers EPSV with `550 Permission denied.` ({}) while it listens for IPv6 clients: they cannot use PASV, which carries only an IPv4 address, so lftp, curl and Python's ftplib over IPv6 get no passive connection to {}",
                why(refused),
                ports(&refused.passive)
            ),
            refused.setting.line,
            "refuses EPSV",
        )
        .with_help(format!(
            "let EPSV through: {}; or listen on IPv4 only (listen=YES, listen_ipv6=NO)",
            remedy(refused)
        ));
        match refused.families.span {
            Some(span) => diagnostic.with_related(span, "IPv6 listener"),
            None => diagnostic,
        }
    }
}

fn why(refused: &HalfRefused) -> String {
    if refused.setting.name == "cmds_allowed" {
        format!("`cmds_allowed` does not list {}", refused.command)
    } else {
        format!("`cmds_denied` lists {}", refused.command)
    }
}

fn remedy(refused: &HalfRefused) -> String {
    if refused.setting.name == "cmds_allowed" {
        format!("add {} to cmds_allowed", refused.command)
    } else {
        format!("remove {} from cmds_denied", refused.command)
    }
}

fn ports(passive: &Passive) -> String {
    match passive {
        Passive::Enabled { ports, .. } => format!("ports {}", ports.summary(6)),
        _ => "its passive ports".to_owned(),
    }
}

/// Unsafe: the list was written on purpose, and the author may have meant the
/// other command to go too.
fn with_fix(diagnostic: Diagnostic, refused: &HalfRefused, source: &SourceFile) -> Diagnostic {
    let Some(value) = refused.setting.value else {
        return diagnostic;
    };
    let list = source.slice(value);
    let command = refused.command;
    let (title, new) = if refused.setting.name == "cmds_allowed" {
        (
            format!("add {command} to cmds_allowed"),
            // First, so an empty entry further on cannot hide it.
            format!("{command},{list}"),
        )
    } else {
        (
            format!("remove {command} from cmds_denied"),
            without_command(list, command),
        )
    };
    diagnostic.with_unsafe_fix(title, vec![(value, new)])
}

/// `list` without the entries vsftpd matches against `command` (those before
/// the first empty entry); the rest kept as written.
fn without_command(list: &str, command: &str) -> String {
    let mut counted = true;
    let kept: Vec<&str> = list
        .split(',')
        .filter(|entry| {
            counted &= !entry.is_empty();
            !(counted && *entry == command)
        })
        .collect();
    kept.join(",")
}

#[cfg(test)]
mod tests {
    use super::without_command;

    #[test]
    fn removes_only_the_entries_vsftpd_counts() {
        assert_eq!(without_command("PASV", "PASV"), "");
        assert_eq!(without_command("RETR,PASV,STOR", "PASV"), "RETR,STOR");
        assert_eq!(without_command("PASV,,PASV", "PASV"), ",PASV");
        assert_eq!(without_command("pasv,PASV\r", "PASV"), "pasv,PASV\r");
    }
}
