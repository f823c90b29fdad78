//! The directive names vsftpd 3.0.3 accepts, with their types and compiled-in
//! defaults (`parseconf.c` tables, `tunables.c` defaults, Debian 3.0.3 binary).

/// How vsftpd reads a directive's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Uint,
    Str,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Bool => "yes/no",
            Kind::Uint => "number",
            Kind::Str => "string",
        }
    }
}

/// A compiled-in default, as the Debian 3.0.3 binary has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Default {
    Bool(bool),
    Uint(u32),
    Str(Option<&'static str>),
}

/// One directive the Debian 3.0.3 binary accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Default,
}

/// A name other vsftpd builds accept but Debian's 3.0.3 rejects.
#[derive(Debug, PartialEq, Eq)]
pub struct Foreign {
    pub name: &'static str,
    pub kind: Kind,
    /// Which builds accept it, as said to the user.
    pub accepted_by: &'static str,
}

const fn bool(name: &'static str, default: bool) -> Directive {
    Directive {
        name,
        kind: Kind::Bool,
        default: Default::Bool(default),
    }
}

const fn uint(name: &'static str, default: u32) -> Directive {
    Directive {
        name,
        kind: Kind::Uint,
        default: Default::Uint(default),
    }
}

const fn string(name: &'static str, default: Option<&'static str>) -> Directive {
    Directive {
        name,
        kind: Kind::Str,
        default: Default::Str(default),
    }
}

const FEDORA: &str = "Fedora/RHEL builds";

const fn foreign(name: &'static str, kind: Kind, accepted_by: &'static str) -> Foreign {
    Foreign {
        name,
        kind,
        accepted_by,
    }
}

/// Upstream 3.0.3's 132 names in table order (80 bool, 20 uint, 32 string),
/// then the Debian additions. `listen` defaults to NO in the Debian build
/// (upstream 3.0.x: YES); `secure_chroot_dir` is Debian's.
pub static DIRECTIVES: &[Directive] = &[
    bool("anonymous_enable", true),
    bool("local_enable", false),
    bool("pasv_enable", true),
    bool("port_enable", true),
    bool("chroot_local_user", false),
    bool("write_enable", false),
    bool("anon_upload_enable", false),
    bool("anon_mkdir_write_enable", false),
    bool("anon_other_write_enable", false),
    bool("chown_uploads", false),
    bool("connect_from_port_20", false),
    bool("xferlog_enable", false),
    bool("dirmessage_enable", false),
    bool("anon_world_readable_only", true),
    bool("async_abor_enable", false),
    bool("ascii_upload_enable", false),
    bool("ascii_download_enable", false),
    bool("one_process_model", false),
    bool("xferlog_std_format", false),
    bool("pasv_promiscuous", false),
    bool("deny_email_enable", false),
    bool("chroot_list_enable", false),
    bool("setproctitle_enable", false),
    bool("text_userdb_names", false),
    bool("ls_recurse_enable", false),
    bool("log_ftp_protocol", false),
    bool("guest_enable", false),
    bool("userlist_enable", false),
    bool("userlist_deny", true),
    bool("use_localtime", false),
    bool("check_shell", true),
    bool("hide_ids", false),
    bool("listen", false),
    bool("port_promiscuous", false),
    bool("passwd_chroot_enable", false),
    bool("no_anon_password", false),
    bool("tcp_wrappers", false),
    bool("use_sendfile", true),
    bool("force_dot_files", false),
    bool("listen_ipv6", false),
    bool("dual_log_enable", false),
    bool("syslog_enable", false),
    bool("background", false),
    bool("virtual_use_local_privs", false),
    bool("session_support", false),
    bool("download_enable", true),
    bool("dirlist_enable", true),
    bool("chmod_enable", true),
    bool("secure_email_list_enable", false),
    bool("run_as_launching_user", false),
    bool("no_log_lock", false),
    bool("ssl_enable", false),
    bool("allow_anon_ssl", false),
    bool("force_local_logins_ssl", true),
    bool("force_local_data_ssl", true),
    bool("ssl_sslv2", false),
    bool("ssl_sslv3", false),
    bool("ssl_tlsv1", true),
    bool("tilde_user_enable", false),
    bool("force_anon_logins_ssl", false),
    bool("force_anon_data_ssl", false),
    bool("mdtm_write", true),
    bool("lock_upload_files", true),
    bool("pasv_addr_resolve", false),
    bool("debug_ssl", false),
    bool("require_cert", false),
    bool("validate_cert", false),
    bool("strict_ssl_read_eof", true),
    bool("strict_ssl_write_shutdown", false),
    bool("ssl_request_cert", true),
    bool("delete_failed_uploads", false),
    bool("implicit_ssl", false),
    bool("ptrace_sandbox", false),
    bool("require_ssl_reuse", true),
    bool("isolate", true),
    bool("isolate_network", true),
    bool("ftp_enable", true),
    bool("http_enable", false),
    bool("seccomp_sandbox", true),
    bool("allow_writeable_chroot", false),
    uint("accept_timeout", 60),
    uint("connect_timeout", 60),
    uint("local_umask", 0o77),
    uint("anon_umask", 0o77),
    uint("ftp_data_port", 20),
    uint("idle_session_timeout", 300),
    uint("data_connection_timeout", 300),
    uint("pasv_min_port", 5001),
    uint("pasv_max_port", 0),
    uint("anon_max_rate", 0),
    uint("local_max_rate", 0),
    uint("listen_port", 21),
    uint("max_clients", 2000),
    uint("file_open_mode", 0o666),
    uint("max_per_ip", 50),
    uint("trans_chunk_size", 0),
    uint("delay_failed_login", 1),
    uint("delay_successful_login", 0),
    uint("max_login_fails", 3),
    uint("chown_upload_mode", 0o600),
    string("secure_chroot_dir", Some("/var/run/vsftpd/empty")),
    string("ftp_username", Some("ftp")),
    string("chown_username", Some("root")),
    string("xferlog_file", Some("/var/log/xferlog")),
    string("vsftpd_log_file", Some("/var/log/vsftpd.log")),
    string("message_file", Some(".message")),
    string("nopriv_user", Some("nobody")),
    string("ftpd_banner", None),
    string("banned_email_file", Some("/etc/vsftpd.banned_emails")),
    string("chroot_list_file", Some("/etc/vsftpd.chroot_list")),
    string("pam_service_name", Some("ftp")),
    string("guest_username", Some("ftp")),
    string("userlist_file", Some("/etc/vsftpd.user_list")),
    string("anon_root", None),
    string("local_root", None),
    string("banner_file", None),
    string("pasv_address", None),
    string("listen_address", None),
    string("user_config_dir", None),
    string("listen_address6", None),
    string("cmds_allowed", None),
    string("hide_file", None),
    string("deny_file", None),
    string("user_sub_token", None),
    string("email_password_file", Some("/etc/vsftpd.email_passwords")),
    string("rsa_cert_file", Some("/usr/share/ssl/certs/vsftpd.pem")),
    string("dsa_cert_file", None),
    string("ssl_ciphers", Some("ECDHE-RSA-AES256-GCM-SHA384")),
    string("rsa_private_key_file", None),
    string("dsa_private_key_file", None),
    string("ca_certs_file", None),
    string("cmds_denied", None),
    bool("utf8_filesystem", false),
    string("upload_file", None),
    string("download_file", None),
];

