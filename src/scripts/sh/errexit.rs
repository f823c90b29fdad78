//! `set -e` (errexit) and `set -o pipefail`: the options that decide when a
//! failing command ends the script, as bash 5.2 and dash 0.5.12 apply them.
//!
//! A simple command, a pipeline or a subshell whose status is known to be
//! non-zero ends the script unless errexit is ignored there: in the condition of
//! `if`/`while`/`until`, in a `&&`/`||` list before its last command, in a `!`
//! pipeline, and in everything those run (function bodies included). The
//! interpreter counts the contexts it is in that ignore errexit.

/// The shell options that matter for errexit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub errexit: bool,
    pub pipefail: bool,
}

/// What `set` does to the options.
#[derive(Debug, PartialEq, Eq)]
pub enum Set {
    /// The options were changed (or left alone when the words are unknown).
    Done,
    /// The shell rejects an option (`set -o pipefail` in dash): a special
    /// builtin's error ends a non-interactive shell.
    Fails,
}

impl Options {
    /// The options a `#!` line gives when the kernel runs the script: its one
    /// argument (`#!/bin/bash -e`, `#!/bin/sh -eu`). Through `env` the whole
    /// rest is one word that names no program, so nothing is set.
    pub fn of_shebang(text: &str) -> Options {
        let mut opts = Options::default();
        let Some(line) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else {
            return opts;
        };
        let line = line.trim();
        let Some((prog, arg)) = line.split_once([' ', '\t']) else {
            return opts;
        };
        if prog.ends_with("/env") {
            return opts;
        }
        // Linux passes the rest of the line as one argument; the shell reads it
        // as one bundle of option letters.
        let arg = arg.trim();
        if let Some(letters) = arg.strip_prefix('-') {
            if letters.bytes().all(|b| b.is_ascii_alphabetic()) && letters.contains('e') {
                opts.errexit = true;
            }
        }
        opts
    }

    /// `set` with these arguments (`None`: a word the script cannot know).
    pub fn set(&mut self, args: &[Option<&str>], bash: bool) -> Set {
        let mut i = 0;
        while let Some(arg) = args.get(i) {
            let Some(arg) = arg else { return Set::Done };
            let on = match arg.as_bytes().first() {
                Some(b'-') => true,
                Some(b'+') => false,
                _ => return Set::Done,
            };
            if *arg == "--" || *arg == "-" {
                return Set::Done;
            }
            for letter in arg[1..].chars() {
                match letter {
                    'e' => self.errexit = on,
                    'o' => {
                        i += 1;
                        match args.get(i) {
                            Some(Some(name)) => {
                                if self.named(name, on, bash) == Set::Fails {
                                    return Set::Fails;
                                }
                            }
                            // `set -o` alone lists the options.
                            Some(None) | None => return Set::Done,
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        Set::Done
    }

    fn named(&mut self, name: &str, on: bool, bash: bool) -> Set {
        match name {
            "errexit" => self.errexit = on,
            "pipefail" if bash => self.pipefail = on,
            // dash 0.5.12 knows no pipefail: "set: Illegal option -o pipefail".
            "pipefail" => return Set::Fails,
            _ => {}
        }
        Set::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str], bash: bool) -> (Options, Set) {
        let mut o = Options::default();
        let args: Vec<Option<&str>> = words.iter().map(|w| Some(*w)).collect();
        let r = o.set(&args, bash);
        (o, r)
    }

    #[test]
    fn set_reads_bundles_and_long_names() {
        let (o, r) = set(&["-euo", "pipefail"], true);
        assert_eq!(r, Set::Done);
        assert!(o.errexit && o.pipefail);
        assert!(set(&["-o", "errexit"], true).0.errexit);
        assert!(!set(&["-e", "+e"], true).0.errexit);
        assert!(!set(&["-x"], true).0.errexit);
        assert!(!set(&["--", "-e"], true).0.errexit);
        assert_eq!(set(&["-euo", "pipefail"], false).1, Set::Fails);
        let mut o = Options::default();
        assert_eq!(o.set(&[None, Some("-e")], true), Set::Done);
        assert!(!o.errexit);
    }

    #[test]
    fn shebang_options() {
        assert!(Options::of_shebang("#!/bin/bash -e\n").errexit);
        assert!(Options::of_shebang("#!/bin/sh -eu\n").errexit);
        assert!(!Options::of_shebang("#!/bin/sh -u\n").errexit);
        assert!(!Options::of_shebang("#!/usr/bin/env bash -e\n").errexit);
        assert!(!Options::of_shebang("#!/bin/bash\nset -e\n").errexit);
    }
}
