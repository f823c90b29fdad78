//! The options pure-ftpd knows, with the grammar each reader applies to them:
//! the daemon's own `pure-ftpd.conf` parser (`src/simpleconf_ftpd.h`, as compiled
//! into Debian's 1.0.50) and Debian's `pure-ftpd-wrapper` (its `%conf` table).

/// What `pure-ftpd.conf` accepts after the option name (simpleconf patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfValue {
    /// `? <bool>`: yes/on/true/1 adds the flag, no/off/false/0 leaves it out.
    Bool,
    /// `(<digits>)`.
    Digits,
    /// `(<digits>) (<digits>)`, joined with `:`.
    TwoDigits,
    /// `(<digits>)` or `(<digits>) (<digits>)`.
    OneOrTwoDigits,
    /// `(<digits>):(<digits>)`.
    DigitsColonDigits,
    /// `(<nospace>)`.
    NoSpace,
    /// `(<alnum>)`.
    Alnum,
    /// `(<any*>)` (and `(<any>) (<any>)`).
    Any,
    /// Not in the daemon's table: "property not found".
    Absent,
}

/// What `pure-ftpd-wrapper` accepts in `/etc/pure-ftpd/conf/<Option>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrapperValue {
    /// `parse_yesno`: yes/1/on, no/0/off (any case).
    YesNo,
    /// `parse_number_1`: no non-digit character.
    Number,
    /// `parse_number_2`: `^(\d+)\s+(\d+)$`.
    TwoNumbers,
    /// `parse_number_1_2`.
    OneOrTwoNumbers,
    /// `parse_number_2_unlimited`: two numbers, each at least -1.
    TwoNumbersUnlimited,
    /// `parse_string`: no whitespace.
    String,
    /// `parse_word`: `^\w+$`.
    Word,
    /// `parse_ip`: a dotted IPv4 address.
    Ip,
    /// `parse_umask`: two 3-digit octal numbers.
    Umask,
    /// `parse_filename`: must name an existing file on the host.
    Filename,
    /// `parse_skip`: read and dropped.
    Skip,
    /// Authentication methods: skipped in `conf/` (read from `auth/` links).
    Auth,
    /// Not in the wrapper's tables: the wrapper dies.
    Absent,
}

pub struct OptionSpec {
    pub name: &'static str,
    /// The daemon's short option (`p` for `-p` / `--passiveportrange`); `None` for
    /// options that become `--login=...` or are not flags.
    pub flag: Option<char>,
    pub long: &'static str,
    pub conf: ConfValue,
    pub wrapper: WrapperValue,
}

macro_rules! spec {
    ($name:literal, $flag:expr, $long:literal, $conf:ident, $wrapper:ident) => {
        OptionSpec {
            name: $name,
            flag: $flag,
            long: $long,
            conf: ConfValue::$conf,
            wrapper: WrapperValue::$wrapper,
        }
    };
}

