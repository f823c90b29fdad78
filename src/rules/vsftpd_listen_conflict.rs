//! `vsftpd-listen-conflict`: see rules/vsftpd-listen-conflict.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Value, config_of, is_per_user_file};

pub struct VsftpdListenConflict;

impl Rule for VsftpdListenConflict {
    fn name(&self) -> &'static str {
        "vsftpd-listen-conflict"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        if is_per_user_file(&file.source.path) {
            return;
        }
        let (Value::Set(true, v4), Value::Set(true, v6)) =
            (config.bool_value("listen"), config.bool_value("listen_ipv6"))
        else {
            return;
        };
        out.push(
            Diagnostic::new(
                self.name(),
                "vsftpd refuses to start: listen=YES and listen_ipv6=YES are both set (`500 OOPS: run two copies of vsftpd for IPv4 and IPv6`)",
                v6.line,
                "IPv6 listener",
            )
            .with_related(v4.line, "IPv4 listener")
            .with_help(
                "set listen=NO and keep listen_ipv6=YES: its `::` socket accepts IPv4 clients too (or run two vsftpd instances, one config each)",
            )
            // Unsafe: running two instances is the other way out, and a
            // `listen_address6` keeps IPv4 clients off the one socket left.
            .with_unsafe_fix(
                "set listen=NO: one dual-stack listener",
                vec![(v4.line, "listen=NO".to_owned())],
            ),
        );
    }
}
