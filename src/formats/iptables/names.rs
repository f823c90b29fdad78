//! Names iptables resolves itself: services (netbase `/etc/services`), protocols, extensions.

/// `/etc/services` TCP names and aliases (Debian netbase), sorted for binary search.
pub const TCP_SERVICES: &[(&str, u16)] = &[
    ("acr-nema", 104),
    ("afpovertcp", 548),
    ("amanda", 10080),
    ("amandaidx", 10082),
    ("amidxtape", 10083),
    ("amqp", 5672),
    ("amqps", 5671),
    ("asp", 27374),
    ("auth", 113),
    ("authentication", 113),
    ("bacula-dir", 9101),
    ("bacula-fd", 9102),
    ("bacula-sd", 9103),
    ("bbs", 7000),
    ("bgp", 179),
    ("bgpd", 2605),
    ("binkp", 24554),
    ("canna", 5680),
    ("cfengine", 5308),
    ("chargen", 19),
    ("cisco-sccp", 2000),
    ("clc-build-daemon", 8990),
    ("cmd", 514),
    ("cmip-agent", 164),
    ("cmip-man", 163),
    ("codaauth2", 370),
    ("codasrv", 2432),
    ("codasrv-se", 2433),
    ("csync2", 30865),
    ("cvspserver", 2401),
    ("daap", 3689),
    ("datametrics", 1645),
    ("daytime", 13),
    ("db-lsp", 17500),
    ("dcap", 22125),
    ("dicom", 104),
    ("dict", 2628),
    ("dircproxy", 57000),
    ("discard", 9),
    ("distcc", 3632),
    ("domain", 53),
    ("domain-s", 853),
    ("echo", 7),
    ("epmap", 135),
    ("epmd", 4369),
    ("exec", 512),
    ("f5-globalsite", 2792),
    ("f5-iquery", 4353),
    ("fax", 4557),
    ("fido", 60179),
    ("finger", 79),
    ("font-service", 7100),
    ("freeciv", 5556),
    ("ftp", 21),
    ("ftp-data", 20),
    ("ftps", 990),
    ("ftps-data", 989),
    ("gdomap", 538),
    ("gds-db", 3050),
    ("gds_db", 3050),
    ("git", 9418),
    ("gnunet", 2086),
    ("gnutella-rtr", 6347),
    ("gnutella-svc", 6346),
    ("gopher", 70),
    ("gpsd", 2947),
    ("gris", 2135),
    ("groupwise", 1677),
    ("gsidcap", 22128),
    ("gsiftp", 2811),
    ("gsigatekeeper", 2119),
    ("hkp", 11371),
    ("hprop", 754),
    ("http", 80),
    ("http-alt", 8080),
    ("https", 443),
    ("hylafax", 4559),
    ("ident", 113),
    ("imap", 143),
    ("imap2", 143),
    ("imaps", 993),
    ("ingreslock", 1524),
    ("ipp", 631),
    ("iprop", 2121),
    ("ircd", 6667),
    ("ircs-u", 6697),
    ("iscsi-target", 3260),
    ("isisd", 2608),
    ("isns", 3205),
    ("iso-tsap", 102),
    ("jabber-client", 5222),
    ("jabber-server", 5269),
    ("kamanda", 10081),
    ("kdc", 750),
    ("kerberos", 88),
    ("kerberos-adm", 749),
    ("kerberos-iv", 750),
    ("kerberos-master", 751),
    ("kerberos-sec", 88),
    ("kerberos4", 750),
    ("kerberos5", 88),
    ("kermit", 1649),
    ("klogin", 543),
    ("kpasswd", 464),
    ("krb-prop", 754),
    ("krb5", 88),
    ("krb5_prop", 754),
    ("krb_prop", 754),
    ("krcmd", 544),
    ("kshell", 544),
    ("ldap", 389),
    ("ldaps", 636),
    ("ldp", 646),
    ("loc-srv", 135),
    ("login", 513),
    ("lotusnote", 1352),
    ("lotusnotes", 1352),
    ("lrrd", 4949),
    ("mail", 25),
    ("mailq", 174),
    ("microsoft-ds", 445),
    ("moira-db", 775),
    ("moira-update", 777),
    ("moira_db", 775),
    ("moira_update", 777),
    ("mon", 2583),
    ("ms-sql-s", 1433),
    ("ms-wbt-server", 3389),
    ("mtn", 4691),
    ("munin", 4949),
    ("mysql", 3306),
    ("mysql-proxy", 6446),
    ("nbd", 10809),
    ("netbios-ssn", 139),
    ("netstat", 15),
    ("nfs", 2049),
    ("nicname", 43),
    ("nntp", 119),
    ("nntps", 563),
    ("nqs", 607),
    ("nrpe", 5666),
    ("nsca", 5667),
    ("ntske", 4460),
    ("null", 9),
    ("nut", 3493),
    ("old-radacct", 1646),
    ("old-radius", 1645),
    ("omniorb", 8088),
    ("openvpn", 1194),
    ("ospf6d", 2606),
    ("ospfapi", 2607),
    ("ospfd", 2604),
    ("pawserv", 345),
    ("pop-3", 110),
    ("pop3", 110),
    ("pop3s", 995),
    ("poppassd", 106),
    ("portmapper", 111),
    ("postgres", 5432),
    ("postgresql", 5432),
    ("printer", 515),
    ("proofd", 1093),
    ("puppet", 8140),
    ("qmqp", 628),
    ("qmtp", 209),
    ("qotd", 17),
    ("quote", 17),
    ("radacct", 1813),
    ("radius", 1812),
    ("radius-acct", 1813),
    ("radmin-port", 4899),
    ("readnews", 119),
    ("redis", 6379),
    ("remctl", 4373),
    ("ripd", 2602),
    ("ripngd", 2603),
    ("rmiregistry", 1099),
    ("rmtcfg", 1236),
    ("rootd", 1094),
    ("rpc2portmap", 369),
    ("rptp", 5556),
    ("rsync", 873),
    ("rtcm-sc104", 2101),
    ("rtsp", 554),
    ("sa-msg-port", 1646),
    ("saft", 487),
    ("sane", 6566),
    ("sane-port", 6566),
    ("saned", 6566),
    ("sge-execd", 6445),
    ("sge-qmaster", 6444),
    ("sge_execd", 6445),
    ("sge_qmaster", 6444),
    ("sgi-cad", 17004),
    ("shell", 514),
    ("sieve", 4190),
    ("silc", 706),
    ("sink", 9),
    ("sip", 5060),
    ("sip-tls", 5061),
    ("skkserv", 1178),
    ("smtp", 25),
    ("smtps", 465),
    ("smux", 199),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("snmptrap", 162),
    ("snntp", 563),
    ("snpp", 444),
    ("socks", 1080),
    ("source", 19),
    ("spamd", 783),
    ("spooler", 515),
    ("ssh", 22),
    ("ssmtp", 465),
    ("submission", 587),
    ("submissions", 465),
    ("subversion", 3690),
    ("sunrpc", 111),
    ("supfiledbg", 1127),
    ("supfilesrv", 871),
    ("suucp", 4031),
    ("svn", 3690),
    ("svrloc", 427),
    ("syslog", 514),
    ("syslog-tls", 6514),
    ("sysrqd", 4094),
    ("systat", 11),
    ("tacacs", 49),
    ("tap", 113),
    ("tcpmux", 1),
    ("telnet", 23),
    ("telnets", 992),
    ("tfido", 60177),
    ("time", 37),
    ("timserver", 37),
    ("tinc", 655),
    ("tproxy", 8081),
    ("tsap", 102),
    ("ttytst", 19),
    ("untp", 119),
    ("urd", 465),
    ("users", 11),
    ("uucp", 540),
    ("uucpd", 540),
    ("venus", 2430),
    ("venus-se", 2431),
    ("wais", 210),
    ("webcache", 8080),
    ("webmin", 10000),
    ("whois", 43),
    ("wnn6", 22273),
    ("www", 80),
    ("x11", 6000),
    ("x11-0", 6000),
    ("x11-1", 6001),
    ("x11-2", 6002),
    ("x11-3", 6003),
    ("x11-4", 6004),
    ("x11-5", 6005),
    ("x11-6", 6006),
    ("x11-7", 6007),
    ("xfs", 7100),
    ("xinetd", 9098),
    ("xmms2", 9667),
    ("xmpp-client", 5222),
    ("xmpp-server", 5269),
    ("xtel", 1313),
    ("xtelw", 1314),
    ("z3950", 210),
    ("zabbix-agent", 10050),
    ("zabbix-trapper", 10051),
    ("zebra", 2601),
    ("zebrasrv", 2600),
    ("zope", 9673),
    ("zope-ftp", 8021),
    ("zserv", 346),
];

