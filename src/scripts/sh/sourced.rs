//! `. FILE` and `source FILE`: the file a script reads into itself, found in
//! the repository the script comes from.
//!
//! A relative name is taken from the script's folder (where the script's
//! author ran it from, as far as the repository shows). An absolute name
//! (`. /etc/default/firewall`) is the host's file: the repository holds it
//! under some folder the script is in, as a copy of the host's tree
//! (`case/etc/firewall.sh` sources `case/etc/default/firewall`), nearest folder
//! first. Nothing outside the folder the run started in is read, symlinks are
//! not followed, and a file over the size cap is not read, so a repository
//! cannot make pasvlint read the machine it runs on.

use crate::jail::{jail, read_regular, within};
use crate::scripts::{Command, Input, Text, Word};
use crate::source::Span;
use std::path::{Path, PathBuf};

/// How deep sourced files may source others: a file that sources itself
/// stops here.
pub const MAX_DEPTH: usize = 8;

/// The repository file `. name` reads from the script at `script`, and its bytes.
pub fn find(script: &Path, name: &str) -> Option<(PathBuf, Vec<u8>)> {
    let jail = jail(script)?;
    candidates(script, name)
        .into_iter()
        .filter(|c| within(c, &jail))
        .find_map(|c| read_regular(&c).map(|bytes| (c, bytes)))
}

/// Where the sourced file may be, nearest first.
fn candidates(script: &Path, name: &str) -> Vec<PathBuf> {
    let dir = script.parent().unwrap_or(Path::new(""));
    match name.strip_prefix('/') {
        None => vec![dir.join(name)],
        Some(rooted) if !rooted.is_empty() => dir.ancestors().map(|a| a.join(rooted)).collect(),
        Some(_) => Vec::new(),
    }
}

/// A command the sourced file runs, shown at the `. FILE` line that ran it:
/// the sourced file is not one of the run's files, so none of its own
/// positions could be shown.
pub fn relocate(c: &mut Command, at: Span) {
    c.span = at;
    c.argv.iter_mut().for_each(|w| word(w, at));
    match &mut c.stdin {
        Some(Input::Text(t)) => text(t, at),
        Some(Input::File(w)) => word(w, at),
        Some(Input::Piped(words)) => words.iter_mut().for_each(|w| word(w, at)),
        None => {}
    }
    for r in &mut c.redirects {
        r.span = at;
        word(&mut r.target, at);
    }
    if let Some(u) = &mut c.uncertain {
        u.span = at;
    }
}

fn word(w: &mut Word, at: Span) {
    w.span = at;
}

fn text(t: &mut Text, at: Span) {
    t.pieces.iter_mut().for_each(|p| p.span = at);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_name_is_looked_for_under_each_folder_the_script_is_in() {
        let got = candidates(Path::new("case/etc/firewall.sh"), "/etc/default/fw");
        let want = [
            "case/etc/etc/default/fw",
            "case/etc/default/fw",
            "etc/default/fw",
        ];
        assert_eq!(got, want.map(PathBuf::from));
    }

    #[test]
    fn a_relative_name_is_taken_from_the_scripts_folder() {
        let got = candidates(Path::new("deploy/fw.sh"), "./vars.sh");
        assert_eq!(got, [PathBuf::from("deploy/./vars.sh")]);
    }
}
