//! IIS passive-range semantics shared by every source that sets them (metabase,
//! registry, adsutil/appcmd/PowerShell scripts, applicationHost.config).

use crate::facts::Families;
use crate::portset::PortSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Which IIS FTP generation reads the setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IisVersion {
    /// IIS 5 (Windows 2000 SP4, registry) and IIS 6 (metabase `PassivePortRange`).
    Iis6,
    /// IIS 7+ FTP service (`firewallSupport` low/high data channel ports).
    Iis7,
}

impl IisVersion {
    pub fn server_name(&self) -> &'static str {
        match self {
            IisVersion::Iis6 => "iis6",
            IisVersion::Iis7 => "iis7",
        }
    }

    /// The band IIS validates a configured range against.
    pub fn valid_band(&self) -> (u16, u16) {
        match self {
            IisVersion::Iis6 => IIS6_VALID,
            IisVersion::Iis7 => IIS7_VALID,
        }
    }
}

/// IIS 6 Operations Guide: "the valid range that FTP will validate is from 5001 to 65535".
pub const IIS6_VALID: (u16, u16) = (5001, 65535);
/// Unset or empty `PassivePortRange`: "the default value of 1025-5000, as specified by Winsock".
pub const IIS6_DEFAULT: (u16, u16) = (1025, 5000);
/// firewallSupport docs: "valid range for TCP/IP ports is 1025 through 65535".
pub const IIS7_VALID: (u16, u16) = (1025, 65535);
/// `0-0`: the Windows dynamic port range, 49152-65535 since Vista/2008
/// (unless `netsh int ipv4 set dynamicport tcp` moved it).
pub const WINDOWS_DYNAMIC: (u16, u16) = (49152, 65535);

/// What IIS makes of a configured passive range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeVerdict {
    /// The range IIS hands out; `deliberate` is false for defaults.
    Ports { ports: PortSet, deliberate: bool },
    /// IIS rejects the value (the FTP service will not start); the text says why.
    Invalid(String),
}

/// IIS 5/6 `PassivePortRange`: `"low-high"` or one port; `None`/empty = default.
pub fn iis6_passive_range(value: Option<&str>) -> RangeVerdict {
    let text = value.map(str::trim).unwrap_or("");
    if text.is_empty() {
        return RangeVerdict::Ports {
            ports: PortSet::range(IIS6_DEFAULT.0, IIS6_DEFAULT.1),
            deliberate: false,
        };
    }
    let (lo, hi) = match text.split_once('-') {
        Some((a, b)) => (parse_port(a), parse_port(b)),
        None => (parse_port(text), parse_port(text)),
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        let (min, max) = IIS6_VALID;
        return RangeVerdict::Invalid(format!(
            "PassivePortRange=\"{text}\" is not a range like \"5001-5201\" or a single port \
             within {min}-{max}"
        ));
    };
    check_band(
        lo,
        hi,
        IisVersion::Iis6,
        &format!("PassivePortRange=\"{text}\""),
    )
}

/// IIS 7+ `lowDataChannelPort`/`highDataChannelPort` (both default 0).
pub fn iis7_passive_range(low: Option<u32>, high: Option<u32>) -> RangeVerdict {
    let (min, max) = IIS7_VALID;
    let one_missing = |set: &str, value: u32, unset: &str| {
        RangeVerdict::Invalid(format!(
            "{set}={value} without {unset} (which then counts as 0): IIS needs both within {min}-{max}, or both 0"
        ))
    };
    match (low.unwrap_or(0), high.unwrap_or(0)) {
        (lo, 0) if lo != 0 && high.is_none() => {
            one_missing("lowDataChannelPort", lo, "highDataChannelPort")
        }
        (0, hi) if hi != 0 && low.is_none() => {
            one_missing("highDataChannelPort", hi, "lowDataChannelPort")
        }
        (0, 0) => RangeVerdict::Ports {
            ports: PortSet::range(WINDOWS_DYNAMIC.0, WINDOWS_DYNAMIC.1),
            deliberate: false,
        },
        (lo, hi) => check_band(
            lo,
            hi,
            IisVersion::Iis7,
            &format!("lowDataChannelPort={lo} and highDataChannelPort={hi}"),
        ),
    }
}

