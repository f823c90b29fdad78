//! Truth for the server facts a dual-stack, source-aware firewall model reads.
//!
//! Each `fixtures/facts/<case>/etc/vsftpd.conf` runs with the real vsftpd on
//! loopback in a private network namespace, as written (only paths and the
//! listen address adapted). The test then measures which address families take
//! a control connection (`127.0.0.1`, `::1`) and which user classes log in with
//! lftp in plain FTP and with TLS forced (anonymous, and a local account it
//! creates and removes). `pasvlint facts` must say exactly that.

mod support {
    // Shared with tests/truth.rs, which uses the veth pair and iptables loading.
    #[allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use serde_json::Value;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::netns::{self, Netns, PREFIX, run};

const VSFTPD: &str = "/usr/sbin/vsftpd";
const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/facts");
const CONFIG: &str = "etc/vsftpd.conf";
const CONTROL_PORT: u16 = 21;
const STARTUP: Duration = Duration::from_secs(5);
const TOOLS: &[&str] = &[
    "lftp", "openssl", "useradd", "chpasswd", "userdel", "ss", "bash", "timeout",
];

/// What a server lets in: families (`ipv4`, `ipv6`) and `(class, tls)` pairs,
/// with local and virtual logins both named `local` (the client cannot tell).
#[derive(Debug, PartialEq, Eq)]
struct Admission {
    families: Vec<String>,
    classes: Vec<(String, String)>,
}

#[test]
fn vsftpd_admits_the_families_and_user_classes_pasvlint_reports() {
    if !support::requirements::ready("truth_logins", &[VSFTPD], TOOLS) {
        return;
    }
    netns::remove_stale();
    let user = LocalUser::create().expect("create the local test account");
    let scratch = tempfile::tempdir().expect("temp dir");
    let certificate = Certificate::generate(scratch.path()).expect("generate a certificate");
    let mut failures = Vec::new();
    for (index, case) in cases().iter().enumerate() {
        let claimed = claimed(case).expect("pasvlint facts");
        let measured = measured(index, case, &user, &certificate)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        eprintln!("{}: measured {measured:?}", name(case));
        if claimed != measured {
            failures.push(format!(
                "{}: pasvlint says {claimed:?}, vsftpd did {measured:?}",
                name(case)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(CASES)
        .expect("fixtures/facts exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(CONFIG).is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 3, "only {} facts cases", cases.len());
    cases
}

fn name(case: &Path) -> String {
    case.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// `pasvlint facts --format json` on the case folder, read through the JSON contract only.
fn claimed(case: &Path) -> Result<Admission, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args(["facts", "--isolated", "--format", "json"])
        .arg(case)
        .output()
        .map_err(|e| format!("cannot run pasvlint: {e}"))?;
    let facts: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("pasvlint printed no JSON ({e})"))?;
    let server = &facts["hosts"][0]["ftp"][0];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let classes = server["user_classes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let class = match c["class"].as_str().unwrap_or("") {
                "virtual" => "local",
                other => other,
            };
            (class.to_owned(), c["tls"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    Ok(Admission {
        families: strings(&server["families"]),
        classes,
    })
}

fn measured(
    index: usize,
    case: &Path,
    user: &LocalUser,
    certificate: &Certificate,
) -> Result<Admission, String> {
    let netns = Netns::create(format!("{PREFIX}{}-logins-{index}", std::process::id()))?;
    let _daemon = Daemon::start(&netns, &case.join(CONFIG), certificate)?;
    let families = [("ipv4", "127.0.0.1"), ("ipv6", "::1")]
        .into_iter()
        .filter(|(_, address)| greets(&netns, address))
        .map(|(family, _)| family.to_owned())
        .collect();
    let logins = [
        ("anonymous", "anonymous", "probe@example.org"),
        ("local", user.name.as_str(), user.password.as_str()),
    ];
    let classes = logins
        .into_iter()
        .filter_map(|(class, login, password)| {
            let plain = logs_in(&netns, login, password, false);
            let tls = logs_in(&netns, login, password, true);
            tls_demand(plain, tls).map(|t| (class.to_owned(), t.to_owned()))
        })
        .collect();
    Ok(Admission { families, classes })
}

/// What logging in plain and with TLS says about the class; `None`: it cannot log in.
fn tls_demand(plain: bool, tls: bool) -> Option<&'static str> {
    match (plain, tls) {
        (true, true) => Some("optional"),
        (true, false) => Some("never"),
        (false, true) => Some("required"),
        (false, false) => None,
    }
}

/// A TCP connection to the control port gets vsftpd's `220` greeting.
fn greets(netns: &Netns, address: &str) -> bool {
    let script = format!("exec 3<>/dev/tcp/{address}/{CONTROL_PORT} && head -c 3 <&3");
    netns
        .command("timeout")
        .args(["3", "bash", "-c", &script])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"220"))
}

/// lftp logs in (USER/PASS, then PWD) over 127.0.0.1, with TLS forced or refused.
fn logs_in(netns: &Netns, login: &str, password: &str, tls: bool) -> bool {
    let ssl = if tls {
        "set ftp:ssl-force true; set ftp:ssl-allow true; set ssl:verify-certificate no"
    } else {
        "set ftp:ssl-allow false"
    };
    let script = format!(
        "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 3; \
         set net:reconnect-interval-base 1; {ssl}; \
         open -u {login},{password} -p {CONTROL_PORT} 127.0.0.1; quote PWD"
    );
    let Ok(home) = tempfile::tempdir() else {
        return false;
    };
    netns
        .command("timeout")
        .args(["10", "lftp", "-c", &script])
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.starts_with(b"257"))
}

/// A local account for the test, removed (with its home) on drop.
struct LocalUser {
    name: String,
    password: String,
}

impl LocalUser {
    fn create() -> Result<LocalUser, String> {
        let name = format!("pvlt{}", std::process::id());
        run(Command::new("useradd").args(["-m", "-s", "/bin/bash", &name]))?;
        let user = LocalUser {
            name,
            password: "Pvl-truth-1".to_owned(),
        };
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run chpasswd: {e}"))?;
        if let Some(stdin) = chpasswd.stdin.as_mut() {
            use std::io::Write;
            writeln!(stdin, "{}:{}", user.name, user.password)
                .map_err(|e| format!("chpasswd: {e}"))?;
        }
        let status = chpasswd.wait().map_err(|e| format!("chpasswd: {e}"))?;
        if !status.success() {
            return Err(format!("chpasswd failed ({status})"));
        }
        Ok(user)
    }
}

impl Drop for LocalUser {
    fn drop(&mut self) {
        let _ = run(Command::new("userdel").args(["-r", &self.name]));
    }
}

/// A throw-away self-signed certificate for `ssl_enable=YES`.
struct Certificate {
    cert: PathBuf,
    key: PathBuf,
}

impl Certificate {
    fn generate(dir: &Path) -> Result<Certificate, String> {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=pasvlint-truth", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert))?;
        Ok(Certificate { cert, key })
    }
}

/// The real vsftpd with a fixture's config; the `-o` settings after the file
/// (the last value wins) only move paths and addresses into the sandbox.
struct Daemon {
    child: Child,
    _scratch: tempfile::TempDir,
}

impl Daemon {
    fn start(netns: &Netns, config: &Path, certificate: &Certificate) -> Result<Daemon, String> {
        let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let dir = scratch.path();
        for sub in ["anon", "empty"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{sub}: {e}"))?;
            fs::set_permissions(dir.join(sub), fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod {sub}: {e}"))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod: {e}"))?;
        let oops = dir.join("oops");
        let fd0 = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&oops)
            .map_err(|e| format!("{}: {e}", oops.display()))?;
        let text = fs::read_to_string(config).map_err(|e| format!("{}: {e}", config.display()))?;
        let child = netns
            .command(VSFTPD)
            .arg(config)
            .args(sandbox_settings(&text, dir, certificate))
            .stdin(Stdio::from(fd0))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {VSFTPD}: {e}"))?;
        let mut daemon = Daemon {
            child,
            _scratch: scratch,
        };
        daemon.wait_listening(netns, &oops)?;
        Ok(daemon)
    }

    fn wait_listening(&mut self, netns: &Netns, oops: &Path) -> Result<(), String> {
        let said = || fs::read_to_string(oops).unwrap_or_default();
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("vsftpd exited at startup ({status}): {}", said()));
            }
            if netns.listens_on(CONTROL_PORT) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "vsftpd did not listen within {STARTUP:?}: {}",
            said()
        ))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Paths into `dir`, the certificate, and a configured IPv4 listen address
/// onto loopback; every other line stays as the fixture wrote it.
fn sandbox_settings(config: &str, dir: &Path, certificate: &Certificate) -> Vec<String> {
    let mut settings = vec![
        "background=NO".to_owned(),
        format!("secure_chroot_dir={}", dir.join("empty").display()),
        format!("anon_root={}", dir.join("anon").display()),
        format!("vsftpd_log_file={}", dir.join("vsftpd.log").display()),
        format!("xferlog_file={}", dir.join("xferlog").display()),
        format!("rsa_cert_file={}", certificate.cert.display()),
        format!("rsa_private_key_file={}", certificate.key.display()),
    ];
    let sets = |key: &str| config.lines().any(|l| l.starts_with(&format!("{key}=")));
    if sets("listen_address") {
        settings.push("listen_address=127.0.0.1".to_owned());
    }
    settings.into_iter().map(|s| format!("-o{s}")).collect()
}