/// `/etc/services` UDP names and aliases.
pub const UDP_SERVICES: &[(&str, u16)] = &[
    ("Clearcase", 371),
    ("afs3-bos", 7007),
    ("afs3-callback", 7001),
    ("afs3-fileserver", 7000),
    ("afs3-kaserver", 7004),
    ("afs3-prserver", 7002),
    ("afs3-rmtsys", 7009),
    ("afs3-update", 7008),
    ("afs3-vlserver", 7003),
    ("afs3-volser", 7005),
    ("asf-rmcp", 623),
    ("asp", 27374),
    ("babel", 6696),
    ("biff", 512),
    ("bootpc", 68),
    ("bootps", 67),
    ("chargen", 19),
    ("clearcase", 371),
    ("cmip-agent", 164),
    ("cmip-man", 163),
    ("codaauth2", 370),
    ("codasrv", 2432),
    ("codasrv-se", 2433),
    ("comsat", 512),
    ("datametrics", 1645),
    ("daytime", 13),
    ("dhcpv6-client", 546),
    ("dhcpv6-server", 547),
    ("discard", 9),
    ("domain", 53),
    ("domain-s", 853),
    ("echo", 7),
    ("fsp", 21),
    ("fspd", 21),
    ("gdomap", 538),
    ("gnunet", 2086),
    ("gnutella-rtr", 6347),
    ("gnutella-svc", 6346),
    ("https", 443),
    ("iax", 4569),
    ("icp", 3130),
    ("icpv2", 3130),
    ("ipsec-nat-t", 4500),
    ("ipx", 213),
    ("isakmp", 500),
    ("isns", 3205),
    ("kdc", 750),
    ("kerberos", 88),
    ("kerberos-iv", 750),
    ("kerberos-master", 751),
    ("kerberos-sec", 88),
    ("kerberos4", 750),
    ("kerberos5", 88),
    ("kerberos_master", 751),
    ("kpasswd", 464),
    ("krb5", 88),
    ("l2f", 1701),
    ("l2tp", 1701),
    ("ldap", 389),
    ("ldaps", 636),
    ("ldp", 646),
    ("mdns", 5353),
    ("moira-ureg", 779),
    ("moira_ureg", 779),
    ("mon", 2583),
    ("ms-sql-m", 1434),
    ("netbios-dgm", 138),
    ("netbios-ns", 137),
    ("nfs", 2049),
    ("ntalk", 518),
    ("ntp", 123),
    ("null", 9),
    ("nut", 3493),
    ("old-radacct", 1646),
    ("old-radius", 1645),
    ("openvpn", 1194),
    ("passwd-server", 752),
    ("passwd_server", 752),
    ("portmapper", 111),
    ("predict", 1210),
    ("ptp-event", 319),
    ("ptp-general", 320),
    ("radacct", 1813),
    ("radius", 1812),
    ("radius-acct", 1813),
    ("route", 520),
    ("routed", 520),
    ("router", 520),
    ("rpc2portmap", 369),
    ("rplay", 5555),
    ("rtcm-sc104", 2101),
    ("rtsp", 554),
    ("sa-msg-port", 1646),
    ("sgi-cmsd", 17001),
    ("sgi-crsd", 17002),
    ("sgi-gcd", 17003),
    ("sink", 9),
    ("sip", 5060),
    ("sip-tls", 5061),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("snmptrap", 162),
    ("source", 19),
    ("sunrpc", 111),
    ("svrloc", 427),
    ("syslog", 514),
    ("tacacs", 49),
    ("talk", 517),
    ("tftp", 69),
    ("time", 37),
    ("timserver", 37),
    ("tinc", 655),
    ("ttytst", 19),
    ("venus", 2430),
    ("venus-se", 2431),
    ("who", 513),
    ("whod", 513),
    ("xdmcp", 177),
    ("zephyr-clt", 2103),
    ("zephyr-hm", 2104),
    ("zephyr-srv", 2102),
];