/// IIS 7+ data channel range from the attribute texts as written (appcmd,
/// PowerShell and applicationHost.config all carry decimal text).
pub fn iis7_passive_range_text(low: Option<&str>, high: Option<&str>) -> RangeVerdict {
    let number = |name: &str, text: Option<&str>| match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => parse_port(t).map(Some).ok_or_else(|| {
            let (min, max) = IIS7_VALID;
            format!("{name}=\"{t}\" is not a port number; IIS accepts {min}-{max}, or 0 with 0")
        }),
    };
    match (
        number("lowDataChannelPort", low),
        number("highDataChannelPort", high),
    ) {
        (Ok(lo), Ok(hi)) => iis7_passive_range(lo, hi),
        (Err(reason), _) | (_, Err(reason)) => RangeVerdict::Invalid(reason),
    }
}

/// The one low port the IIS 7 sources disagree on: the configuration
/// reference says 1025-65535, the firewall walkthrough 1024-65535.
pub const IIS7_DISPUTED_LOW: u16 = 1024;

/// The port of a binding `IP:Port:Hostname` (IIS 6 `ServerBindings` entries
/// and IIS 7 `bindingInformation`; IP may be `*`, empty, or `[v6]`), with the
/// byte range of its digits in `entry`. `None` when it is not 1-65535.
pub fn binding_port(entry: &str) -> (Option<u16>, Option<std::ops::Range<usize>>) {
    let after_ip = if entry.starts_with('[') {
        entry.find("]:").map(|i| i + 2)
    } else {
        entry.find(':').map(|i| i + 1)
    };
    let Some(start) = after_ip else {
        return (None, None);
    };
    let rest = entry.get(start..).unwrap_or("");
    let len = rest.find(':').unwrap_or(rest.len());
    let port = parse_port(&rest[..len])
        .filter(|p| (1..=65535).contains(p))
        .map(|p| p as u16);
    (port, Some(start..start + len))
}

/// The family an IIS 7+ `bindingInformation` listens on, from its IP part:
/// `*` or empty is "All Unassigned" (the BindingElement class: "an asterisk
/// specifies all unassigned IP addresses"), IPv4 and IPv6 alike since FTP 7
/// supports IPv6; `[v6]` is IPv6 only. `None`: no IP part that parses.
pub fn binding_families(entry: &str) -> Option<Families> {
    let ip = match entry.strip_prefix('[') {
        Some(rest) => &rest[..rest.find(']')?],
        None => &entry[..entry.find(':')?],
    };
    match ip.trim() {
        "" | "*" => Some(Families::Both),
        ip if ip.parse::<Ipv4Addr>().is_ok() => Some(Families::Ipv4),
        ip if ip.parse::<Ipv6Addr>().is_ok() => Some(Families::Ipv6),
        _ => None,
    }
}

fn check_band(lo: u32, hi: u32, version: IisVersion, what: &str) -> RangeVerdict {
    let (min, max) = version.valid_band();
    if lo > hi {
        return RangeVerdict::Invalid(format!(
            "{what}: the range starts above its end ({lo} > {hi}); IIS accepts low-high within {min}-{max}"
        ));
    }
    // The walkthrough's 1024 is let through; `iis-passive-range-starts-at-1024` warns.
    let min = if version == IisVersion::Iis7 && lo == u32::from(IIS7_DISPUTED_LOW) {
        IIS7_DISPUTED_LOW
    } else {
        min
    };
    if lo < u32::from(min) || hi > u32::from(max) {
        let zero = if version == IisVersion::Iis7 {
            " (or 0-0)"
        } else {
            ""
        };
        return RangeVerdict::Invalid(format!(
            "{what}: {lo}-{hi} is outside {min}-{max}{zero}, the band IIS validates"
        ));
    }
    RangeVerdict::Ports {
        ports: PortSet::range(lo as u16, hi as u16),
        deliberate: true,
    }
}