pub static OPTIONS: &[OptionSpec] = &[
    spec!(
        "AllowAnonymousFXP",
        Some('W'),
        "allowanonymousfxp",
        Bool,
        YesNo
    ),
    spec!("AllowDotFiles", Some('z'), "allowdotfiles", Bool, YesNo),
    spec!("AllowUserFXP", Some('w'), "allowuserfxp", Bool, YesNo),
    spec!("AltLog", Some('O'), "altlog", Any, String),
    spec!(
        "AnonymousBandwidth",
        Some('t'),
        "anonymousbandwidth",
        OneOrTwoDigits,
        OneOrTwoNumbers
    ),
    spec!(
        "AnonymousCanCreateDirs",
        Some('M'),
        "anonymouscancreatedirs",
        Bool,
        YesNo
    ),
    spec!(
        "AnonymousCantUpload",
        Some('i'),
        "anonymouscantupload",
        Bool,
        YesNo
    ),
    spec!("AnonymousOnly", Some('e'), "anonymousonly", Bool, YesNo),
    spec!(
        "AnonymousRatio",
        Some('q'),
        "anonymousratio",
        TwoDigits,
        TwoNumbers
    ),
    spec!("AntiWarez", Some('s'), "antiwarez", Bool, YesNo),
    spec!("AutoRename", Some('r'), "autorename", Bool, YesNo),
    spec!("Bind", Some('S'), "bind", NoSpace, String),
    spec!(
        "BrokenClientsCompatibility",
        Some('b'),
        "brokenclientscompatibility",
        Bool,
        YesNo
    ),
    spec!("CallUploadScript", Some('o'), "uploadscript", Bool, YesNo),
    spec!("CertFile", Some('2'), "certfile", Any, Absent),
    spec!("CertFileAndKey", Some('2'), "certfile", Any, Absent),
    spec!("ChrootEveryone", Some('A'), "chrooteveryone", Bool, YesNo),
    spec!("ClientCharset", Some('9'), "clientcharset", Absent, Skip),
    spec!("CreateHomeDir", Some('j'), "createhomedir", Bool, YesNo),
    spec!("CustomerProof", Some('Z'), "customerproof", Bool, YesNo),
    spec!("Daemonize", Some('B'), "daemonize", Bool, YesNo),
    spec!("DisplayDotFiles", Some('D'), "displaydotfiles", Bool, YesNo),
    spec!("DontResolve", Some('H'), "dontresolve", Bool, YesNo),
    spec!("ExtAuth", None, "login", Any, Auth),
    spec!("ExtCert", Some('3'), "extcert", Any, Absent),
    spec!(
        "ForcePassiveIP",
        Some('P'),
        "forcepassiveip",
        NoSpace,
        String
    ),
    spec!("FortunesFile", Some('F'), "fortunesfile", Any, Filename),
    spec!("FSCharset", Some('8'), "fscharset", Absent, Skip),
    spec!("IPV4Only", Some('4'), "ipv4only", Bool, YesNo),
    spec!("IPV6Only", Some('6'), "ipv6only", Bool, YesNo),
    spec!("KeepAllFiles", Some('K'), "keepallfiles", Bool, YesNo),
    spec!("LDAPConfigFile", None, "login", Any, Auth),
    spec!(
        "LimitRecursion",
        Some('L'),
        "limitrecursion",
        TwoDigits,
        TwoNumbersUnlimited
    ),
    spec!("LogPID", Some('1'), "logpid", Bool, YesNo),
    spec!(
        "MaxClientsNumber",
        Some('c'),
        "maxclientsnumber",
        Digits,
        Number
    ),
    spec!(
        "MaxClientsPerIP",
        Some('C'),
        "maxclientsperip",
        Digits,
        Number
    ),
    spec!("MaxDiskUsage", Some('k'), "maxdiskusagepct", Digits, Number),
    spec!("MaxIdleTime", Some('I'), "maxidletime", Digits, Number),
    spec!("MaxLoad", Some('m'), "maxload", Digits, Number),
    spec!("MinUID", Some('u'), "minuid", Digits, Number),
    spec!("MySQLConfigFile", None, "login", Any, Auth),
    spec!("NATmode", Some('N'), "natmode", Bool, YesNo),
    spec!("NoAnonymous", Some('E'), "noanonymous", Bool, YesNo),
    spec!("NoChmod", Some('R'), "nochmod", Bool, YesNo),
    spec!("NoRename", Some('G'), "norename", Bool, YesNo),
    spec!("NoTruncate", Some('0'), "notruncate", Bool, YesNo),
    spec!("PAMAuthentication", None, "login", Bool, Auth),
    spec!(
        "PassivePortRange",
        Some('p'),
        "passiveportrange",
        TwoDigits,
        TwoNumbers
    ),
    spec!(
        "PerUserLimits",
        Some('y'),
        "peruserlimits",
        DigitsColonDigits,
        TwoNumbers
    ),
    spec!("PGSQLConfigFile", None, "login", Any, Auth),
    spec!("PIDFile", Some('g'), "pidfile", Any, Absent),
    spec!(
        "ProhibitDotFilesRead",
        Some('X'),
        "prohibitdotfilesread",
        Bool,
        YesNo
    ),
    spec!(
        "ProhibitDotFilesWrite",
        Some('x'),
        "prohibitdotfileswrite",
        Bool,
        YesNo
    ),
    spec!("PureDB", None, "login", Any, Auth),
    spec!("Quota", Some('n'), "quota", DigitsColonDigits, TwoNumbers),
    spec!("SyslogFacility", Some('f'), "syslogfacility", Alnum, Word),
    spec!("TLS", Some('Y'), "tls", Digits, Number),
    spec!(
        "TLSCipherSuite",
        Some('J'),
        "tlsciphersuite",
        NoSpace,
        String
    ),
    spec!("TrustedGID", Some('a'), "trustedgid", Digits, Number),
    spec!("TrustedIP", Some('V'), "trustedip", NoSpace, Ip),
    spec!("Umask", Some('U'), "umask", DigitsColonDigits, Umask),
    spec!("UnixAuthentication", None, "login", Bool, Auth),
    spec!(
        "UserBandwidth",
        Some('T'),
        "userbandwidth",
        OneOrTwoDigits,
        OneOrTwoNumbers
    ),
    spec!("UserRatio", Some('Q'), "userratio", TwoDigits, TwoNumbers),
    spec!("VerboseLog", Some('d'), "verboselog", Bool, YesNo),
];

/// The option `pure-ftpd.conf` names, ignoring case as the daemon does.
pub fn conf_option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|o| o.conf != ConfValue::Absent && o.name.eq_ignore_ascii_case(name))
}

/// The option a `conf/` file names: the wrapper compares names exactly.
pub fn wrapper_option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|o| o.wrapper != WrapperValue::Absent && o.name == name)
}

/// The option whose name differs from `name` only in case, for help texts.
pub fn spelled_differently(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS
        .iter()
        .find(|o| o.name != name && o.name.eq_ignore_ascii_case(name))
}

/// The option a command-line flag sets: `-p`, `--passiveportrange`.
pub fn flag_option(flag: char) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.flag == Some(flag))
}

/// The short flag of a long option (`passiveportrange` → `p`).
pub fn long_flag(long: &str) -> Option<char> {
    OPTIONS.iter().find(|o| o.long == long).and_then(|o| o.flag)
}

/// Flags that take an argument (getopt's `x:`).
pub fn takes_argument(flag: char) -> bool {
    flag_option(flag).is_some_and(|o| {
        !matches!(o.conf, ConfValue::Bool) && !matches!(o.wrapper, WrapperValue::YesNo)
    }) || matches!(flag, 'l' | 'g' | '2' | '3' | 'J')
}
