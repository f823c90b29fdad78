//! What the daemon's option loop (`src/ftpd.c`, `main`) makes of its flags,
//! and which values make it exit with `421 Configuration error` (measured with
//! Debian's 1.0.50: exit code 252 for each case below).

use super::{Finding, FindingKind, Flag};

/// `sscanf(optarg, "%u:%u", &firstport, &lastport)`, then
/// `firstport < 1024 || lastport > 65535 || lastport < firstport` is refused.
pub fn port_range(arg: &str) -> Result<(u16, u16), String> {
    let (first, rest) = scan_unsigned(arg).ok_or("not two numbers joined by `:`")?;
    let rest = rest
        .strip_prefix(':')
        .ok_or("not two numbers joined by `:`")?;
    let (last, _) = scan_unsigned(rest).ok_or("not two numbers joined by `:`")?;
    if first < 1024 {
        return Err(format!("the first port {first} is below 1024"));
    }
    if last > 65535 {
        return Err(format!("the last port {last} is above 65535"));
    }
    if last < first {
        return Err(format!(
            "the last port {last} is below the first port {first}"
        ));
    }
    Ok((first as u16, last as u16))
}

/// `%u`: optional blanks, an optional sign, digits (wrapping as `strtoul` does).
fn scan_unsigned(text: &str) -> Option<(u64, &str)> {
    let text = text.trim_start_matches(super::conf::is_c_space);
    let (negative, text) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let end = text.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    let value = text[..end]
        .parse::<u64>()
        .unwrap_or(u64::MAX)
        .min(u64::from(u32::MAX));
    let value = if negative && value != 0 {
        u64::from(u32::MAX) + 1 - value
    } else {
        value
    };
    Some((value, &text[end..]))
}

/// `-c`: `strtoul(optarg, &endptr, 0)`, refused when empty, not all read, or 0.
pub fn user_limit(arg: &str) -> Option<u32> {
    let text = arg.trim_start_matches(super::conf::is_c_space);
    let (digits, radix) = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (hex, 16)
    } else if text.len() > 1 && text.starts_with('0') {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    let n = u64::from_str_radix(digits, radix).ok()?;
    u32::try_from(n).ok().filter(|&n| n != 0)
}

/// `-Y`: `atoi(optarg)`, refused outside 0..=3.
pub fn tls_level(arg: &str) -> Option<i64> {
    let text = arg.trim_start_matches(super::conf::is_c_space);
    let sign = usize::from(text.starts_with(['-', '+']));
    let end = sign + text[sign..].bytes().take_while(u8::is_ascii_digit).count();
    let n = text[..end].parse::<i64>().unwrap_or(0);
    (0..=3).contains(&n).then_some(n)
}

/// The flags the daemon refuses, each with the daemon's own words.
pub fn check(flags: &[Flag]) -> Vec<Finding> {
    flags.iter().filter_map(refused).collect()
}

fn refused(flag: &Flag) -> Option<Finding> {
    let arg = flag.arg.as_deref()?;
    match flag.flag {
        'p' => port_range(arg).err().map(|why| Finding {
            kind: FindingKind::RangeInvalid,
            span: flag.span,
            label: "refused by pure-ftpd",
            message: format!(
                "`{}`: {why}; pure-ftpd refuses to start (\"421 Configuration error: Illegal ports range: {arg}\")",
                flag.written
            ),
            help: range_help(arg),
        }),
        'c' if user_limit(arg).is_none() => Some(Finding {
            kind: FindingKind::Invalid,
            span: flag.span,
            label: "refused by pure-ftpd",
            message: format!(
                "`{}` is not a user limit pure-ftpd accepts (a number from 1); it refuses to start (\"421 Configuration error: Illegal user limit: {arg}\")",
                flag.written
            ),
            help: "set the number of simultaneous sessions, at least 1 (the default is 50)".to_owned(),
        }),
        'Y' if tls_level(arg).is_none() => Some(Finding {
            kind: FindingKind::Invalid,
            span: flag.span,
            label: "refused by pure-ftpd",
            message: format!(
                "`{}` is not a TLS level (0 to 3); pure-ftpd refuses to start (\"421 Configuration error: TLS\")",
                flag.written
            ),
            help: "use 0 (no TLS), 1 (optional), 2 (required on the control channel) or 3 (required on control and data)".to_owned(),
        }),
        _ => None,
    }
}

fn range_help(arg: &str) -> String {
    let numbers: Vec<u64> = arg
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [a, b] if a > b && *b >= 1024 && *a <= 65535 => {
            format!("swap the ports: pure-ftpd takes the first port first ({b} then {a})")
        }
        _ => "give a first port from 1024 and a last port up to 65535, first ≤ last (e.g. 30000 30099)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_the_daemon_reads_them() {
        assert_eq!(port_range("30000:30009"), Ok((30000, 30009)));
        assert_eq!(port_range("30000:30000"), Ok((30000, 30000)));
        assert_eq!(
            port_range("30000:30009x"),
            Ok((30000, 30009)),
            "measured: accepted"
        );
        assert!(port_range("30000:29999").is_err());
        assert!(port_range("1023:2000").is_err());
        assert!(port_range("30000:70000").is_err());
        assert!(port_range("30000").is_err());
        assert!(port_range("30000-30009").is_err());
    }

    #[test]
    fn user_limits_and_tls_levels() {
        assert_eq!(user_limit("5"), Some(5));
        assert_eq!(user_limit("010"), Some(8), "strtoul base 0 reads octal");
        assert_eq!(user_limit("0"), None);
        assert_eq!(user_limit("abc"), None);
        assert_eq!(tls_level("2"), Some(2));
        assert_eq!(tls_level("4"), None);
        assert_eq!(tls_level("x"), Some(0), "atoi");
    }
}
