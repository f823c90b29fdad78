//! The real Pure-FTPd (Debian's 1.0.50, unpacked from its packages, never
//! installed: it conflicts with vsftpd) and its `pure-ftpd-wrapper`.

use super::netns::{Netns, TOOL_TIMEOUT, output_within};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where `.ci/run` (or [`unpacked`]) puts the packages' files.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pureftpd-pkg/root")
}

pub fn daemon() -> PathBuf {
    root().join("usr/sbin/pure-ftpd")
}

/// Downloads and unpacks `pure-ftpd` and `pure-ftpd-common` when they are not
/// there yet (`apt-get download` + `dpkg -x`).
pub fn unpacked() -> Result<(), String> {
    if daemon().is_file() {
        return Ok(());
    }
    let dir = root().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let download = output_within(
        Command::new("apt-get")
            .args(["download", "-qq", "pure-ftpd", "pure-ftpd-common"])
            .current_dir(&dir),
        Duration::from_secs(120),
    )?;
    if !download.status.success() {
        return Err(format!(
            "apt-get download pure-ftpd failed: {}",
            String::from_utf8_lossy(&download.stderr).trim()
        ));
    }
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            output_within(
                Command::new("dpkg").arg("-x").arg(&path).arg(root()),
                TOOL_TIMEOUT,
            )?;
        }
    }
    daemon()
        .is_file()
        .then_some(())
        .ok_or_else(|| "no pure-ftpd after dpkg -x".to_owned())
}

/// What Debian's wrapper makes of a `conf/` directory: `Ok(flags)` from
/// `--show-options`, or `Err(its complaint)` when it refuses. The wrapper reads
/// the fixed `/etc/pure-ftpd`; a copy of it with that path pointing at the
/// fixture's folder runs instead (the only change).
pub fn wrapper_flags(pure_ftpd_dir: &Path, scratch: &Path) -> Result<Vec<String>, String> {
    let original = std::fs::read_to_string(root().join("usr/sbin/pure-ftpd-wrapper"))
        .map_err(|e| format!("wrapper: {e}"))?;
    let etc = scratch.join("etc-pure-ftpd");
    let _ = std::fs::remove_dir_all(&etc);
    copy_dir(pure_ftpd_dir, &etc)?;
    std::fs::create_dir_all(etc.join("auth")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(etc.join("conf")).map_err(|e| e.to_string())?;
    let script = scratch.join("pure-ftpd-wrapper");
    std::fs::write(
        &script,
        original.replace("/etc/pure-ftpd", &etc.to_string_lossy()),
    )
    .map_err(|e| e.to_string())?;
    let out = output_within(
        Command::new("perl").arg(&script).arg("--show-options"),
        TOOL_TIMEOUT,
    )?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    let mut flags: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    // `-g /var/run/pure-ftpd/pure-ftpd.pid`: a path of the host, not the case's.
    if let Some(at) = flags.iter().position(|f| f == "-g") {
        flags.drain(at..(at + 2).min(flags.len()));
    }
    Ok(flags)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The daemon's first reply when started inetd-style on a socket pair with
/// `args` (flags, or the path of a configuration file alone: the daemon takes
/// one or the other): a configuration error is `421 Configuration error…` (exit 252), read
/// before anything else happens.
pub fn first_reply(netns: &Netns, args: &[String]) -> Result<String, String> {
    let script = r#"import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], stdin=b, stdout=b, stderr=subprocess.PIPE)
b.close()
a.settimeout(5)
d = b""
try:
    d = a.recv(4096)
except Exception:
    pass
a.close()
try:
    p.wait(5)
except Exception:
    p.kill()
sys.stdout.write(d.decode(errors="replace") + "|" + p.stderr.read().decode(errors="replace"))
"#;
    let out = output_within(
        netns
            .command("python3")
            .arg("-c")
            .arg(script)
            .arg(daemon())
            .args(args),
        Duration::from_secs(20),
    )?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The daemon listening in `netns`, killed on drop.
pub struct Daemon {
    child: Child,
}

impl Daemon {
    pub fn start(netns: &Netns, args: &[String], port: u16) -> Result<Daemon, String> {
        let child = netns
            .command(daemon())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("pure-ftpd: {e}"))?;
        let daemon = Daemon { child };
        for _ in 0..50 {
            if netns.listens_on(port) {
                return Ok(daemon);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("pure-ftpd {args:?} never listened on {port}"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Anonymous sessions one after another, one `PASV` each: the ports announced.
pub fn announced_ports(
    netns: &Netns,
    address: &str,
    port: u16,
    sessions: u32,
) -> Result<Vec<u16>, String> {
    let script = r#"import ftplib, re, sys, time
h, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    f = ftplib.FTP()
    f.connect(h, p, timeout=5)
    f.login()
    # With a one-port range the previous session may still hold that port for a
    # moment after it quits: pure-ftpd answers 425 until it lets go.
    for attempt in range(20):
        try:
            reply = f.sendcmd("PASV")
            break
        except ftplib.error_temp as e:
            if not str(e).startswith("425") or attempt == 19:
                raise
            time.sleep(0.25)
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", reply)
    print(int(m.group(5)) * 256 + int(m.group(6)))
    f.quit()
"#;
    let out = output_within(
        netns.command("python3").args([
            "-c",
            script,
            address,
            &port.to_string(),
            &sessions.to_string(),
        ]),
        Duration::from_secs(120),
    )?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// `sessions` anonymous logins held open at once: how many got in.
pub fn concurrent_logins(
    netns: &Netns,
    address: &str,
    port: u16,
    sessions: u32,
) -> Result<u32, String> {
    let script = r#"import ftplib, sys
h, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held, ok = [], 0
for i in range(n):
    f = ftplib.FTP()
    try:
        f.connect(h, p, timeout=5)
        f.login()
        held.append(f)
        ok += 1
    except Exception:
        pass
print(ok)
"#;
    let out = output_within(
        netns.command("python3").args([
            "-c",
            script,
            address,
            &port.to_string(),
            &sessions.to_string(),
        ]),
        Duration::from_secs(120),
    )?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "login probe: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })
}
