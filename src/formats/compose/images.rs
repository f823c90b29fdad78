//! How popular FTP images turn environment variables into daemon settings, one
//! entry per image, each read from the image's own entrypoint (`source`).

pub use crate::facts::MountedConfig;

/// Where an image's passive range comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassiveFrom {
    /// Two variables written into `pasv_min_port` / `pasv_max_port`.
    MinMax {
        min: &'static str,
        max: &'static str,
        default: (u16, u16),
    },
    /// One `first:last` variable handed to pure-ftpd as `-p`.
    Colon {
        var: &'static str,
        default: (u16, u16),
    },
    /// Baked into the image's config; no variable changes it.
    Fixed(u16, u16),
}

#[derive(Debug)]
pub struct Image {
    /// Docker Hub name, without registry or tag.
    pub name: &'static str,
    /// The daemon inside (`FtpServer::server`).
    pub server: &'static str,
    /// The entrypoint (or Dockerfile) the entry was read from.
    pub source: &'static str,
    pub passive: PassiveFrom,
    /// The variable that sets the address announced in PASV replies.
    pub address: Option<Address>,
    /// The variable that sets the session limit, and its default.
    pub max_clients: Option<(&'static str, u32)>,
    /// Every variable the entrypoint reads, where all of them were read; `None`
    /// when only the ones above are known.
    pub reads: Option<&'static [&'static str]>,
    /// Prefixes of variables the entrypoint reads by pattern (`FTP_USER_*`).
    pub read_prefixes: &'static [&'static str],
    /// Names users write for a variable the image reads under another name.
    pub confusions: &'static [(&'static str, &'static str)],
    /// The config file the daemon runs with and how the entrypoint treats it,
    /// where the entrypoint was read; `None` when not known.
    pub config: Option<ConfigUse>,
    /// The variable the entrypoint writes into vsftpd's `pasv_addr_resolve`,
    /// where it writes one; `None` when the image does not.
    pub address_resolve: Option<AddressResolve>,
    /// The image's ENTRYPOINT and CMD, where its Dockerfile was read; `None`
    /// when not known (then an `entrypoint:`/`command:` leaves the server unknown).
    pub start: Option<Start>,
}

/// What the image starts with, as Docker stores it: exec form, a shell-form
/// CMD as `/bin/sh -c "…"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub entrypoint: &'static [&'static str],
    pub cmd: &'static [&'static str],
    /// The script whose arguments the CMD gives (stilliard's `/run.sh`), when
    /// another command line may run it with others ([`super::run_sh`]).
    pub script: Option<&'static str>,
}

impl Start {
    /// `argv` is the image's own ENTRYPOINT and CMD.
    pub fn is_default(&self, argv: &[super::command::Word]) -> bool {
        let default: Vec<&str> = self.entrypoint.iter().chain(self.cmd).copied().collect();
        argv.len() == default.len()
            && argv
                .iter()
                .zip(default)
                .all(|(w, d)| w.text.as_deref() == Some(d))
    }
}

/// A variable written verbatim into `pasv_addr_resolve=`, and the value the
/// image's Dockerfile gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressResolve {
    pub var: &'static str,
    pub default: &'static str,
}