fn parse_port(text: &str) -> Option<u32> {
    let t = text.trim();
    if t.is_empty() || t.len() > 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(lo: u16, hi: u16, deliberate: bool) -> RangeVerdict {
        RangeVerdict::Ports {
            ports: PortSet::range(lo, hi),
            deliberate,
        }
    }

    #[test]
    fn iis6_ranges() {
        assert_eq!(
            iis6_passive_range(Some("5001-5201")),
            ports(5001, 5201, true)
        );
        assert_eq!(
            iis6_passive_range(Some("5001-5001")),
            ports(5001, 5001, true)
        );
        assert_eq!(iis6_passive_range(Some("5500")), ports(5500, 5500, true));
        assert_eq!(iis6_passive_range(None), ports(1025, 5000, false));
        assert_eq!(iis6_passive_range(Some("")), ports(1025, 5000, false));
        assert!(matches!(
            iis6_passive_range(Some("1025-2000")),
            RangeVerdict::Invalid(_)
        ));
        assert!(matches!(
            iis6_passive_range(Some("6000-5500")),
            RangeVerdict::Invalid(_)
        ));
        assert!(matches!(
            iis6_passive_range(Some("5001-70000")),
            RangeVerdict::Invalid(_)
        ));
        assert!(matches!(
            iis6_passive_range(Some("0-0")),
            RangeVerdict::Invalid(_)
        ));
        assert!(matches!(
            iis6_passive_range(Some("5001:5201")),
            RangeVerdict::Invalid(_)
        ));
    }

    #[test]
    fn iis7_one_end_missing_is_named() {
        let RangeVerdict::Invalid(reason) = iis7_passive_range(Some(5000), None) else {
            panic!()
        };
        assert!(reason.contains("without highDataChannelPort"), "{reason}");
        assert!(matches!(
            iis7_passive_range(Some(5000), Some(0)),
            RangeVerdict::Invalid(r) if r.contains("starts above its end")
        ));
    }

    #[test]
    fn iis7_text_ranges() {
        assert_eq!(
            iis7_passive_range_text(Some(" 5000"), Some("6000")),
            ports(5000, 6000, true)
        );
        assert_eq!(
            iis7_passive_range_text(Some("0"), Some("0")),
            ports(49152, 65535, false)
        );
        assert_eq!(
            iis7_passive_range_text(None, None),
            ports(49152, 65535, false)
        );
        assert_eq!(
            iis7_passive_range_text(Some("1024"), Some("2048")),
            ports(1024, 2048, true)
        );
        for (lo, hi) in [
            ("5k", "6000"),
            ("5000", "0x1770"),
            ("-1", "6000"),
            ("5000", "99999999"),
        ] {
            assert!(
                matches!(
                    iis7_passive_range_text(Some(lo), Some(hi)),
                    RangeVerdict::Invalid(_)
                ),
                "{lo}-{hi}"
            );
        }
    }

    #[test]
    fn binding_ports() {
        assert_eq!(binding_port(":21:"), (Some(21), Some(1..3)));
        assert_eq!(binding_port("*:21:").0, Some(21));
        assert_eq!(binding_port("10.0.0.1:2121:ftp.example.com").0, Some(2121));
        assert_eq!(binding_port("[::1]:990:"), (Some(990), Some(6..9)));
        assert_eq!(binding_port("::").0, None);
        assert_eq!(binding_port(":0:").0, None);
        assert_eq!(binding_port(":70000:").0, None);
        assert_eq!(binding_port("junk"), (None, None));
    }

    #[test]
    fn binding_family_follows_the_ip_part() {
        assert_eq!(binding_families("*:21:"), Some(Families::Both));
        assert_eq!(binding_families(":21:"), Some(Families::Both));
        assert_eq!(binding_families("10.0.0.5:21:"), Some(Families::Ipv4));
        assert_eq!(binding_families("[2001:db8::5]:21:"), Some(Families::Ipv6));
        assert_eq!(
            binding_families("[::1]:990:ftp.example.com"),
            Some(Families::Ipv6)
        );
        assert_eq!(binding_families("ftp.example.com:21:"), None);
        assert_eq!(binding_families("junk"), None);
    }

    #[test]
    fn iis7_ranges() {
        assert_eq!(iis7_passive_range(None, None), ports(49152, 65535, false));
        assert_eq!(
            iis7_passive_range(Some(5000), Some(6000)),
            ports(5000, 6000, true)
        );
        assert!(matches!(
            iis7_passive_range(Some(1000), Some(2000)),
            RangeVerdict::Invalid(_)
        ));
        assert!(matches!(
            iis7_passive_range(Some(5000), None),
            RangeVerdict::Invalid(_)
        ));
    }
}
