//! `vsftpd-pasv-address-unusable`: see rules/vsftpd-pasv-address-unusable.toml.

use super::Rule;
use crate::diag::{Diagnostic, Fix};
use crate::source::Span;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Value, config_of, is_per_user_file, shown_short};
use std::net::Ipv4Addr;

pub struct VsftpdPasvAddressUnusable;

impl Rule for VsftpdPasvAddressUnusable {
    fn name(&self) -> &'static str {
        "vsftpd-pasv-address-unusable"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        if is_per_user_file(&file.source.path) {
            return;
        }
        let Value::Set(Some(address), setting) = config.str_value("pasv_address") else {
            return;
        };
        let span = setting.value.unwrap_or(setting.line);
        let resolved_at_startup = config.bool_value("pasv_addr_resolve").known() == Some(true);
        if !resolved_at_startup {
            if let Some((what, help)) = misread(address) {
                let d = Diagnostic::new(
                    self.name(),
                    format!("pasv_address={} {what}", shown_short(address)),
                    span,
                    "not usable in a PASV reply",
                )
                .with_help(help);
                let written = setting.value.and_then(|v| file.source.text.get(v.range()));
                let fix = match (setting.value, written == Some(address)) {
                    // No fix for a host name: with pasv_addr_resolve=YES vsftpd
                    // refuses to start where the name does not resolve ("500 OOPS:
                    // cannot resolve host"), so which fix is right is not in the file.
                    (Some(value), true) => unquoted_fix(value, address),
                    _ => None,
                };
                out.push(d.with_fixes(fix));
            }
        }
        if let Value::Set(true, v6) = config.bool_value("listen_ipv6") {
            out.push(
                Diagnostic::new(
                    self.name(),
                    "with listen_ipv6=YES, vsftpd ignores pasv_address and announces 0,0,0,0 in every PASV reply, so PASV clients cannot connect (EPSV still works)",
                    span,
                    "announced as 0,0,0,0",
                )
                .with_related(v6.line, "sessions on the IPv6 socket")
                .with_help(
                    "set listen=YES and listen_ipv6=NO (IPv4 listener) to keep pasv_address, or delete pasv_address if clients reach the server's own address",
                ),
            );
        }
    }
}

/// `pasv_address="203.0.113.10"`: the quotes dropped (safe: the address the
/// line names, now read as one).
fn unquoted_fix(value: Span, address: &str) -> Option<Fix> {
    let unquoted = address
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .or_else(|| address.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')))?;
    let ip = inet_aton(unquoted)?;
    (ip.to_string() == unquoted).then(|| Fix {
        title: format!("drop the quotes: pasv_address={unquoted}"),
        edits: vec![(value, unquoted.to_owned())],
        safe: true,
    })
}

/// Why `inet_aton` rejects the address or reads it as another one.
fn misread(address: &str) -> Option<(String, String)> {
    let write_ip = "write the public IPv4 address clients connect to, e.g. pasv_address=203.0.113.10".to_owned();
    let Some(ip) = inet_aton(address) else {
        let unquoted = address.trim_matches(['"', '\'']);
        let cause = if unquoted.len() < address.len() && inet_aton(unquoted).is_some() {
            "is not an IPv4 address (the quotes are part of the value)".to_owned()
        } else if address.contains(':') {
            "is an IPv6 address: the PASV reply carries only IPv4".to_owned()
        } else if address.chars().any(|c| c.is_ascii_alphabetic()) {
            "is a host name, not an IPv4 address".to_owned()
        } else {
            "is not an IPv4 address".to_owned()
        };
        let help = if address.chars().any(|c| c.is_ascii_alphabetic()) && !address.contains(':') {
            format!("{write_ip}, or set pasv_addr_resolve=YES to resolve the name at startup")
        } else {
            write_ip
        };
        return Some((
            format!("{cause}: every PASV fails with `500 OOPS: invalid pasv_address` and the session is dropped"),
            help,
        ));
    };
    let written = address.split_ascii_whitespace().next().unwrap_or("");
    (written != ip.to_string()).then(|| {
        (
            format!("is read by inet_aton as {ip}, so PASV replies send clients to {ip}"),
            format!("write the address as four decimal numbers: pasv_address={ip}, if that is the one you meant"),
        )
    })
}

/// glibc `inet_aton`: 1 to 4 parts, each decimal, octal (`0`) or hex (`0x`);
/// the last part fills the remaining bytes; whitespace may end the text.
fn inet_aton(text: &str) -> Option<Ipv4Addr> {
    let end = text.find(|c: char| c.is_ascii_whitespace()).unwrap_or(text.len());
    let parts: Vec<&str> = text[..end].split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let values: Vec<u32> = parts.iter().map(|p| c_number(p)).collect::<Option<_>>()?;
    let (last, leading) = values.split_last()?;
    if leading.iter().any(|&v| v > 0xff) {
        return None;
    }
    let room = 8 * (4 - leading.len() as u32);
    if room < 32 && *last >= 1 << room {
        return None;
    }
    let high = leading
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, &v)| acc | v << (24 - 8 * i as u32));
    Some(Ipv4Addr::from(high | last))
}

/// `strtoul(part, &end, 0)` that must consume the whole part and start with a digit.
fn c_number(part: &str) -> Option<u32> {
    if !part.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_reads_like_glibc() {
        let ip = |s| inet_aton(s).map(|a| a.to_string());
        assert_eq!(ip("10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(ip("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(ip("10.1.2.3 junk").as_deref(), Some("10.1.2.3"));
        assert_eq!(ip("010.1.2.3").as_deref(), Some("8.1.2.3"));
        assert_eq!(ip("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(ip("3232235777").as_deref(), Some("192.168.1.1"));
        for bad in ["not-an-ip", "fd00::9", "'79.172.239.43'", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "08.1.1.1", ""] {
            assert_eq!(ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_the_cause() {
        assert!(misread("'79.172.239.43'").unwrap().0.contains("quotes"));
        assert!(misread("fd00::9").unwrap().0.contains("IPv6"));
        assert!(misread("ftp.example.com").unwrap().1.contains("pasv_addr_resolve=YES"));
        assert!(misread("1.2.3").unwrap().0.contains("1.2.0.3"));
        assert!(misread("203.0.113.10").is_none());
        assert!(misread("203.0.113.10 # public").is_none());
    }
}