/// The variable behind the address of PASV replies, and what the entrypoint
/// does without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub var: &'static str,
    /// The value the image's Dockerfile gives the variable, which the
    /// entrypoint reads as "not set" (`**IPv4**`, `REQUIRED`, `false`).
    pub sentinel: Option<&'static str>,
    pub unset: Unset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unset {
    /// The daemon announces this fixed default.
    Announces(&'static str),
    /// The daemon announces an address of the container's own network,
    /// described.
    ContainerNetwork(&'static str),
    /// The entrypoint announces the default route's gateway (`ip route`),
    /// described for a container on a bridge: on the host's network it is the
    /// host's own gateway, usually the LAN router, which no client reaches it through.
    Gateway(&'static str),
    /// The entrypoint exits before the daemon starts, printing this.
    Exits(&'static str),
}

/// What vsftpd without `pasv_address` announces inside a container: the local
/// address of the control connection, which Docker's DNAT (or a pod network)
/// makes the container's own.
const CONTAINER_ADDRESS: &str = "the container's own address (vsftpd without pasv_address announces the address the control connection arrived at, which Docker's port publishing or a Kubernetes Service's NAT makes the container's)";

impl Address {
    /// Whether the entrypoint treats `value` as the variable not set: empty, or
    /// the Dockerfile's placeholder.
    pub fn counts_as_unset(&self, value: &str) -> bool {
        let v = value.trim();
        v.is_empty() || Some(v) == self.sentinel
    }
}

/// What the daemon of an image reads when a file is mounted over its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigUse {
    /// The path inside the container.
    pub path: &'static str,
    pub mounted: MountedConfig,
}

pub static IMAGES: &[Image] = &[
    Image {
        name: "fauria/vsftpd",
        server: "vsftpd",
        source: "https://github.com/fauria/docker-vsftpd/blob/master/run-vsftpd.sh",
        passive: PassiveFrom::MinMax {
            min: "PASV_MIN_PORT",
            max: "PASV_MAX_PORT",
            default: (21100, 21110),
        },
        // The Dockerfile's `ENV PASV_ADDRESS **IPv4**` makes run-vsftpd.sh write
        // `pasv_address=` the default route's gateway.
        address: Some(Address {
            var: "PASV_ADDRESS",
            sentinel: Some("**IPv4**"),
            unset: Unset::Gateway(
                "the container's default gateway (`ip route`): the Docker bridge's or the pod network's own address",
            ),
        }),
        max_clients: None,
        reads: Some(&[
            "FTP_USER",
            "FTP_PASS",
            "LOG_STDOUT",
            "PASV_ADDRESS",
            "PASV_ADDR_RESOLVE",
            "PASV_ENABLE",
            "PASV_MIN_PORT",
            "PASV_MAX_PORT",
            "XFERLOG_STD_FORMAT",
            "FILE_OPEN_MODE",
            "LOCAL_UMASK",
            "REVERSE_LOOKUP_ENABLE",
            "PASV_PROMISCUOUS",
            "PORT_PROMISCUOUS",
        ]),
        read_prefixes: &[],
        confusions: &[
            ("PASV_ADDRESS_RESOLVE", "PASV_ADDR_RESOLVE"),
            ("PASV_MIN", "PASV_MIN_PORT"),
            ("PASV_MAX", "PASV_MAX_PORT"),
        ],
        // `echo "pasv_max_port=${PASV_MAX_PORT}" >> /etc/vsftpd/vsftpd.conf`, then
        // `vsftpd /etc/vsftpd/vsftpd.conf`; a read-only mount makes the appends fail
        // (the script has no `set -e`).
        config: Some(ConfigUse {
            path: "/etc/vsftpd/vsftpd.conf",
            mounted: MountedConfig::ImageRangeWins,
        }),
        // Dockerfile `ENV PASV_ADDR_RESOLVE NO`; run-vsftpd.sh appends
        // `pasv_addr_resolve=${PASV_ADDR_RESOLVE}` after `pasv_address=${PASV_ADDRESS}`.
        address_resolve: Some(AddressResolve {
            var: "PASV_ADDR_RESOLVE",
            default: "NO",
        }),
        // Dockerfile `CMD ["/usr/sbin/run-vsftpd.sh"]`, no ENTRYPOINT.
        start: Some(Start {
            entrypoint: &[],
            cmd: &["/usr/sbin/run-vsftpd.sh"],
            script: None,
        }),
    },
    Image {
        name: "delfer/alpine-ftp-server",
        server: "vsftpd",
        source: "https://github.com/delfer/docker-alpine-ftp-server/blob/master/start_vsftpd.sh",
        passive: PassiveFrom::MinMax {
            min: "MIN_PORT",
            max: "MAX_PORT",
            default: (21000, 21010),
        },
        // `[ ! -z "$ADDRESS" ] && ADDR_OPT="-opasv_address=$ADDRESS"`; the image's
        // vsftpd.conf sets no pasv_address.
        address: Some(Address {
            var: "ADDRESS",
            sentinel: None,
            unset: Unset::ContainerNetwork(CONTAINER_ADDRESS),
        }),
        max_clients: None,
        reads: Some(&[
            "USERS", "MIN_PORT", "MAX_PORT", "ADDRESS", "TLS_CERT", "TLS_KEY",
        ]),
        read_prefixes: &[],
        confusions: &[
            ("PASV_MIN_PORT", "MIN_PORT"),
            ("PASV_MAX_PORT", "MAX_PORT"),
            ("PASV_ADDRESS", "ADDRESS"),
        ],
        // `vsftpd -opasv_min_port=$MIN_PORT -opasv_max_port=$MAX_PORT … /etc/vsftpd/vsftpd.conf`.
        config: Some(ConfigUse {
            path: "/etc/vsftpd/vsftpd.conf",
            mounted: MountedConfig::FileRangeWins,
        }),
        address_resolve: None,
        start: None,
    },
    Image {
        name: "stilliard/pure-ftpd",
        server: "pure-ftpd",
        source: "https://github.com/stilliard/docker-pure-ftpd/blob/master/run.sh",
        passive: PassiveFrom::Colon {
            var: "FTP_PASSIVE_PORTS",
            default: (30000, 30009),
        },
        // Dockerfile `ENV PUBLICHOST localhost`, passed as `-P $PUBLICHOST`.
        address: Some(Address {
            var: "PUBLICHOST",
            sentinel: None,
            unset: Unset::Announces("localhost"),
        }),
        max_clients: Some(("FTP_MAX_CLIENTS", 5)),
        reads: Some(&[
            "ADDED_FLAGS",
            "TLS_CN",
            "TLS_ORG",
            "TLS_C",
            "TLS_USE_DSAPRAM",
            "FTP_USER_NAME",
            "FTP_USER_PASS",
            "FTP_USER_HOME",
            "FTP_USER_UID",
            "FTP_USER_GID",
            "FTP_USER_HOME_PERMISSION",
            "FTP_PASSIVE_PORTS",
            "FTP_MAX_CLIENTS",
            "FTP_MAX_CONNECTIONS",
            "PUBLICHOST",
        ]),
        read_prefixes: &[],
        confusions: &[
            ("PUBLIC_HOST", "PUBLICHOST"),
            ("PASV_ADDRESS", "PUBLICHOST"),
        ],
        // `exec /usr/sbin/pure-ftpd $PURE_FTPD_FLAGS`: switches, no config file.
        config: Some(ConfigUse {
            path: "/etc/pure-ftpd/pure-ftpd.conf",
            mounted: MountedConfig::NotRead,
        }),
        address_resolve: None,
        // Dockerfile `CMD /run.sh -l puredb:/etc/pure-ftpd/pureftpd.pdb -E -j -R
        // -P $PUBLICHOST` (shell form), no ENTRYPOINT.
        start: Some(Start {
            entrypoint: &[],
            cmd: &[
                "/bin/sh",
                "-c",
                "/run.sh -l puredb:/etc/pure-ftpd/pureftpd.pdb -E -j -R -P $PUBLICHOST",
            ],
            script: Some("/run.sh"),
        }),
    },
    Image {
        name: "garethflowers/ftp-server",
        server: "vsftpd",
        source: "https://github.com/garethflowers/docker-ftp-server/blob/main/src/docker-entrypoint.sh",
        // src/vsftpd.conf: `pasv_min_port=40000`, `pasv_max_port=40009`.
        passive: PassiveFrom::Fixed(40000, 40009),
        // Dockerfile `ENV PUBLIC_IP=0.0.0.0`; the entrypoint runs
        // `sed -i -r "s/0.0.0.0/$PUBLIC_IP/g" /etc/vsftpd.conf` over the config's
        // `pasv_address=0.0.0.0` (with `pasv_addr_resolve=YES`). A reply naming
        // 0.0.0.0 is one clients replace with the server's address.
        address: Some(Address {
            var: "PUBLIC_IP",
            sentinel: None,
            unset: Unset::Announces("0.0.0.0"),
        }),
        max_clients: None,
        reads: Some(&["FTP_USER", "FTP_PASS", "GID", "UID", "PUBLIC_IP"]),
        read_prefixes: &[],
        confusions: &[("PASV_ADDRESS", "PUBLIC_IP"), ("PUBLICHOST", "PUBLIC_IP")],
        // CMD `/usr/sbin/vsftpd`: no argument, so vsftpd reads /etc/vsftpd.conf,
        // which only the address `sed` touches.
        config: Some(ConfigUse {
            path: "/etc/vsftpd.conf",
            mounted: MountedConfig::FileIsConfig,
        }),
        address_resolve: None,
        start: None,
    },
    Image {
        name: "panubo/vsftpd",
        server: "vsftpd",
        source: "https://github.com/panubo/docker-vsftpd/blob/main/entry.sh",
        // vsftpd.conf: `pasv_min_port=4559`, `pasv_max_port=4564`.
        passive: PassiveFrom::Fixed(4559, 4564),
        // `echo "pasv_address=${FTP_PASV_ADDRESS}" >> /etc/vsftpd*.conf` only when set.
        address: Some(Address {
            var: "FTP_PASV_ADDRESS",
            sentinel: None,
            unset: Unset::ContainerNetwork(CONTAINER_ADDRESS),
        }),
        max_clients: None,
        reads: Some(&[
            "DEBUG",
            "FTP_USER",
            "FTP_PASSWORD",
            "FTP_PASSWORD_HASH",
            "FTP_USERS_ROOT",
            "FTP_PASV_ADDRESS",
            "FTP_CHOWN_ROOT",
        ]),
        // `env | grep "FTP_USER_"`: each such variable adds a user.
        read_prefixes: &["FTP_USER_"],
        confusions: &[
            ("PASV_ADDRESS", "FTP_PASV_ADDRESS"),
            ("FTP_PASS", "FTP_PASSWORD"),
        ],
        // CMD `vsftpd`: no argument, so vsftpd reads /etc/vsftpd.conf; the
        // entrypoint (`set -e`) appends the address to it when set.
        config: Some(ConfigUse {
            path: "/etc/vsftpd.conf",
            mounted: MountedConfig::FileIsConfig,
        }),
        address_resolve: None,
        start: None,
    },
    Image {
        name: "million12/vsftpd",
        server: "vsftpd",
        source: "https://github.com/million12/docker-vsftpd/blob/master/container-files/bootstrap.sh",
        // container-files/etc/vsftpd/vsftpd.conf: `pasv_min_port=21100`, `pasv_max_port=21110`.
        passive: PassiveFrom::Fixed(21100, 21110),
        // Dockerfile `ENV CUSTOM_PASSIVE_ADDRESS=false`; otherwise bootstrap.sh runs
        // `sed -i "s|pasv_address=|pasv_address=${CUSTOM_PASSIVE_ADDRESS}|g"` over the
        // config's empty `pasv_address=`, which vsftpd reads as not set.
        address: Some(Address {
            var: "CUSTOM_PASSIVE_ADDRESS",
            sentinel: Some("false"),
            unset: Unset::ContainerNetwork(CONTAINER_ADDRESS),
        }),
        max_clients: None,
        reads: Some(&[
            "FTP_USER",
            "FTP_PASS",
            "LOG_STDOUT",
            "ANONYMOUS_ACCESS",
            "UPLOADED_FILES_WORLD_READABLE",
            "CUSTOM_PASSIVE_ADDRESS",
        ]),
        read_prefixes: &[],
        confusions: &[
            ("PASV_ADDRESS", "CUSTOM_PASSIVE_ADDRESS"),
            ("PASSIVE_ADDRESS", "CUSTOM_PASSIVE_ADDRESS"),
        ],
        // `/usr/sbin/vsftpd /etc/vsftpd/vsftpd.conf`.
        config: Some(ConfigUse {
            path: "/etc/vsftpd/vsftpd.conf",
            mounted: MountedConfig::FileIsConfig,
        }),
        address_resolve: None,
        start: None,
    },
    Image {
        name: "bogem/ftp",
        server: "vsftpd",
        source: "https://github.com/bogem/dockerfiles/blob/master/ftp/run-vsftpd.sh",
        // ftp/vsftpd.conf: `pasv_min_port=47400`, `pasv_max_port=47470`.
        passive: PassiveFrom::Fixed(47400, 47470),
        // Dockerfile `ENV PASV_ADDRESS REQUIRED`; run-vsftpd.sh exits on it, else
        // appends `pasv_address=${PASV_ADDRESS}` to the config.
        address: Some(Address {
            var: "PASV_ADDRESS",
            sentinel: Some("REQUIRED"),
            unset: Unset::Exits("Please insert IPv4 address of your host"),
        }),
        max_clients: None,
        reads: Some(&["FTP_USER", "FTP_PASS", "PASV_ADDRESS"]),
        read_prefixes: &[],
        confusions: &[("PUBLICHOST", "PASV_ADDRESS")],
        // `vsftpd /etc/vsftpd/vsftpd.conf`.
        config: Some(ConfigUse {
            path: "/etc/vsftpd/vsftpd.conf",
            mounted: MountedConfig::FileIsConfig,
        }),
        address_resolve: None,
        start: None,
    },
];

/// The entry for an image reference (`docker.io/fauria/vsftpd:latest`, `fauria/vsftpd@sha256:…`).
pub fn lookup(reference: &str) -> Option<&'static Image> {
    let name = reference.split('@').next().unwrap_or(reference);
    let name = match name.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => name,
    };
    let name = name
        .strip_prefix("docker.io/")
        .or_else(|| name.strip_prefix("index.docker.io/"))
        .unwrap_or(name)
        .to_ascii_lowercase();
    IMAGES.iter().find(|i| i.name == name)
}

/// The variable the image reads that `name` was most likely meant to be; `None`
/// when the image reads `name`, or nothing it reads looks like it.
pub fn meant(image: &Image, name: &str) -> Option<&'static str> {
    if let Some((_, right)) = image.confusions.iter().find(|(wrong, _)| *wrong == name) {
        return Some(right);
    }
    let reads = image.reads?;
    if reads.contains(&name) || image.read_prefixes.iter().any(|p| name.starts_with(p)) {
        return None;
    }
    let squash = |s: &str| s.replace('_', "").to_ascii_uppercase();
    reads.iter().copied().find(|r| {
        squash(r) == squash(name)
            || (name.len() >= 8
                // The distance is at least the difference in length; checked first,
                // as the distance costs the product of the lengths.
                && name.chars().count().abs_diff(r.len()) <= 2
                && strsim::levenshtein(r, &name.to_ascii_uppercase()) <= 2)
    })
}

