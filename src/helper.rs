//! Whether a firewall's FTP conntrack helper admits one server's passive data
//! connections, beyond being attached to its control port: nf_conntrack_ftp
//! (`help()` in net/netfilter/nf_conntrack_ftp.c) compares the address of a
//! `227` reply with the server's address on the control connection and, unless
//! the module's `loose` parameter is set, records no expectation when they differ
//! ("NOT RECORDING"). An EPSV reply names no address, so the helper takes the
//! connection's own and records it.
//!
//! Measured (vsftpd 3.0.3, kernel 6.18, raw `CT --helper ftp` on 21 and only
//! RELATED admitting data): `pasv_address=192.168.1.200` on a server clients
//! reach at 198.18.50.1: PASV transfers 0 of 4, EPSV 4 of 4; the server's own
//! address or no `pasv_address`: 4 of 4 each.

use crate::facts::{Dialect, Family, Firewall, FtpHelper, FtpServer};
use crate::platform::HostPlatform;
use crate::source::Span;
use std::net::Ipv4Addr;

/// What the helper does for one server's PASV replies (TLS aside: a helper
/// cannot read a TLS control channel, whatever this says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission<'a> {
    /// No helper is attached to the control port, or RELATED is not admitted.
    Nothing,
    /// The helper records each PASV reply's expectation.
    Every(&'a FtpHelper),
    /// The reply names an address that is not (or may not be) the one clients
    /// connect to: no expectation is recorded.
    OtherAddress(Mismatch<'a>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch<'a> {
    pub helper: &'a FtpHelper,
    /// The address the server announces, and where it is set.
    pub announced: String,
    pub announced_at: Option<Span>,
    /// The address clients connect to, when the config binds one.
    pub listen: Option<Bound>,
    /// `options nf_conntrack_ftp loose=1`: the helper then expects the data
    /// connection at the announced address instead.
    pub loose: Option<Span>,
}

/// The one address a server's control socket is bound to, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    pub address: String,
    pub at: Option<Span>,
}

impl Mismatch<'_> {
    /// The addresses certainly differ and the helper is strict.
    pub fn certain(&self) -> bool {
        self.listen.is_some() && self.loose.is_none()
    }
}

/// What `fw`'s helper does for `server`'s passive data, for clients of `family`.
pub fn admission<'a>(
    server: &FtpServer,
    fw: &'a Firewall,
    family: Option<Family>,
    platform: &HostPlatform,
) -> Admission<'a> {
    let Some(control) = server.control_port.value else {
        return Admission::Nothing;
    };
    let Some(helper) = fw.helper_for(control).filter(|_| fw.admits_related) else {
        return Admission::Nothing;
    };
    match announced_elsewhere(server, fw, family) {
        Some((announced, listen)) => Admission::OtherAddress(Mismatch {
            helper,
            announced,
            announced_at: server.passive_address.span,
            listen,
            loose: platform.helper.loose,
        }),
        None => Admission::Every(helper),
    }
}

/// The announced IPv4 address, when it may differ from the one clients
/// connect to, and that one when the config binds it.
fn announced_elsewhere(
    server: &FtpServer,
    fw: &Firewall,
    family: Option<Family>,
) -> Option<(String, Option<Bound>)> {
    // Windows' stateful FTP filter is not nf_conntrack_ftp; IPv6 clients get
    // EPSV replies, which name no address.
    if fw.dialect == Dialect::WindowsFirewall || family == Some(Family::V6) {
        return None;
    }
    let announced = server.passive_address.value.as_deref()?;
    let announced_ip: Ipv4Addr = announced.parse().ok()?;
    let listen = server.listen_address.value.as_deref();
    match listen.and_then(|l| l.parse::<Ipv4Addr>().ok()) {
        Some(own) if own == announced_ip => None,
        Some(own) if !own.is_unspecified() => Some((
            announced.to_owned(),
            Some(Bound {
                address: own.to_string(),
                at: server.listen_address.span,
            }),
        )),
        _ => Some((announced.to_owned(), None)),
    }
}
