//! Debian packages the oracles run without installing them (some conflict with
//! vsftpd, some would change the host): `apt-get download` once, `dpkg -x` into
//! the test target folder.

use super::netns::run;
use std::path::PathBuf;
use std::process::Command;

/// The unpacked root of package `name`, downloaded and unpacked on first use.
pub fn unpacked(name: &str) -> Result<PathBuf, String> {
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
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&partial))?;
    std::fs::rename(&partial, &root).map_err(|e| e.to_string())?;
    Ok(root)
}
