//! Debian's ProFTPD (1.3.8), unpacked under the target folder (it conflicts
//! with vsftpd as a package), and a case's configuration adapted to run there.

use super::debs::unpacked;
use super::netns::{Netns, output_within};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

/// The daemon and a folder holding every module of the core and crypto packages.
pub struct Install {
    pub daemon: PathBuf,
    pub modules: PathBuf,
}

pub fn install(scratch_root: &Path) -> Result<Install, String> {
    let core = unpacked("proftpd-core")?;
    let crypto = unpacked("proftpd-mod-crypto")?;
    let modules = scratch_root.join("modules");
    std::fs::create_dir_all(&modules).map_err(|e| e.to_string())?;
    for root in [&core, &crypto] {
        let dir = root.join("usr/lib/proftpd");
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let link = modules.join(path.file_name().unwrap());
            if !link.exists() {
                std::os::unix::fs::symlink(&path, &link).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(Install {
        daemon: core.join("usr/sbin/proftpd"),
        modules,
    })
}

/// Directives the test sets itself (paths and the account the daemon runs as).
const REPLACED: &[&str] = &[
    "user",
    "group",
    "modulepath",
    "scoreboardfile",
    "pidfile",
    "systemlog",
    "transferlog",
    "delayengine",
];

/// Copies the case's `etc/proftpd` into `scratch`, pointing absolute
/// `/etc/proftpd/` paths there and replacing only [`REPLACED`]; when
/// `anonymous` is set, an anonymous login is added so PASV can be probed.
pub fn adapt(case: &Path, scratch: &Path, install: &Install, anonymous: bool) -> PathBuf {
    let from = case.join("etc/proftpd");
    let to = scratch.join("etc/proftpd");
    copy_tree(&from, &to, &to);
    let main = to.join("proftpd.conf");
    let text = std::fs::read_to_string(&main).unwrap();
    let mut head = format!(
        "ModulePath {}\nScoreboardFile {s}/scoreboard\nPidFile {s}/proftpd.pid\nSystemLog {s}/system.log\nDelayEngine off\nUseFtpUsers off\nUser nobody\nGroup nogroup\n",
        install.modules.display(),
        s = scratch.display()
    );
    if anonymous {
        head.push_str(&format!(
            "<Anonymous {s}>\n  User nobody\n  Group nogroup\n  UserAlias anonymous nobody\n  RequireValidShell off\n</Anonymous>\n",
            s = scratch.display()
        ));
    }
    // The test's lines go after a leading `Include .../modules.conf` so that
    // ModulePath still comes first; the first value of a directive wins.
    std::fs::write(&main, format!("{head}{text}")).unwrap();
    main
}

fn copy_tree(from: &Path, to: &Path, etc: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target, etc);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let adapted: String = text
            .lines()
            .filter(|l| {
                let name = l
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                !REPLACED.contains(&name.as_str())
                    || l.starts_with(char::is_whitespace) && name == "user"
                    || l.starts_with(char::is_whitespace) && name == "group"
            })
            .map(|l| l.replace("/etc/proftpd/", &format!("{}/", etc.display())) + "\n")
            .collect();
        std::fs::write(&target, adapted).unwrap();
    }
}

/// `proftpd -t -c FILE`: whether it accepts, and what it printed.
pub fn syntax_check(install: &Install, conf: &Path) -> (bool, String) {
    let out = output_within(
        std::process::Command::new(&install.daemon)
            .arg("-t")
            .arg("-c")
            .arg(conf),
        Duration::from_secs(20),
    )
    .expect("proftpd -t runs");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.success(), text)
}

/// The daemon in the foreground in `netns`, killed on drop.
pub struct Daemon {
    child: Child,
}

impl Daemon {
    pub fn start(
        netns: &Netns,
        install: &Install,
        conf: &Path,
        port: u16,
    ) -> Result<Daemon, String> {
        let child = netns
            .command(&install.daemon)
            .args(["-n", "-q", "-c"])
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("proftpd: {e}"))?;
        let daemon = Daemon { child };
        for _ in 0..50 {
            if netns.listens_on(port) {
                return Ok(daemon);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("proftpd never listened on {port}"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
