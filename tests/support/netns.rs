//! Private network namespaces for tests that run real daemons, removed on drop.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Every namespace this harness creates starts with this prefix, then the
/// creating process id, so a later run can tell its own leftovers apart.
pub const PREFIX: &str = "pvt-";
pub const SERVER_ADDR: &str = "198.18.0.1";
pub const CLIENT_ADDR: &str = "198.18.0.2";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Runs a command to completion; a non-zero exit is an error carrying stderr.
pub fn run(command: &mut Command) -> Result<Output, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn ip(args: &[&str]) -> Result<Output, String> {
    run(Command::new("ip").args(args))
}

/// One network namespace; dropping it kills what still runs inside and deletes it.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn create(name: String) -> Result<Netns, String> {
        ip(&["netns", "add", &name])?;
        let netns = Netns { name };
        ip(&["-n", &netns.name, "link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// A command that runs `program` inside this namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    pub fn load_iptables(&self, rules: &Path) -> Result<(), String> {
        run(self.command("iptables-restore").arg(rules)).map(|_| ())
    }

    /// Whether some socket in this namespace listens on TCP `port`.
    pub fn listens_on(&self, port: u16) -> bool {
        let filter = format!("sport = :{port}");
        run(Command::new("ss").args(["-N", &self.name, "-Hltn", &filter]))
            .map(|out| !out.stdout.is_empty())
            .unwrap_or(false)
    }
}

fn pids_in(name: &str) -> Vec<u32> {
    ip(&["netns", "pids", name])
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn kill_and_delete(name: &str) {
    for pid in pids_in(name) {
        let _ = run(Command::new("kill").args(["-KILL", &pid.to_string()]));
    }
    let _ = ip(&["netns", "del", name]);
}

impl Drop for Netns {
    fn drop(&mut self) {
        // The daemon's guard kills the listener; its forked sessions may outlive it.
        kill_and_delete(&self.name);
    }
}

/// A server and a client namespace joined by a veth pair (`eth0` on both sides).
pub struct Pair {
    pub server: Netns,
    pub client: Netns,
}

impl Pair {
    pub fn create() -> Result<Pair, String> {
        let tag = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let server = Netns::create(format!("{tag}-s"))?;
        let client = Netns::create(format!("{tag}-c"))?;
        let pair = Pair { server, client };
        pair.link()?;
        Ok(pair)
    }

    fn link(&self) -> Result<(), String> {
        let (s, c) = (&self.server.name, &self.client.name);
        ip(&[
            "-n", s, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", c,
        ])?;
        for (ns, addr) in [(s, SERVER_ADDR), (c, CLIENT_ADDR)] {
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", ns, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    }
}

/// Deletes namespaces left by earlier runs whose test process is gone
/// (a run killed before its guards could drop).
pub fn remove_stale() {
    let Ok(out) = ip(&["netns", "list"]) else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(owner) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists() {
            kill_and_delete(name);
        }
    }
}