/// A passive range variable of some image in the table, which an image of a
/// fixed range does not read: `(lo, hi)` is the range it keeps.
pub fn fixed_range_ignores(image: &Image, name: &str) -> Option<(u16, u16)> {
    let PassiveFrom::Fixed(lo, hi) = image.passive else {
        return None;
    };
    let range_var = IMAGES.iter().any(|i| match i.passive {
        PassiveFrom::MinMax { min, max, .. } => name == min || name == max,
        PassiveFrom::Colon { var, .. } => name == var,
        PassiveFrom::Fixed(..) => false,
    });
    let read = image.reads.is_some_and(|r| r.contains(&name));
    (range_var && !read).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_with_registry_and_tag_find_the_image() {
        assert_eq!(lookup("fauria/vsftpd").unwrap().name, "fauria/vsftpd");
        assert_eq!(
            lookup("docker.io/stilliard/pure-ftpd:hardened")
                .unwrap()
                .name,
            "stilliard/pure-ftpd"
        );
        assert!(lookup("nginx:latest").is_none());
    }

    #[test]
    fn look_alike_variables_name_the_right_one() {
        let fauria = lookup("fauria/vsftpd").unwrap();
        assert_eq!(
            meant(fauria, "PASV_ADDRESS_RESOLVE"),
            Some("PASV_ADDR_RESOLVE")
        );
        assert_eq!(meant(fauria, "PASV_MIN_PORTS"), Some("PASV_MIN_PORT"));
        assert_eq!(meant(fauria, "PASV_MIN_PORT"), None);
        assert_eq!(meant(fauria, "TZ"), None);
        let pure = lookup("stilliard/pure-ftpd").unwrap();
        assert_eq!(meant(pure, "PUBLIC_HOST"), Some("PUBLICHOST"));
        let panubo = lookup("panubo/vsftpd").unwrap();
        assert_eq!(meant(panubo, "FTP_USER_ALICE"), None);
        assert_eq!(meant(panubo, "FTP_PASS"), Some("FTP_PASSWORD"));
    }

    #[test]
    fn fixed_range_images_ignore_other_images_range_variables() {
        let gareth = lookup("garethflowers/ftp-server").unwrap();
        assert_eq!(
            fixed_range_ignores(gareth, "PASV_MIN_PORT"),
            Some((40000, 40009))
        );
        assert_eq!(
            fixed_range_ignores(gareth, "FTP_PASSIVE_PORTS"),
            Some((40000, 40009))
        );
        assert_eq!(fixed_range_ignores(gareth, "PUBLIC_IP"), None);
        let fauria = lookup("fauria/vsftpd").unwrap();
        assert_eq!(fixed_range_ignores(fauria, "MIN_PORT"), None);
    }

    #[test]
    fn placeholders_count_as_unset() {
        let fauria = lookup("fauria/vsftpd").unwrap().address.unwrap();
        assert!(fauria.counts_as_unset("**IPv4**"));
        assert!(fauria.counts_as_unset(" "));
        assert!(!fauria.counts_as_unset("ftp.example.com"));
        let bogem = lookup("bogem/ftp").unwrap().address.unwrap();
        assert!(bogem.counts_as_unset("REQUIRED"));
    }
}
