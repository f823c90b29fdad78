//! Debian packages the oracles run without installing them (some conflict with
//! vsftpd, some would change the host): `apt-get download` once, `dpkg -x` into
//! the test target folder.

use super::netns::run;
use std::path::PathBuf;
use std::process::Command;

/// The unpacked root of package `name`, downloaded and unpacked on first use.
/// Tests of one binary run in parallel threads: one of them unpacks while the
/// others wait, so none reads a half-downloaded package.
pub fn unpacked(name: &str) -> Result<PathBuf, String> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("debs")
        .join(name);
    let root = dir.join("root");
    if root.is_dir() {
        return Ok(root);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    run(Command::new("apt-get")
        .args(["download", "-q", name])
        .current_dir(&dir))
    .map_err(|e| format!("cannot download {name}: {e}"))?;
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| format!("apt-get download {name} left no .deb"))?;
    let partial = dir.join("root.partial");
    // A run killed half-way leaves a partial tree behind.
    let _ = std::fs::remove_dir_all(&partial);
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&partial))?;
    std::fs::rename(&partial, &root).map_err(|e| e.to_string())?;
    Ok(root)
}