/// Protocol names `-p` accepts (lower-cased first, as iptables does): `/etc/protocols` plus
/// iptables' built-in list.
pub const PROTOCOLS: &[&str] = &[
    "ah",
    "all",
    "ax.25",
    "dccp",
    "ddp",
    "egp",
    "eigrp",
    "encap",
    "esp",
    "etherip",
    "ethernet",
    "fc",
    "ggp",
    "gre",
    "hip",
    "hmp",
    "hopopt",
    "icmp",
    "icmpv6",
    "idpr-cmtp",
    "idrp",
    "igmp",
    "igp",
    "ip",
    "ipcomp",
    "ipencap",
    "ipip",
    "ipv6",
    "ipv6-frag",
    "ipv6-icmp",
    "ipv6-mh",
    "ipv6-nonxt",
    "ipv6-opts",
    "ipv6-route",
    "isis",
    "iso-tp4",
    "l2tp",
    "manet",
    "mh",
    "mobility-header",
    "mpls-in-ip",
    "mptcp",
    "ospf",
    "pim",
    "pup",
    "rdp",
    "rohc",
    "rspf",
    "rsvp",
    "sctp",
    "shim6",
    "skip",
    "st",
    "tcp",
    "udp",
    "udplite",
    "vmtp",
    "vrrp",
    "wesp",
    "xns-idp",
    "xtp",
];

