//! Private network namespaces for tests that run real daemons, removed on drop.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Every namespace this harness creates starts with this prefix, then the
/// creating process id, so a later run can tell its own leftovers apart.
pub const PREFIX: &str = "pvt-";
pub const SERVER_ADDR: &str = "198.18.0.1";
pub const CLIENT_ADDR: &str = "198.18.0.2";
/// The pair's IPv6 addresses (documentation prefix), added by [`Pair::add_ipv6`].
#[allow(dead_code)] // Not every test crate that includes this module uses them.
pub const SERVER_ADDR6: &str = "2001:db8:18::1";
#[allow(dead_code)]
pub const CLIENT_ADDR6: &str = "2001:db8:18::2";
/// How long an `ip`, `iptables-restore` or account command may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A namespace name no other thread of this process uses: tests of one binary
/// run in parallel threads that share the process id.
pub fn unique_name(purpose: &str) -> String {
    format!(
        "{PREFIX}{}-{}-{purpose}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a command to completion; a non-zero exit is an error carrying stderr.
pub fn run(command: &mut Command) -> Result<Output, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    succeeded(command, output)
}

/// The output of a command that exited 0; otherwise an error with its stderr.
fn succeeded(command: &Command, output: Output) -> Result<Output, String> {
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

/// Runs a command to completion, killing it after `timeout`; whatever its exit
/// status, its output is returned (a timeout is an error).
pub fn output_within(command: &mut Command, timeout: Duration) -> Result<Output, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    // Drain both pipes while waiting, so a chatty child cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{command:?} did not finish within {timeout:?}"));
            }
            Err(e) => return Err(format!("waiting for {command:?}: {e}")),
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// [`run`] with a time limit: a non-zero exit or a timeout is an error.
pub fn run_within(command: &mut Command, timeout: Duration) -> Result<Output, String> {
    let output = output_within(command, timeout)?;
    succeeded(command, output)
}

fn ip(args: &[&str]) -> Result<Output, String> {
    run_within(Command::new("ip").args(args), TOOL_TIMEOUT)
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
        run_within(self.command("iptables-restore").arg(rules), TOOL_TIMEOUT).map(|_| ())
    }

    #[allow(dead_code)] // Not every test crate that includes this module uses it.
    pub fn load_ip6tables(&self, rules: &Path) -> Result<(), String> {
        run_within(self.command("ip6tables-restore").arg(rules), TOOL_TIMEOUT).map(|_| ())
    }

    /// Whether some socket in this namespace listens on TCP `port`.
    pub fn listens_on(&self, port: u16) -> bool {
        let filter = format!("sport = :{port}");
        run_within(
            Command::new("ss").args(["-N", &self.name, "-Hltn", &filter]),
            TOOL_TIMEOUT,
        )
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
        let _ = run_within(
            Command::new("kill").args(["-KILL", &pid.to_string()]),
            TOOL_TIMEOUT,
        );
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
        let server = Netns::create(unique_name("s"))?;
        let client = Netns::create(unique_name("c"))?;
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

// Not every test crate that includes this module uses these.
#[allow(dead_code)]
impl Pair {
    /// Gives both ends an IPv6 address on the link (no duplicate address
    /// detection, so they are usable at once).
    pub fn add_ipv6(&self) -> Result<(), String> {
        for (ns, addr) in [(&self.server, SERVER_ADDR6), (&self.client, CLIENT_ADDR6)] {
            ip(&[
                "-n",
                &ns.name,
                "addr",
                "add",
                &format!("{addr}/64"),
                "dev",
                "eth0",
                "nodad",
            ])?;
        }
        Ok(())
    }

    /// Gives the client one more IPv4 address, `address` in `network`, and the
    /// server a route to `network` over the link, so replies find their way back.
    pub fn add_client_source(&self, address: &str, network: &str) -> Result<(), String> {
        let prefix = network.split_once('/').map_or("32", |(_, len)| len);
        ip(&[
            "-n",
            &self.client.name,
            "addr",
            "add",
            &format!("{address}/{prefix}"),
            "dev",
            "eth0",
        ])?;
        ip(&[
            "-n",
            &self.server.name,
            "route",
            "add",
            network,
            "dev",
            "eth0",
        ])
        .map(|_| ())
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