/// Names only other builds accept (Fedora/RHEL fork HEAD, upstream 3.0.5, 2.3.x).
pub static FOREIGN: &[Foreign] = &[
    foreign("ssl_tlsv1_1", Kind::Bool, FEDORA),
    foreign("ssl_tlsv1_2", Kind::Bool, FEDORA),
    foreign("ssl_tlsv1_3", Kind::Bool, FEDORA),
    foreign("reverse_lookup_enable", Kind::Bool, FEDORA),
    foreign("userlist_log", Kind::Bool, FEDORA),
    foreign("better_stou", Kind::Bool, FEDORA),
    foreign("log_die", Kind::Bool, FEDORA),
    foreign("wc_logs_enable", Kind::Bool, FEDORA),
    foreign("bind_retries", Kind::Uint, FEDORA),
    foreign("dh_param_file", Kind::Str, FEDORA),
    foreign("ecdh_param_file", Kind::Str, FEDORA),
    foreign(
        "ssl_sni_hostname",
        Kind::Str,
        "vsftpd 3.0.5 and Fedora/RHEL builds",
    ),
    foreign("sandbox", Kind::Bool, "vsftpd 2.3.x (removed in 3.0.0)"),
];

/// The directive called exactly `name` (case-sensitive, as vsftpd compares).
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name == name)
}

pub fn lookup_foreign(name: &str) -> Option<&'static Foreign> {
    FOREIGN.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_measured_counts() {
        let count = |k| DIRECTIVES.iter().filter(|d| d.kind == k).count();
        assert_eq!(count(Kind::Bool), 81);
        assert_eq!(count(Kind::Uint), 20);
        assert_eq!(count(Kind::Str), 34);
    }

    #[test]
    fn names_are_unique_and_foreign_names_are_not_accepted() {
        for (i, d) in DIRECTIVES.iter().enumerate() {
            assert!(
                DIRECTIVES[..i].iter().all(|e| e.name != d.name),
                "{}",
                d.name
            );
        }
        for f in FOREIGN {
            assert!(lookup(f.name).is_none(), "{}", f.name);
        }
    }

    #[test]
    fn defaults_match_tunables_c() {
        assert_eq!(
            lookup("pasv_min_port").unwrap().default,
            Default::Uint(5001)
        );
        assert_eq!(lookup("max_clients").unwrap().default, Default::Uint(2000));
        assert_eq!(lookup("local_umask").unwrap().default, Default::Uint(0o77));
        assert_eq!(lookup("listen").unwrap().default, Default::Bool(false));
        assert_eq!(
            lookup("force_local_logins_ssl").unwrap().default,
            Default::Bool(true)
        );
        assert_eq!(lookup("pasv_address").unwrap().default, Default::Str(None));
        assert!(lookup("Listen_port").is_none());
    }
}