/// Match extensions installed with iptables 1.8.9 (`libxt_*`, `libipt_*`); `-m` of any
/// other name fails with ``Couldn't load match `NAME'``.
pub const MATCHES_V4: &[&str] = &[
    "addrtype",
    "ah",
    "bpf",
    "cgroup",
    "cluster",
    "comment",
    "connbytes",
    "connlabel",
    "connlimit",
    "connmark",
    "conntrack",
    "cpu",
    "dccp",
    "devgroup",
    "dscp",
    "ecn",
    "esp",
    "hashlimit",
    "helper",
    "icmp",
    "ipcomp",
    "iprange",
    "ipvs",
    "length",
    "limit",
    "mac",
    "mark",
    "multiport",
    "nfacct",
    "osf",
    "owner",
    "physdev",
    "pkttype",
    "policy",
    "quota",
    "rateest",
    "realm",
    "recent",
    "rpfilter",
    "sctp",
    "set",
    "socket",
    "state",
    "statistic",
    "string",
    "tcp",
    "tcpmss",
    "time",
    "tos",
    "ttl",
    "u32",
    "udp",
];

/// IPv6-only match extensions (`libip6t_*`).
pub const MATCHES_V6_ONLY: &[&str] = &[
    "dst",
    "eui64",
    "frag",
    "hbh",
    "hl",
    "icmp6",
    "ipv6header",
    "mh",
    "rt",
    "srh",
];

/// Target extensions; a `-j` name that is none of these is a chain name.
pub const TARGETS: &[&str] = &[
    "ACCEPT",
    "AUDIT",
    "CHECKSUM",
    "CLASSIFY",
    "CLUSTERIP",
    "CONNMARK",
    "CONNSECMARK",
    "CT",
    "DNAT",
    "DNPT",
    "DROP",
    "DSCP",
    "ECN",
    "HL",
    "HMARK",
    "IDLETIMER",
    "LED",
    "LOG",
    "MARK",
    "MASQUERADE",
    "NETMAP",
    "NFLOG",
    "NFQUEUE",
    "NOTRACK",
    "QUEUE",
    "RATEEST",
    "REDIRECT",
    "REJECT",
    "RETURN",
    "SECMARK",
    "SET",
    "SNAT",
    "SNPT",
    "SYNPROXY",
    "TCPMSS",
    "TCPOPTSTRIP",
    "TEE",
    "TOS",
    "TPROXY",
    "TRACE",
    "TTL",
    "ULOG",
];

