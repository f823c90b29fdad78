//! A second, independent client: one lftp session doing what a user would
//! (`ls`, then `get`), so the probe's verdict is not only the probe's.

use super::netns::{Netns, SERVER_ADDR};
use super::vsftpd::PROBE_FILE;
use std::process::Stdio;

const SETTINGS: &str = "set cmd:fail-exit yes; set net:timeout 2; set net:max-retries 1; \
     set net:reconnect-interval-base 1; set ftp:passive-mode on; set ftp:prefer-epsv no; \
     set ftp:ssl-allow no";

pub struct Session {
    pub ok: bool,
    /// lftp's last line of complaint, or what it fetched.
    pub detail: String,
}

pub fn list_and_get(client: &Netns, port: u16) -> Result<Session, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let target = dir.path().join(PROBE_FILE);
    let script = format!(
        "{SETTINGS}; open -u anonymous,probe@example.org -p {port} {SERVER_ADDR}; \
         ls; get {PROBE_FILE} -o {}",
        target.display()
    );
    let output = client
        .command("lftp")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run lftp: {e}"))?;
    let fetched = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    let ok = output.status.success() && fetched > 0;
    let detail = if ok {
        format!("ls and get ok ({fetched} bytes)")
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        format!(
            "failed ({}): {}",
            output.status,
            last.unwrap_or("no message")
        )
    };
    Ok(Session { ok, detail })
}

/// A local user's session, step by step, over either family and from a chosen
/// source address.
#[allow(dead_code)] // Not every test crate that includes this module uses it.
pub mod as_user {
    use super::super::netns::{Netns, output_within};
    use super::super::vsftpd::PROBE_FILE;

    /// Where and as whom [`passive_session`] logs in.
    pub struct Target<'a> {
        /// An IPv4 address, or an IPv6 address (written without brackets).
        pub host: &'a str,
        pub port: u16,
        pub user: &'a str,
        pub password: &'a str,
        /// The client's IPv4 source address (`net:socket-bind-ipv4`), for every
        /// connection of the session, control and data.
        pub bind_ipv4: Option<&'a str>,
    }

    /// What one lftp session as a user got done, step by step.
    #[derive(Debug)]
    pub struct Steps {
        /// Connect, USER/PASS and a `PWD` answered `257`.
        pub logged_in: bool,
        /// A passive `ls` listed [`PROBE_FILE`].
        pub listed: bool,
        /// A passive `get` fetched all of [`PROBE_FILE`], byte for byte.
        pub fetched: bool,
        /// lftp's complaints, or what it did.
        pub detail: String,
    }

    impl Steps {
        /// Both passive transfers went through.
        pub fn transferred(&self) -> bool {
            self.listed && self.fetched
        }
    }

    /// How long one session may take in all: a login that times out (3 s, one
    /// retry) and two transfers that time out (about 4.5 s each) fit well inside.
    const SESSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

    /// One lftp session in strict passive mode (no automatic fall-back to active
    /// mode, which would bypass the firewall being tested): log in, `ls`, `get`.
    /// The transfers are tried only after a login, and `get` also when `ls` failed.
    pub fn passive_session(
        client: &Netns,
        target: &Target,
        expected: &[u8],
    ) -> Result<Steps, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
        let fetched_path = dir.path().join(PROBE_FILE);
        let host = if target.host.contains(':') {
            format!("[{}]", target.host)
        } else {
            target.host.to_owned()
        };
        let bind = target
            .bind_ipv4
            .map(|addr| format!("set net:socket-bind-ipv4 {addr}; "))
            .unwrap_or_default();
        let script = format!(
            "set cmd:fail-exit no; set net:timeout 3; set net:max-retries 1; \
             set net:reconnect-interval-base 1; set ftp:passive-mode true; \
             set ftp:auto-passive-mode no; set ftp:ssl-allow no; set xfer:clobber yes; {bind}\
             open -u {},{} -p {} {host}; \
             quote PWD || exit 2; echo @@logged-in; \
             ls && echo @@listed; \
             get {PROBE_FILE} -o {} && echo @@fetched",
            target.user,
            target.password,
            target.port,
            fetched_path.display()
        );
        let output = output_within(
            client
                .command("lftp")
                .args(["-c", &script])
                .env("HOME", dir.path()),
            SESSION_TIMEOUT,
        )?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let said = |marker: &str| stdout.lines().any(|line| line == marker);
        let logged_in = said("@@logged-in");
        let listed = said("@@listed")
            && stdout
                .lines()
                .any(|line| line.split_whitespace().last() == Some(PROBE_FILE));
        let fetched =
            said("@@fetched") && std::fs::read(&fetched_path).is_ok_and(|b| b == expected);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let complaints: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let detail = format!(
            "lftp exited {}: login {}, ls {}, get {}{}",
            output.status,
            ok(logged_in),
            ok(listed),
            ok(fetched),
            if complaints.is_empty() {
                String::new()
            } else {
                format!(" ({})", complaints.join("; "))
            }
        );
        Ok(Steps {
            logged_in,
            listed,
            fetched,
            detail,
        })
    }

    fn ok(done: bool) -> &'static str {
        if done { "ok" } else { "failed" }
    }
}
