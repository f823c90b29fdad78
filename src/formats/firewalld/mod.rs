//! firewalld: zone and service XML, `firewalld.conf`, and `firewall-cmd` /
//! `firewall-offline-cmd` commands in scripts. A host's files are read together
//! (one bundle per host folder holding `etc/firewalld`) and lowered to the
//! iptables restore text that decides what firewalld 1.3's nftables backend
//! decides for inbound TCP (see [`lower`]).

pub mod cmd;
mod forward;
pub mod host;
pub mod lower;
pub mod schema;
pub mod shadow;
pub mod shipped;
mod shipped_services;
pub mod zone;

pub use zone::{Problem, Service, Zone, parse_service, parse_zone};

use std::path::Path;

/// Which firewalld file a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Zone,
    Service,
    Conf,
}

/// `…/firewalld/zones/*.xml`, `…/firewalld/services/*.xml`, `…/firewalld/firewalld.conf`.
pub fn sniff(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent()?;
    let folder = parent.file_name()?.to_str()?;
    if name == "firewalld.conf" {
        return Some(Kind::Conf);
    }
    let in_firewalld = parent
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|g| g == "firewalld");
    if !in_firewalld || !name.ends_with(".xml") {
        return None;
    }
    match folder {
        "zones" => Some(Kind::Zone),
        "services" => Some(Kind::Service),
        _ => None,
    }
}

/// `firewalld.conf`: `KEY=value` lines, `#` comments.
pub type Conf = crate::formats::ufw::files::Settings;

pub fn parse_conf(source: &crate::source::SourceFile) -> Conf {
    crate::formats::ufw::files::parse_settings(source)
}
