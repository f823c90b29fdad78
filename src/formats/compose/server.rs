//! The FTP server a service of a known image runs, from its environment.

use super::command::{self, Runs};
use super::images::{self, Image, PassiveFrom, Unset};
use super::{EnvVar, Service, run_sh, started};
use crate::facts::{
    Active, ControlTls, FtpServer, Located, Passive, RangeSetting, UserClass, UserKind,
};
use crate::portset::PortSet;
use crate::source::{FileId, SourceFile, Span};

pub fn of(service: &Service, source: &SourceFile) -> Option<FtpServer> {
    let server = in_file(service, source, UNSET)?;
    if Some(server.server) != image_name(service) {
        // Read from a command line: its own spans say where the range is written.
        return Some(server);
    }
    let range_setting = range_setting(&server, service, source);
    Some(FtpServer {
        range_setting,
        ..server
    })
}

/// The variables that set the image's range, when each is written literally in
/// `source` (not through `${...}` or an env file).
fn range_setting(
    server: &FtpServer,
    service: &Service,
    source: &SourceFile,
) -> Option<RangeSetting> {
    let (lo, hi) = server.passive.deliberate_range()?;
    let image = images::lookup(&service.image.as_ref()?.0)?;
    let literal = |var: &str, want: String| {
        let v = service.env(var)?;
        let written = source.text.get(v.value_span.range())?;
        (v.value_span.file == source.id && written == want).then_some(v.value_span)
    };
    match image.passive {
        PassiveFrom::MinMax { min, max, .. } => Some(RangeSetting::ends(
            literal(min, lo.to_string())?,
            literal(max, hi.to_string())?,
        )),
        PassiveFrom::Colon { var, .. } => Some(RangeSetting::joined(
            literal(var, format!("{lo}:{hi}"))?,
            ":",
        )),
        PassiveFrom::Fixed(..) => None,
    }
}

const UNSET: &str = "depends on a variable that neither .env nor a default sets";

fn image_name(service: &Service) -> Option<&'static str> {
    Some(images::lookup(&service.image.as_ref()?.0)?.name)
}

/// The server of `service` (a compose service, or a Kubernetes container read
/// into one) as found in `source`, from what the container runs: its image's
/// entrypoint reading the environment, or a command line given in its place;
/// `unknown` says why a variable has no value.
pub fn in_file(service: &Service, source: &SourceFile, unknown: &'static str) -> Option<FtpServer> {
    let image = service.image.as_ref().and_then(|(r, _)| images::lookup(r));
    let runs = command::runs(image, service.entrypoint.as_ref(), service.command.as_ref())?;
    let image_span = service.image.as_ref().map(|(_, s)| *s);
    match (runs, image) {
        (Runs::PureFtpd(args), _) => Some(started::pure_ftpd(&args, source, image_span)),
        (Runs::Script(args), Some(image)) => Some(started::run_sh(image, &args, service, source)),
        // run.sh reads pure-ftpd flags from ADDED_FLAGS: the image's CMD
        // arguments then go through the same script.
        (Runs::Image, Some(image))
            if image.start.and_then(|s| s.script).is_some()
                && service.env("ADDED_FLAGS").is_some() =>
        {
            let image_span = image_span?;
            let args = run_sh::default_args(service, image_span);
            Some(started::run_sh(image, &args, service, source))
        }
        (Runs::Image, Some(image)) => image_server(image, service, source.id, unknown),
        (Runs::Unknown(reason, span), Some(image)) => {
            let server = image_server(image, service, source.id, unknown)?;
            Some(FtpServer {
                passive: Passive::Unknown {
                    spans: vec![span],
                    reason,
                },
                max_sessions: Located::new(None, Some(span)),
                ..server
            })
        }
        _ => None,
    }
}

/// The server the image's entrypoint configures from the environment.
fn image_server(
    image: &'static Image,
    service: &Service,
    file: FileId,
    unknown: &str,
) -> Option<FtpServer> {
    let image_span = &service.image.as_ref()?.1;
    Some(FtpServer {
        file,
        // The image, not the daemon: fixes name the image's variables.
        server: image.name,
        control_port: Located::new(Some(21), Some(*image_span)),
        passive: passive(image, service, *image_span, unknown),
        max_sessions: max_sessions(image, service),
        tls: Located::new(ControlTls::Never, None),
        families: Located::new(None, None),
        user_classes: vec![UserClass {
            kind: UserKind::Local,
            tls: ControlTls::Never,
            spans: vec![*image_span],
        }],
        active: Active::Unknown,
        passive_address: passive_address(image, service),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting: None,
        anchor: *image_span,
        container: None,
    })
}

