//! The argument checks of the directives pasvlint models, with the daemon's
//! wording (each message measured with `proftpd -t`, e.g. `PassivePorts 1000
//! 30009` → "PassivePorts: port numbers must be above 1023").

use super::lexer::Word;

/// Why the daemon refuses the arguments of `name` (lower case), if it does.
pub fn check(name: &str, shown: &str, args: &[Word]) -> Option<String> {
    let why = match name {
        "passiveports" => passive_ports(args).map(|_| ()),
        "port" => one(args).and_then(port),
        "maxinstances" => one(args).and_then(|v| limit(v, "argument")),
        "maxclients" => args
            .first()
            .map_or(Err("wrong number of parameters"), |w| Ok(w.text.as_str()))
            .and_then(|v| limit(v, "parameter")),
        "servertype" => one(args).and_then(server_type),
        "defaultserver" | "useipv6" | "tlsengine" => {
            one(args).and_then(|v| boolean(v).map(|_| ()).ok_or("expected Boolean parameter"))
        }
        "tlsrequired" => one(args).and_then(tls_required),
        _ => Ok(()),
    }
    .err()?;
    Some(format!("{shown}: {why}"))
}

/// The first argument; the daemon ignores any after it (measured: `Port 21 22`
/// and `UseIPv6 on # comment` are accepted).
fn one(args: &[Word]) -> Result<&str, &'static str> {
    args.first()
        .map(|w| w.text.as_str())
        .ok_or("missing parameters")
}

/// `PassivePorts min max`: both ports numbers up to 65535, both above 1023,
/// and min below max (a one-port range is refused). Words after the second
/// are ignored.
pub fn passive_ports(args: &[Word]) -> Result<(u16, u16), &'static str> {
    let [min, max, ..] = args else {
        return Err("missing parameters");
    };
    let min = port_number(&min.text).ok_or("min port must be allowable port number")?;
    let max = port_number(&max.text).ok_or("max port must be allowable port number")?;
    if min < 1024 || max < 1024 {
        return Err("port numbers must be above 1023");
    }
    if max <= min {
        return Err("min port must be less than max port");
    }
    Ok((min, max))
}

fn port_number(text: &str) -> Option<u16> {
    text.parse::<u32>().ok().and_then(|n| u16::try_from(n).ok())
}

fn port(text: &str) -> Result<(), &'static str> {
    port_number(text)
        .map(|_| ())
        .ok_or("value must be between 0 and 65535")
}

/// The port `Port` sets, if its value is one.
pub fn port_value(text: &str) -> Option<u16> {
    port_number(text)
}

/// `MaxInstances` / `MaxClients`: `none` or a number above 0.
fn limit(text: &str, word: &'static str) -> Result<(), &'static str> {
    if limit_value(text).is_some() {
        return Ok(());
    }
    Err(if word == "argument" {
        "argument must be 'none' or a number greater than 0"
    } else {
        "parameter must be 'none' or a number greater than 0"
    })
}

/// `Some(None)` for `none`, `Some(Some(n))` for a number above 0.
pub fn limit_value(text: &str) -> Option<Option<u32>> {
    if text.eq_ignore_ascii_case("none") {
        return Some(None);
    }
    text.parse::<u32>().ok().filter(|&n| n > 0).map(Some)
}

fn server_type(text: &str) -> Result<(), &'static str> {
    match text.to_ascii_lowercase().as_str() {
        "inetd" | "standalone" => Ok(()),
        _ => Err("type must be either 'inetd' or 'standalone'"),
    }
}

/// `pr_str_is_boolean`: on/off, yes/no, true/false, 1/0, any case.
pub fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "1" => Some(true),
        "off" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// What `TLSRequired` demands of the control channel: `Some(true)` when a
/// login needs TLS first.
pub fn tls_required_control(text: &str) -> Option<bool> {
    if let Some(b) = boolean(text) {
        return Some(b);
    }
    match text.to_ascii_lowercase().as_str() {
        "ctrl" | "auth" | "auth+data" | "auth+!data" | "ctrl+!data" => Some(true),
        "data" | "!data" => Some(false),
        _ => None,
    }
}

fn tls_required(text: &str) -> Result<(), &'static str> {
    tls_required_control(text)
        .map(|_| ())
        .ok_or("bad parameter")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn words(list: &[&str]) -> Vec<Word> {
        list.iter()
            .map(|t| Word {
                text: (*t).to_owned(),
                span: Span::new(FileId(0), 0, 0),
            })
            .collect()
    }

    #[test]
    fn passive_ports_as_measured() {
        let msg = |a: &[&str]| check("passiveports", "PassivePorts", &words(a));
        assert_eq!(msg(&["30000", "30009"]), None);
        assert_eq!(msg(&["30000", "30009", "x"]), None);
        assert_eq!(
            msg(&["1000", "30009"]).as_deref(),
            Some("PassivePorts: port numbers must be above 1023")
        );
        assert_eq!(
            msg(&["30000", "1000"]).as_deref(),
            Some("PassivePorts: port numbers must be above 1023")
        );
        assert_eq!(
            msg(&["30000", "30000"]).as_deref(),
            Some("PassivePorts: min port must be less than max port")
        );
        assert_eq!(
            msg(&["30000", "70000"]).as_deref(),
            Some("PassivePorts: max port must be allowable port number")
        );
        assert_eq!(
            msg(&["abc", "30009"]).as_deref(),
            Some("PassivePorts: min port must be allowable port number")
        );
        assert_eq!(
            msg(&["30000"]).as_deref(),
            Some("PassivePorts: missing parameters")
        );
        assert_eq!(check("port", "Port", &words(&["21", "#", "x"])), None);
        assert_eq!(
            check("port", "Port", &[]).as_deref(),
            Some("Port: missing parameters")
        );
    }
}
