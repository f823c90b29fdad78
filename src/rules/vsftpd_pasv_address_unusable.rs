//! `vsftpd-pasv-address-unusable`: see rules/vsftpd-pasv-address-unusable.toml.

use super::Rule;
use crate::diag::{Diagnostic, Fix};
use crate::source::Span;
use crate::formats::compose::{EnvVar, images};
use crate::formats::vsftpd::{Value, config_of, is_per_user_file, parse_bool, shown_short};
use crate::formats::{ImageContainer, ParsedFile, image_containers};
use std::net::Ipv4Addr;

pub struct VsftpdPasvAddressUnusable;

impl Rule for VsftpdPasvAddressUnusable {
    fn name(&self) -> &'static str {
        "vsftpd-pasv-address-unusable"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        for c in image_containers(&file.doc) {
            out.extend(self.image_address(&c));
        }
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
            if let Some((what, help)) = misread(address).map(|m| m.for_config()) {
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

impl VsftpdPasvAddressUnusable {
    /// An image whose entrypoint writes its address variable into `pasv_address`
    /// and another into `pasv_addr_resolve` (fauria/vsftpd's run-vsftpd.sh
    /// appends both lines): the variable's value is what vsftpd parses at PASV.
    fn image_address(&self, c: &ImageContainer) -> Option<Diagnostic> {
        let image = images::lookup(c.image)?;
        let (address, resolve) = (image.address?, image.address_resolve?);
        let var = last(c.env, address.var)?;
        let value = var.value.as_deref()?;
        if address.counts_as_unset(value) {
            return None;
        }
        let resolve_var = last(c.env, resolve.var);
        let resolve_text = match resolve_var {
            Some(v) => v.value.as_deref()?,
            None => resolve.default,
        };
        // YES resolves the name at startup; a value vsftpd cannot read as a
        // boolean stops it at startup ("bad bool value in config file").
        if parse_bool(resolve_text) != Some(false) {
            return None;
        }
        let misread = misread(value)?;
        let (what, help) = misread.for_variable(address.var, resolve.var);
        let (related, label) = match resolve_var {
            Some(v) => (v.value_span, format!("written as pasv_addr_resolve={resolve_text}")),
            None => (
                c.image_span,
                format!("{} sets {}={} by default, written as pasv_addr_resolve={}", image.name, resolve.var, resolve.default, resolve.default),
            ),
        };
        Some(
            Diagnostic::new(
                self.name(),
                format!(
                    "{}={} {what} ({} writes it as pasv_address; source: {})",
                    address.var,
                    shown_short(value),
                    image.name,
                    image.source
                ),
                var.value_span,
                "not usable in a PASV reply",
            )
            .with_related(related, label)
            .with_help(help),
        )
    }
}

/// The variable of that name the container sets last.
fn last<'e>(env: &'e [EnvVar], name: &str) -> Option<&'e EnvVar> {
    env.iter().rev().find(|e| e.name == name)
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

/// How vsftpd reads an address it cannot announce as written.
enum Misread {
    /// `inet_aton` rejects it: every PASV fails.
    Refused { cause: &'static str, name: bool },
    /// `inet_aton` reads it as another address.
    ReadAs(Ipv4Addr),
}

const REFUSED: &str =
    "every PASV fails with `500 OOPS: invalid pasv_address` and the session is dropped";
const WRITE_IP: &str = "the public IPv4 address clients connect to";

impl Misread {
    /// The message and help for a `pasv_address` line.
    fn for_config(self) -> (String, String) {
        match self {
            Misread::Refused { cause, name } => (
                format!("{cause}: {REFUSED}"),
                if name {
                    format!("write {WRITE_IP}, e.g. pasv_address=203.0.113.10, or set pasv_addr_resolve=YES to resolve the name at startup")
                } else {
                    format!("write {WRITE_IP}, e.g. pasv_address=203.0.113.10")
                },
            ),
            Misread::ReadAs(ip) => (
                format!("is read by inet_aton as {ip}, so PASV replies send clients to {ip}"),
                format!("write the address as four decimal numbers: pasv_address={ip}, if that is the one you meant"),
            ),
        }
    }

    /// The message and help for an image variable the entrypoint writes into
    /// `pasv_address`, with `resolve` the one it writes into `pasv_addr_resolve`.
    fn for_variable(self, var: &str, resolve: &str) -> (String, String) {
        match self {
            Misread::Refused { cause, name } => (
                format!("{cause}: {REFUSED}"),
                if name {
                    format!("set {var} to {WRITE_IP} (e.g. {var}=203.0.113.10), or set {resolve}=YES to resolve the name at startup")
                } else {
                    format!("set {var} to {WRITE_IP}, e.g. {var}=203.0.113.10")
                },
            ),
            Misread::ReadAs(ip) => (
                format!("is read by inet_aton as {ip}, so PASV replies send clients to {ip}"),
                format!("write the address as four decimal numbers: {var}={ip}, if that is the one you meant"),
            ),
        }
    }
}

/// Why `inet_aton` rejects the address or reads it as another one.
fn misread(address: &str) -> Option<Misread> {
    let Some(ip) = inet_aton(address) else {
        let unquoted = address.trim_matches(['"', '\'']);
        let cause = if unquoted.len() < address.len() && inet_aton(unquoted).is_some() {
            "is not an IPv4 address (the quotes are part of the value)"
        } else if address.contains(':') {
            "is an IPv6 address: the PASV reply carries only IPv4"
        } else if address.chars().any(|c| c.is_ascii_alphabetic()) {
            "is a host name, not an IPv4 address"
        } else {
            "is not an IPv4 address"
        };
        let name = address.chars().any(|c| c.is_ascii_alphabetic()) && !address.contains(':');
        return Some(Misread::Refused { cause, name });
    };
    let written = address.split_ascii_whitespace().next().unwrap_or("");
    (written != ip.to_string()).then_some(Misread::ReadAs(ip))
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
        let config = |a| misread(a).unwrap().for_config();
        assert!(config("'79.172.239.43'").0.contains("quotes"));
        assert!(config("fd00::9").0.contains("IPv6"));
        assert!(config("ftp.example.com").1.contains("pasv_addr_resolve=YES"));
        assert!(config("1.2.3").0.contains("1.2.0.3"));
        let image = misread("ftp.example.com").unwrap().for_variable("PASV_ADDRESS", "PASV_ADDR_RESOLVE");
        assert!(image.1.contains("PASV_ADDR_RESOLVE=YES"), "{}", image.1);
        assert!(misread("203.0.113.10").is_none());
        assert!(misread("203.0.113.10 # public").is_none());
    }
}
