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