/// Linux's default `net.ipv4.ip_local_port_range`: the source ports of client connections.
pub const EPHEMERAL: (u16, u16) = (32768, 60999);

pub fn tcp_service(name: &str) -> Option<u16> {
    lookup(TCP_SERVICES, name)
}

pub fn udp_service(name: &str) -> Option<u16> {
    lookup(UDP_SERVICES, name)
}

fn lookup(table: &[(&str, u16)], name: &str) -> Option<u16> {
    table
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| table[i].1)
}

pub fn is_protocol_name(name: &str) -> bool {
    PROTOCOLS.binary_search(&name).is_ok()
}

pub fn is_target(name: &str) -> bool {
    TARGETS.binary_search(&name).is_ok()
}

/// The installed match called `name`, if any.
pub fn match_name(name: &str, v6: bool) -> Option<&'static str> {
    match name {
        "tcp" => return Some("tcp"),
        "multiport" => return Some("multiport"),
        "conntrack" => return Some("conntrack"),
        "comment" => return Some("comment"),
        _ => {}
    }
    let find = |t: &'static [&'static str]| t.binary_search(&name).ok().map(|i| t[i]);
    if v6 {
        find(MATCHES_V6_ONLY).or_else(|| find(MATCHES_V4).filter(|m| !MATCHES_V4_ONLY.contains(m)))
    } else {
        find(MATCHES_V4)
    }
}

/// Matches of [`MATCHES_V4`] with no ip6tables build (`libipt_*` only); ip6tables
/// says ``Couldn't load match `icmp'`` (measured, 1.8.9 nft).
const MATCHES_V4_ONLY: &[&str] = &["icmp", "realm", "ttl"];

/// ICMPv6 type names of ip6tables' icmp6 match (`libip6t_icmp6.c`), in its order,
/// with the type and the code each stands for (`None`: every code).
const ICMPV6_TYPES: &[(&str, u8, Option<u8>)] = &[
    ("destination-unreachable", 1, None),
    ("no-route", 1, Some(0)),
    ("communication-prohibited", 1, Some(1)),
    ("beyond-scope", 1, Some(2)),
    ("address-unreachable", 1, Some(3)),
    ("port-unreachable", 1, Some(4)),
    ("failed-policy", 1, Some(5)),
    ("reject-route", 1, Some(6)),
    ("packet-too-big", 2, None),
    ("time-exceeded", 3, None),
    ("ttl-exceeded", 3, None),
    ("ttl-zero-during-transit", 3, Some(0)),
    ("ttl-zero-during-reassembly", 3, Some(1)),
    ("parameter-problem", 4, None),
    ("bad-header", 4, Some(0)),
    ("unknown-header-type", 4, Some(1)),
    ("unknown-option", 4, Some(2)),
    ("echo-request", 128, None),
    ("ping", 128, None),
    ("echo-reply", 129, None),
    ("pong", 129, None),
    ("router-solicitation", 133, None),
    ("router-advertisement", 134, None),
    ("neighbour-solicitation", 135, None),
    ("neighbor-solicitation", 135, None),
    ("neighbour-advertisement", 136, None),
    ("neighbor-advertisement", 136, None),
    ("redirect", 137, None),
];

/// An ICMPv6 type and code (`None`: every code).
pub type Icmpv6Type = (u8, Option<u8>);

/// What a `--icmpv6-type` value names, or ip6tables' own error: a name may be
/// abbreviated and is compared without case, but an abbreviation of two names is
/// refused even when both mean one type (measured, 1.8.9: `neigh`, and the empty
/// value); `TYPE[/CODE]` numbers up to 255 are taken as written (`136/1` loads).
pub fn icmpv6_type(value: &str) -> Result<Icmpv6Type, String> {
    if value.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return icmpv6_number(value);
    }
    let lower = value.to_ascii_lowercase();
    let mut found = ICMPV6_TYPES
        .iter()
        .filter(|(n, _, _)| n.starts_with(&lower));
    match (found.next(), found.next()) {
        (Some(&(_, t, code)), None) => Ok((t, code)),
        (Some(a), Some(b)) => Err(format!(
            "Ambiguous ICMPv6 type `{value}': `{}' or `{}'?",
            a.0, b.0
        )),
        _ => Err(format!("Unknown ICMPv6 type `{value}'")),
    }
}

