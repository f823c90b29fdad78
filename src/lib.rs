//! pasvlint: checks that FTP servers' passive ports and their firewalls agree.

pub mod diag;
pub mod facts;
pub mod formats;
pub mod hosts;
pub mod policy;
pub mod portset;
pub mod rules;
pub mod source;