/// An image's own range, default or fixed, is a chosen one (its Dockerfile or
/// config sets it), so `deliberate` holds for every known range.
fn passive(image: &Image, service: &Service, image_span: Span, unknown: &str) -> Passive {
    match image.passive {
        PassiveFrom::Fixed(lo, hi) => Passive::Enabled {
            ports: PortSet::range(lo, hi),
            deliberate: true,
            spans: Vec::new(),
        },
        PassiveFrom::MinMax { min, max, default } => {
            let (lo, lo_var) = number(service.env(min), default.0);
            let (hi, hi_var) = number(service.env(max), default.1);
            let set: Vec<&EnvVar> = [lo_var, hi_var].into_iter().flatten().collect();
            if let Some(var) = set.iter().find(|v| v.value.is_none()) {
                return unknown_range(var, unknown);
            }
            let (lo, hi) = crate::formats::vsftpd::pasv_range(lo, hi);
            Passive::Enabled {
                ports: PortSet::range(lo, hi),
                deliberate: true,
                spans: set.iter().map(|v| v.value_span).collect(),
            }
        }
        PassiveFrom::Colon { var, default } => match service.env(var) {
            None => Passive::Enabled {
                ports: PortSet::range(default.0, default.1),
                deliberate: true,
                spans: Vec::new(),
            },
            Some(v) => match v
                .value
                .as_deref()
                .map(crate::formats::pureftpd::daemon::port_range)
            {
                None => unknown_range(v, unknown),
                Some(Ok((lo, hi))) => Passive::Enabled {
                    ports: PortSet::range(lo, hi),
                    deliberate: true,
                    spans: vec![v.value_span],
                },
                Some(Err(why)) => Passive::Unknown {
                    spans: vec![v.value_span, image_span],
                    reason: format!("{var}: {why}; pure-ftpd refuses to start"),
                },
            },
        },
    }
}

fn unknown_range(var: &EnvVar, why: &str) -> Passive {
    Passive::Unknown {
        spans: vec![var.value_span],
        reason: format!("{} {why}", var.name),
    }
}

/// The variable's number as vsftpd's `str_atoi` reads the appended line; the
/// image's default when the service does not set it.
fn number(var: Option<&EnvVar>, default: u16) -> (u32, Option<&EnvVar>) {
    match var {
        None => (u32::from(default), None),
        Some(v) => {
            let text = v.value.as_deref().unwrap_or("");
            let digits: String = text
                .trim()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (digits.parse().unwrap_or(0), Some(v))
        }
    }
}

fn max_sessions(image: &Image, service: &Service) -> Located<Option<Option<u32>>> {
    let Some((var, default)) = image.max_clients else {
        return Located::new(None, None);
    };
    match service.env(var) {
        None => Located::new(Some(Some(default)), None),
        Some(v) => {
            let n = v
                .value
                .as_deref()
                .and_then(|t| t.trim().parse::<u32>().ok());
            Located::new(n.map(|n| (n > 0).then_some(n)), Some(v.value_span))
        }
    }
}

fn passive_address(image: &Image, service: &Service) -> Located<Option<String>> {
    let Some(address) = image.address else {
        return Located::new(None, None);
    };
    let default = match address.unset {
        Unset::Announces(a) => Some(a.to_owned()),
        Unset::ContainerNetwork(_) | Unset::Gateway(_) | Unset::Exits(_) => None,
    };
    let Some(v) = service.env(address.var) else {
        return Located::new(default, None);
    };
    let value = match v.value.as_deref() {
        Some(text) if address.counts_as_unset(text) => default,
        known => known.map(|t| t.trim().to_owned()),
    };
    Located::new(value, Some(v.value_span))
}

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::*;

    #[test]
    fn fauria_range_from_env_with_spans() {
        let text = "services:\n  ftp:\n    image: fauria/vsftpd\n    environment:\n      PASV_MIN_PORT: 21100\n      PASV_MAX_PORT: \"21110\"\n";
        let (d, src) = doc(text);
        let s = of(&d.services[0], &src).unwrap();
        let Passive::Enabled {
            ports,
            spans,
            deliberate,
        } = &s.passive
        else {
            panic!()
        };
        assert_eq!(ports, &PortSet::range(21100, 21110));
        assert!(deliberate);
        let shown: Vec<&str> = spans.iter().map(|s| src.slice(*s)).collect();
        assert_eq!(shown, ["21100", "21110"]);
    }

    #[test]
    fn defaults_without_env() {
        let (d, src) = doc(
            "services:\n  a:\n    image: delfer/alpine-ftp-server\n  b:\n    image: stilliard/pure-ftpd:latest\n  c:\n    image: nginx\n",
        );
        let a = of(&d.services[0], &src).unwrap();
        assert_eq!(a.passive.ports(), Some(&PortSet::range(21000, 21010)));
        let b = of(&d.services[1], &src).unwrap();
        assert_eq!(b.passive.ports(), Some(&PortSet::range(30000, 30009)));
        assert_eq!(b.max_sessions.value, Some(Some(5)));
        assert_eq!(b.passive_address.value.as_deref(), Some("localhost"));
        assert!(of(&d.services[2], &src).is_none());
    }

    #[test]
    fn pure_ftpd_colon_range_and_unknown_variable() {
        let (d, src) = doc(
            "services:\n  a:\n    image: stilliard/pure-ftpd\n    environment:\n      - FTP_PASSIVE_PORTS=30000:30099\n  b:\n    image: fauria/vsftpd\n    environment:\n      - PASV_MIN_PORT=${LOW}\n",
        );
        let a = of(&d.services[0], &src).unwrap();
        assert_eq!(a.passive.ports(), Some(&PortSet::range(30000, 30099)));
        let b = of(&d.services[1], &src).unwrap();
        assert!(matches!(b.passive, Passive::Unknown { .. }));
    }
}
