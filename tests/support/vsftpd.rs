//! The real vsftpd, run standalone in a namespace with a fixture's config.

use super::netns::{Netns, SERVER_ADDR};
use std::fs::{self, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = "/usr/sbin/vsftpd";
/// The file every RETR fetches, served from the temporary anon_root.
pub const PROBE_FILE: &str = "probe.bin";
const PROBE_FILE_LEN: usize = 64 * 1024;
const STARTUP: Duration = Duration::from_secs(5);

/// A running vsftpd; dropping it kills the listener (the namespace guard
/// kills any session process left behind).
pub struct Vsftpd {
    child: Child,
    oops: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Vsftpd {
    /// Starts vsftpd with `config` unchanged, followed by the `-o` settings
    /// the harness needs to run it here; `-o` lines are read after the file,
    /// and for valid lines the last one wins.
    /// `extra` are more `-o` settings, after the harness's own.
    pub fn start(
        netns: &Netns,
        config: &Path,
        control_port: u16,
        extra: &[&str],
    ) -> Result<Vsftpd, String> {
        let scratch = Scratch::create()?;
        let settings = [
            "listen=YES".to_string(),
            "listen_ipv6=NO".to_string(),
            format!("listen_address={SERVER_ADDR}"),
            "background=NO".to_string(),
            "anonymous_enable=YES".to_string(),
            "seccomp_sandbox=NO".to_string(),
        ]
        .into_iter()
        .chain(scratch.paths())
        .chain(extra.iter().map(|s| s.to_string()))
        .collect::<Vec<_>>();
        Vsftpd::launch(netns, config, control_port, scratch, &settings)
    }

    /// Starts vsftpd with `config` as written: the only `-o` settings move the
    /// paths it writes or chroots to (secure_chroot_dir, anon_root, its logs)
    /// into a temporary directory. Listen sockets, user classes, the sandbox and
    /// every other setting are the file's own (or vsftpd's defaults).
    #[allow(dead_code)] // Not every test crate that includes this module uses it.
    pub fn start_as_written(
        netns: &Netns,
        config: &Path,
        control_port: u16,
    ) -> Result<Vsftpd, String> {
        let scratch = Scratch::create()?;
        let settings = scratch.paths();
        Vsftpd::launch(netns, config, control_port, scratch, &settings)
    }

    fn launch(
        netns: &Netns,
        config: &Path,
        control_port: u16,
        scratch: Scratch,
        settings: &[String],
    ) -> Result<Vsftpd, String> {
        // vsftpd reports startup errors ("500 OOPS: ...") on fd 0.
        let oops = scratch.dir.path().join("oops");
        let fd0 = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&oops)
            .map_err(|e| format!("{}: {e}", oops.display()))?;
        let mut command = netns.command(BINARY);
        command.arg(config);
        command.args(settings.iter().map(|s| format!("-o{s}")));
        let child = command
            .stdin(Stdio::from(fd0))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {BINARY}: {e}"))?;
        let mut daemon = Vsftpd {
            child,
            oops,
            _scratch: scratch.dir,
        };
        daemon.wait_listening(netns, control_port)?;
        Ok(daemon)
    }

    fn wait_listening(&mut self, netns: &Netns, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "vsftpd exited at startup ({status}): {}",
                    self.oops()
                ));
            }
            if netns.listens_on(port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "vsftpd did not listen on {SERVER_ADDR}:{port} within {STARTUP:?}: {}",
            self.oops()
        ))
    }

    /// What vsftpd wrote on fd 0 so far (its `500 OOPS:` messages).
    pub fn oops(&self) -> String {
        fs::read(&self.oops)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default()
    }
}

/// A temporary directory with an anon_root holding [`PROBE_FILE`] and an
/// empty secure_chroot_dir.
struct Scratch {
    dir: tempfile::TempDir,
    anon_root: PathBuf,
    empty: PathBuf,
}

impl Scratch {
    fn create() -> Result<Scratch, String> {
        let dir = tempfile::Builder::new()
            .prefix("pasvlint-truth-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?;
        let anon_root = dir.path().join("anon");
        let empty = dir.path().join("empty");
        for d in [dir.path(), anon_root.as_path(), empty.as_path()] {
            fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            set_mode(d, 0o755)?;
        }
        let file = anon_root.join(PROBE_FILE);
        fs::write(&file, probe_bytes()).map_err(|e| format!("{}: {e}", file.display()))?;
        set_mode(&file, 0o644)?;
        Ok(Scratch {
            dir,
            anon_root,
            empty,
        })
    }

    /// The `-o` settings that move vsftpd's paths here.
    fn paths(&self) -> Vec<String> {
        let dir = self.dir.path();
        vec![
            format!("anon_root={}", self.anon_root.display()),
            format!("secure_chroot_dir={}", self.empty.display()),
            format!("vsftpd_log_file={}", dir.join("vsftpd.log").display()),
            format!("xferlog_file={}", dir.join("xferlog").display()),
        ]
    }
}

/// The content of every [`PROBE_FILE`] the tests serve.
pub fn probe_bytes() -> Vec<u8> {
    (0..PROBE_FILE_LEN).map(|i| (i % 251) as u8).collect()
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

impl Drop for Vsftpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
