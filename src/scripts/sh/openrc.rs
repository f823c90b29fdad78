//! How OpenRC starts a service script (`#!/sbin/openrc-run`, `#!/sbin/runscript`
//! on older Gentoo). `openrc-run.sh` sources `conf.d/NAME`, then the script itself
//! from inside a function whose only argument is the script's path (so its top
//! level sees `$1` = that path), then calls `start_pre`, `start` and `start_post`
//! where defined, each `|| exit $?`. With no `start` of its own the default one
//! runs `$command $command_args` through start-stop-daemon, or nothing when
//! `command` is empty. `depend` runs only when OpenRC scans dependencies, in a
//! process of its own, never on the way to `start`. `ebegin`, `eend`, `einfo`
//! and the other helpers of `functions.sh` only print; `eend N` returns N and
//! `eerror` returns 1 (libeinfo's applet), `yesno` tells yes from no.

use super::ast::{Node, Range};
use super::eval::St;

/// The functions `openrc-run.sh` calls for `start`, in order.
pub const START_STEPS: [&str; 3] = ["start_pre", "start", "start_post"];

/// Whether the script's `#!` line names OpenRC's runner.
pub fn is_service(text: &str) -> bool {
    let Some(line) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return false;
    };
    let program = line.split_whitespace().next().unwrap_or("");
    let base = program.rsplit('/').next().unwrap_or(program);
    matches!(base, "openrc-run" | "runscript")
}

/// What one of `functions.sh`'s helpers returns; `None` for other programs.
pub fn helper_status(name: &str, first_arg: Option<Option<&str>>) -> Option<St> {
    let status = match name {
        "einfo" | "einfon" | "ewarn" | "ewarnn" | "ebegin" | "veinfo" | "veinfon" | "vewarn"
        | "vewarnn" | "vebegin" | "eindent" | "eoutdent" | "veindent" | "veoutdent" | "esyslog" => {
            St::True
        }
        "eerror" | "eerrorn" => St::False,
        "eend" | "ewend" | "veend" | "vewend" => match first_arg {
            None | Some(Some("0")) => St::True,
            Some(Some(n)) if n.parse::<i64>().is_ok() => St::False,
            _ => St::Unknown,
        },
        "yesno" => match first_arg.flatten().map(str::to_ascii_lowercase).as_deref() {
            Some("yes" | "true" | "on" | "1") => St::True,
            Some("no" | "false" | "off" | "0" | "") => St::False,
            _ => St::Unknown,
        },
        _ => return None,
    };
    Some(status)
}

/// The service's name: the script's file name.
pub fn service_name(path: &std::path::Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("service")
        .to_owned()
}

/// Where the script's top level last assigns `name` (`command=/usr/sbin/x`).
pub fn assignment(items: &[Node], name: &str) -> Option<Range> {
    items.iter().rev().find_map(|n| match n {
        Node::Simple(s) => s
            .assigns
            .iter()
            .rev()
            .find(|a| a.name == name)
            .map(|a| a.span),
        Node::List(nodes) => assignment(nodes, name),
        _ => None,
    })
}

/// The `#!` line, where what OpenRC itself does is shown.
pub fn shebang(text: &str) -> Range {
    (0, text.lines().next().map_or(0, str::len) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_is_named_by_the_shebang() {
        assert!(is_service("#!/sbin/openrc-run\n"));
        assert!(is_service("#!/sbin/runscript\n"));
        assert!(is_service("#!/usr/sbin/openrc-run\n"));
        assert!(!is_service("#!/bin/sh\n"));
        assert!(!is_service("openrc-run\n"));
    }

    #[test]
    fn eend_returns_its_argument() {
        assert_eq!(helper_status("eend", None), Some(St::True));
        assert_eq!(helper_status("eend", Some(Some("0"))), Some(St::True));
        assert_eq!(helper_status("eend", Some(Some("1"))), Some(St::False));
        assert_eq!(helper_status("eend", Some(None)), Some(St::Unknown));
        assert_eq!(helper_status("eerror", None), Some(St::False));
        assert_eq!(helper_status("iptables", None), None);
    }
}
