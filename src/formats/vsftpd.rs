//! vsftpd.conf as vsftpd 3.0.x reads it. (Stub: replaced by the real parser.)

use crate::facts::FtpServer;
use crate::source::SourceFile;
use std::path::Path;

#[derive(Debug, Default)]
pub struct Config {}

pub fn sniff(path: &Path, _text: &str) -> bool {
    path.file_name().is_some_and(|n| n == "vsftpd.conf")
}

pub fn parse(_source: &SourceFile) -> Config {
    Config::default()
}

pub fn facts(_config: &Config, _source: &SourceFile) -> Vec<FtpServer> {
    Vec::new()
}
