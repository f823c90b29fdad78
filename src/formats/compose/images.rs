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
    pub address: Option<&'static str>,
    /// The announced address when the variable is not set, if a fixed one.
    pub default_address: Option<&'static str>,
    /// What the entrypoint announces when the variable is not set and no fixed
    /// default applies, where the entrypoint was read.
    pub unset_announces: Option<&'static str>,
    /// The variable that sets the session limit, and its default.
    pub max_clients: Option<(&'static str, u32)>,
    /// Every variable the entrypoint reads, where all of them were read; `None`
    /// when only the ones above are known.
    pub reads: Option<&'static [&'static str]>,
    /// Names users write for a variable the image reads under another name.
    pub confusions: &'static [(&'static str, &'static str)],
    /// The config file the daemon runs with and how the entrypoint treats it,
    /// where the entrypoint was read; `None` when not known.
    pub config: Option<ConfigUse>,
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
        address: Some("PASV_ADDRESS"),
        // Default: the container's default gateway (`ip route`), not known here.
        default_address: None,
        // The Dockerfile's `ENV PASV_ADDRESS **IPv4**` makes run-vsftpd.sh write
        // `pasv_address=` the default route's gateway.
        unset_announces: Some(
            "the container's default gateway (`ip route`), the Docker bridge's own address",
        ),
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
        address: Some("ADDRESS"),
        default_address: None,
        unset_announces: None,
        max_clients: None,
        reads: Some(&[
            "USERS", "MIN_PORT", "MAX_PORT", "ADDRESS", "TLS_CERT", "TLS_KEY",
        ]),
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
    },
    Image {
        name: "stilliard/pure-ftpd",
        server: "pure-ftpd",
        source: "https://github.com/stilliard/docker-pure-ftpd/blob/master/run.sh",
        passive: PassiveFrom::Colon {
            var: "FTP_PASSIVE_PORTS",
            default: (30000, 30009),
        },
        address: Some("PUBLICHOST"),
        // Dockerfile `ENV PUBLICHOST localhost`, passed as `-P $PUBLICHOST`.
        default_address: Some("localhost"),
        unset_announces: None,
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
        confusions: &[
            ("PUBLIC_HOST", "PUBLICHOST"),
            ("PASV_ADDRESS", "PUBLICHOST"),
        ],
        // `exec /usr/sbin/pure-ftpd $PURE_FTPD_FLAGS`: switches, no config file.
        config: Some(ConfigUse {
            path: "/etc/pure-ftpd/pure-ftpd.conf",
            mounted: MountedConfig::NotRead,
        }),
    },
    Image {
        name: "garethflowers/ftp-server",
        server: "vsftpd",
        source: "https://github.com/garethflowers/docker-ftp-server",
        passive: PassiveFrom::Fixed(40000, 40009),
        address: Some("PUBLIC_IP"),
        default_address: None,
        unset_announces: None,
        max_clients: None,
        reads: None,
        confusions: &[("PASV_ADDRESS", "PUBLIC_IP")],
        config: None,
    },
    Image {
        name: "panubo/vsftpd",
        server: "vsftpd",
        source: "https://github.com/panubo/docker-vsftpd",
        passive: PassiveFrom::Fixed(4559, 4564),
        address: Some("FTP_PASV_ADDRESS"),
        default_address: None,
        unset_announces: None,
        max_clients: None,
        reads: None,
        confusions: &[("PASV_ADDRESS", "FTP_PASV_ADDRESS")],
        config: None,
    },
    Image {
        name: "million12/vsftpd",
        server: "vsftpd",
        source: "https://github.com/million12/docker-vsftpd",
        passive: PassiveFrom::Fixed(21100, 21110),
        address: Some("CUSTOM_PASSIVE_ADDRESS"),
        default_address: None,
        unset_announces: None,
        max_clients: None,
        reads: None,
        confusions: &[("PASV_ADDRESS", "CUSTOM_PASSIVE_ADDRESS")],
        config: None,
    },
    Image {
        name: "bogem/ftp",
        server: "vsftpd",
        source: "https://github.com/bogem/dockerfiles/tree/master/ftp",
        passive: PassiveFrom::Fixed(47400, 47470),
        address: Some("PASV_ADDRESS"),
        default_address: None,
        unset_announces: None,
        max_clients: None,
        reads: None,
        confusions: &[],
        config: None,
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
    if reads.contains(&name) {
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
    }
}
