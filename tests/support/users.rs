//! A throw-away local account for tests that log in as a local user.

use super::netns::{TOOL_TIMEOUT, output_within, run_within};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A local account with a password and a home directory, removed (with its
/// home) on drop.
pub struct LocalUser {
    pub name: String,
    pub password: String,
    pub home: PathBuf,
}

impl LocalUser {
    /// `useradd -m` a user named `<prefix><pid>` with a login shell vsftpd's
    /// PAM stack accepts (`pam_shells`), then sets its password with `chpasswd`.
    pub fn create(prefix: &str) -> Result<LocalUser, String> {
        let name = format!("{prefix}{}", std::process::id());
        // A leftover from a killed run of this same process id would make useradd fail.
        let _ = output_within(Command::new("userdel").args(["-r", &name]), TOOL_TIMEOUT);
        run_within(
            Command::new("useradd").args(["-m", "-s", "/bin/bash", &name]),
            TOOL_TIMEOUT,
        )?;
        let home = PathBuf::from(format!("/home/{name}"));
        let user = LocalUser {
            name,
            password: "Pvl-truth-1".to_owned(),
            home,
        };
        user.set_password()?;
        if !user.home.is_dir() {
            return Err(format!("useradd -m made no {}", user.home.display()));
        }
        Ok(user)
    }

    fn set_password(&self) -> Result<(), String> {
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run chpasswd: {e}"))?;
        if let Some(mut stdin) = chpasswd.stdin.take() {
            writeln!(stdin, "{}:{}", self.name, self.password)
                .map_err(|e| format!("chpasswd: {e}"))?;
        }
        let deadline = std::time::Instant::now() + TOOL_TIMEOUT;
        loop {
            match chpasswd.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("chpasswd failed ({status})")),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = chpasswd.kill();
                    let _ = chpasswd.wait();
                    return Err(format!("chpasswd did not finish within {TOOL_TIMEOUT:?}"));
                }
                Err(e) => return Err(format!("chpasswd: {e}")),
            }
        }
    }

    /// Writes `bytes` to `name` in the home directory, owned by the user, mode 0644.
    pub fn put_file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let path = self.home.join(name);
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
        chown(&path, &self.name)?;
        Ok(path)
    }
}

fn chown(path: &Path, user: &str) -> Result<(), String> {
    run_within(
        Command::new("chown").arg(format!("{user}:")).arg(path),
        TOOL_TIMEOUT,
    )
    .map(|_| ())
}

impl Drop for LocalUser {
    fn drop(&mut self) {
        let _ = output_within(
            Command::new("userdel").args(["-r", &self.name]),
            TOOL_TIMEOUT,
        );
    }
}
