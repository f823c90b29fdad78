//! Which directives the daemon knows, where it allows them, and which modules
//! Debian's build has. The names were measured: every candidate name taken from
//! the strings of Debian's `proftpd` 1.3.8 binary and of each module under
//! `/usr/lib/proftpd` (each word, and each tail of it from a capital letter on,
//! as the linker shares `Ratios` with `SaveRatios`) was given to `proftpd -t`
//! with that module loaded after the one it needs, and those it did not call
//! "unknown configuration directive" (and did without the module) are listed
//! in [`super::table`].

use super::table::{BUILTIN, LOADABLE, NEEDS, UNLOADABLE, UNMEASURED};

/// The modules compiled into Debian's `proftpd` (`proftpd -l`).
pub const COMPILED_IN: &[&str] = &[
    "mod_core.c",
    "mod_xfer.c",
    "mod_rlimit.c",
    "mod_auth_unix.c",
    "mod_auth_file.c",
    "mod_auth.c",
    "mod_ls.c",
    "mod_log.c",
    "mod_site.c",
    "mod_delay.c",
    "mod_facts.c",
    "mod_dso.c",
    "mod_auth_pam.c",
    "mod_cap.c",
    "mod_ctrls.c",
    "mod_lang.c",
];

/// The modules Debian's shipped `/etc/proftpd/modules.conf` loads (proftpd-core
/// 1.3.8+dfsg-4+deb12u5, `/usr/share/proftpd/templates/modules.conf`), in order.
pub const DEBIAN_MODULES_CONF: &[&str] = &[
    "mod_ctrls_admin.c",
    "mod_radius.c",
    "mod_quotatab.c",
    "mod_quotatab_file.c",
    "mod_quotatab_radius.c",
    "mod_rewrite.c",
    "mod_load.c",
    "mod_ban.c",
    "mod_wrap2.c",
    "mod_wrap2_file.c",
    "mod_dynmasq.c",
    "mod_exec.c",
    "mod_shaper.c",
    "mod_ratio.c",
    "mod_site_misc.c",
    "mod_facl.c",
    "mod_unique_id.c",
    "mod_copy.c",
    "mod_deflate.c",
    "mod_ifversion.c",
    "mod_memcache.c",
    "mod_readme.c",
    "mod_ifsession.c",
];

/// Where a directive stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Server,
    VirtualHost,
    Global,
    Anonymous,
    Directory,
    Limit,
}

impl Context {
    /// The daemon's name for it in "directive not allowed in … context".
    pub fn shown(self) -> &'static str {
        match self {
            Context::Server => "server config",
            Context::VirtualHost => "<VirtualHost>",
            Context::Global => "<Global>",
            Context::Anonymous => "<Anonymous>",
            Context::Directory => "<Directory>",
            Context::Limit => "<Limit>",
        }
    }

    /// The block that opens this context.
    pub fn of_block(name: &str) -> Option<Context> {
        match name.to_ascii_lowercase().as_str() {
            "virtualhost" => Some(Context::VirtualHost),
            "global" => Some(Context::Global),
            "anonymous" => Some(Context::Anonymous),
            "directory" => Some(Context::Directory),
            "limit" => Some(Context::Limit),
            _ => None,
        }
    }
}

use Context::*;

/// Contexts measured with `proftpd -t` (each directive tried in each block);
/// a directive not listed here is taken as allowed everywhere.
const PLACES: &[(&str, &[Context])] = &[
    ("passiveports", &[Server, VirtualHost, Global]),
    ("port", &[Server, VirtualHost, Global]),
    ("masqueradeaddress", &[Server, VirtualHost, Global]),
    ("maxinstances", &[Server]),
    ("maxclients", &[Server, VirtualHost, Global, Anonymous]),
    ("servertype", &[Server]),
    ("defaultserver", &[Server, VirtualHost]),
    ("useipv6", &[Server]),
    ("loadmodule", &[Server]),
    ("modulepath", &[Server]),
    ("tlsengine", &[Server, VirtualHost, Global]),
    (
        "tlsrequired",
        &[Server, VirtualHost, Global, Anonymous, Directory],
    ),
    ("<virtualhost", &[Server]),
    ("<global", &[Server]),
    ("<anonymous", &[Server, VirtualHost, Global]),
    ("<directory", &[Server, VirtualHost, Global, Anonymous]),
    (
        "<limit",
        &[Server, VirtualHost, Global, Anonymous, Directory],
    ),
];

/// Whether the daemon allows `name` (lower case; blocks as `<name`) in `context`.
pub fn allowed(name: &str, context: Context) -> bool {
    PLACES
        .iter()
        .find(|(n, _)| *n == name)
        .is_none_or(|(_, places)| places.contains(&context))
}

/// Whether `name` is a directive of the daemon itself or of a loaded module.
pub fn known(name: &str, loaded: &[String]) -> bool {
    let lower = name.to_ascii_lowercase();
    BUILTIN.contains(&lower.as_str())
        || LOADABLE.iter().any(|(module, names)| {
            names.contains(&lower.as_str()) && loaded.iter().any(|l| l == module)
        })
}

/// Whether `name` belongs to some module Debian ships (loaded or not).
pub fn of_any_module(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LOADABLE
        .iter()
        .any(|(_, names)| names.contains(&lower.as_str()))
}

/// The module that adds `name` (`identlookups` → `mod_ident.c`).
pub fn module_of(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    LOADABLE
        .iter()
        .find(|(_, names)| names.contains(&lower.as_str()))
        .map(|(m, _)| *m)
}

/// Whether pasvlint knows the directives of `module` (`mod_tls.c`).
pub fn measured_module(module: &str) -> bool {
    COMPILED_IN.contains(&module) || LOADABLE.iter().any(|(m, _)| *m == module)
}

/// Whether Debian ships `module` at all (`/usr/lib/proftpd/<name>.so` of
/// proftpd-core, proftpd-mod-crypto or one of the proftpd-mod-* packages).
pub fn shipped_module(module: &str) -> bool {
    measured_module(module) || UNMEASURED.contains(&module) || UNLOADABLE.contains(&module)
}

/// The module `module` needs loaded before it (its `.so` does not load
/// otherwise: "error loading module … No such file or directory", measured).
pub fn needs(module: &str) -> Option<&'static str> {
    NEEDS.iter().find(|(m, _)| *m == module).map(|(_, n)| *n)
}

/// Whether Debian's build cannot load `module` at all (measured).
pub fn unloadable(module: &str) -> bool {
    UNLOADABLE.contains(&module)
}