/// `TYPE` or `TYPE/CODE` (measured messages: ``Unknown ICMPv6 type `300'``,
/// ``Unknown ICMPv6 code `135/300'``, `unknown character x` for `1x`).
fn icmpv6_number(value: &str) -> Result<Icmpv6Type, String> {
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = value.split_at(digits);
    let kind = number
        .parse::<u8>()
        .map_err(|_| format!("Unknown ICMPv6 type `{value}'"))?;
    let Some(code) = rest.strip_prefix('/') else {
        return match rest.chars().next() {
            None => Ok((kind, None)),
            Some(c) => Err(format!("unknown character {c}")),
        };
    };
    let code = Some(code)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u8>().ok())
        .ok_or_else(|| format!("Unknown ICMPv6 code `{value}'"))?;
    Ok((kind, Some(code)))
}

/// `--reject-with` types of ip6tables' REJECT (measured, 1.8.9 nft: the IPv4 names
/// and `tcp-rst` are refused with `unknown reject type`).
pub fn is_icmpv6_reject_type(value: &str) -> bool {
    matches!(
        value,
        "icmp6-no-route"
            | "no-route"
            | "icmp6-adm-prohibited"
            | "adm-prohibited"
            | "icmp6-addr-unreachable"
            | "addr-unreach"
            | "icmp6-port-unreachable"
            | "port-unreach"
            | "icmp6-policy-fail"
            | "policy-fail"
            | "icmp6-reject-route"
            | "reject-route"
            | "tcp-reset"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [TCP_SERVICES, UDP_SERVICES] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        }
        for t in [PROTOCOLS, MATCHES_V4, MATCHES_V6_ONLY, TARGETS] {
            assert!(t.windows(2).all(|w| w[0] < w[1]), "{:?}", t.first());
        }
    }

    /// ip6tables 1.8.9's own verdicts on these values (measured).
    #[test]
    fn icmpv6_types_as_ip6tables_reads_them() {
        assert_eq!(icmpv6_type("neighbour-s"), Ok((135, None)));
        assert_eq!(icmpv6_type("NEIGHBOUR-SOLICITATION"), Ok((135, None)));
        assert_eq!(icmpv6_type("neighbor-a"), Ok((136, None)));
        assert_eq!(icmpv6_type("ping"), Ok((128, None)));
        assert_eq!(icmpv6_type("135/0"), Ok((135, Some(0))));
        assert_eq!(icmpv6_type("136/1"), Ok((136, Some(1))));
        let err = |v: &str| icmpv6_type(v).unwrap_err();
        assert_eq!(
            err("neigh"),
            "Ambiguous ICMPv6 type `neigh': `neighbour-solicitation' or `neighbor-solicitation'?"
        );
        assert_eq!(
            err("n"),
            "Ambiguous ICMPv6 type `n': `no-route' or `neighbour-solicitation'?"
        );
        assert_eq!(
            err("r"),
            "Ambiguous ICMPv6 type `r': `reject-route' or `router-solicitation'?"
        );
        assert_eq!(
            err(""),
            "Ambiguous ICMPv6 type `': `destination-unreachable' or `no-route'?"
        );
        assert_eq!(err("300"), "Unknown ICMPv6 type `300'");
        assert_eq!(err("256"), "Unknown ICMPv6 type `256'");
        assert_eq!(err("135/300"), "Unknown ICMPv6 code `135/300'");
        assert_eq!(err("135/"), "Unknown ICMPv6 code `135/'");
        assert_eq!(err("1x"), "unknown character x");
        assert_eq!(err("bogus"), "Unknown ICMPv6 type `bogus'");
    }

    #[test]
    fn resolves_common_services() {
        assert_eq!(tcp_service("ftp"), Some(21));
        assert_eq!(tcp_service("ftp-data"), Some(20));
        assert_eq!(tcp_service("ssh"), Some(22));
        assert_eq!(tcp_service("http"), Some(80));
        assert_eq!(tcp_service("https"), Some(443));
        assert_eq!(tcp_service("SSH"), None);
    }
}
