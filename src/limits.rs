//! How much pasvlint reads and runs of one file: `[limits]` in `pasvlint.toml`.
//! Every limit hit is a finding that names the file and the limit (a file over
//! `file_bytes` is reported unread; a script that spends a budget is
//! `script-limit-reached`), never a silent skip.

use serde::Deserialize;

/// The default of `file_bytes`, and the cap on files read beside another
/// (a compose `env_file`, a file a script edits): no config is this big.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bytes of one file read (a vsftpd.conf over it is read in part, as vsftpd
    /// itself reads only its first 100,000 bytes; any other file is not read).
    pub file_bytes: u64,
    /// Statements one script runs, loops and calls included.
    pub script_steps: u64,
    /// Commands one script runs (each firewall command becomes a rule).
    pub script_commands: u64,
    /// Longest value a script variable keeps, in bytes.
    pub string_bytes: usize,
    /// Loops, calls and blocks nested in a script.
    pub nesting_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: MAX_FILE_BYTES,
            script_steps: 1_000_000,
            // One command per port of every port, and no more.
            script_commands: 65_536,
            string_bytes: 1 << 16,
            nesting_depth: 64,
        }
    }
}

impl Limits {
    /// What is wrong with these limits, by `pasvlint.toml` key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut at_least = |key: &str, value: u64, min: u64| {
            if value < min {
                out.push(format!("[limits] {key} = {value}: must be at least {min}"));
            }
        };
        at_least("file_bytes", self.file_bytes, 1024);
        at_least("script_steps", self.script_steps, 1000);
        at_least("script_commands", self.script_commands, 100);
        at_least("string_bytes", self.string_bytes as u64, 1024);
        at_least("nesting_depth", self.nesting_depth as u64, 8);
        out
    }
}
