//! Configurations spread over several files: what a daemon includes (nftables
//! `include`, ProFTPD `Include`) and directories a program reads as a whole
//! (firewalld's zones and services, Debian's pure-ftpd `conf/` with one file per
//! option, ufw's `/etc/ufw` and `/etc/default/ufw`).
//!
//! Each file is still parsed alone, so its syntax findings and suppressions are its
//! own. Then every part of a [`Family`] is handed to that family's `assemble`,
//! which groups the parts into bundles and builds one model per bundle; the
//! bundle's facts belong to its primary file, and the other parts join the
//! primary's host bringing nothing of their own.

use super::{Format, ParsedFile};
use crate::facts::FileFacts;
use crate::source::FileId;
use std::path::{Path, PathBuf};

/// Formats whose files are read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Ufw,
    PureFtpd,
    Firewalld,
    Proftpd,
    Nftables,
}

impl Format {
    /// The family whose `assemble` reads this format's files; `None` for a
    /// format whose files stand alone.
    pub fn bundle_family(&self) -> Option<Family> {
        match self {
            Format::UfwRules | Format::UfwSettings => Some(Family::Ufw),
            Format::PureFtpd => Some(Family::PureFtpd),
            Format::FirewalldZone | Format::FirewalldService | Format::FirewalldConf => {
                Some(Family::Firewalld)
            }
            Format::Proftpd => Some(Family::Proftpd),
            Format::Nftables => Some(Family::Nftables),
            _ => None,
        }
    }
}

/// One configuration made of several files.
#[derive(Debug)]
pub struct Bundle {
    /// The file that stands for the whole (the top-level file, or the one the
    /// program reads first); the bundle's facts are its facts.
    pub primary: FileId,
    /// Every file of the bundle, the primary first, then in path order.
    pub parts: Vec<ParsedFile>,
    pub doc: BundleDoc,
}

/// The model a family builds from its bundle's parts.
#[derive(Debug)]
pub enum BundleDoc {
    Ufw(Box<super::ufw::files::UfwHost>),
    PureFtpd(super::pureftpd::bundle::Assembled),
    Firewalld(Box<super::firewalld::host::FirewalldHost>),
    Proftpd(super::proftpd::bundle::Assembled),
    Nftables(Box<super::nftables::File>),
}

impl Bundle {
    pub fn part(&self, id: FileId) -> Option<&ParsedFile> {
        self.parts.iter().find(|p| p.source.id == id)
    }

    pub fn primary_file(&self) -> &ParsedFile {
        self.part(self.primary)
            .or(self.parts.first())
            .expect("a bundle has at least one part")
    }

    /// The parts other than the primary.
    pub fn members(&self) -> impl Iterator<Item = FileId> + '_ {
        self.parts
            .iter()
            .map(|p| p.source.id)
            .filter(move |id| *id != self.primary)
    }
}

/// Group every part by family and let each family assemble its bundles. Every
/// part ends up in exactly one bundle (a family that cannot place a part makes it
/// a bundle of its own).
pub fn assemble(mut parts: Vec<ParsedFile>) -> Vec<Bundle> {
    parts.sort_by(|a, b| a.source.path.cmp(&b.source.path));
    let mut bundles = Vec::new();
    while let Some(first) = parts.first() {
        let Some(family) = first.format.bundle_family() else {
            parts.remove(0);
            continue;
        };
        let (mine, rest): (Vec<ParsedFile>, Vec<ParsedFile>) = parts
            .into_iter()
            .partition(|p| p.format.bundle_family() == Some(family));
        parts = rest;
        bundles.extend(assemble_family(family, mine));
    }
    bundles.sort_by_key(|b| b.primary);
    bundles
}

fn assemble_family(family: Family, parts: Vec<ParsedFile>) -> Vec<Bundle> {
    match family {
        Family::Ufw => super::ufw::files::assemble(parts)
            .into_iter()
            .map(|(_, parts)| Bundle {
                primary: parts[0].source.id,
                doc: BundleDoc::Ufw(Box::new(super::ufw::files::load(&parts))),
                parts,
            })
            .collect(),
        Family::PureFtpd => super::pureftpd::bundle::assemble(parts),
        Family::Firewalld => super::firewalld::host::assemble(parts)
            .into_iter()
            .map(|(_, parts)| Bundle {
                primary: parts[0].source.id,
                doc: BundleDoc::Firewalld(Box::new(super::firewalld::host::load(&parts))),
                parts,
            })
            .collect(),
        Family::Proftpd => super::proftpd::bundle::assemble(parts),
        Family::Nftables => super::nftables::bundle::assemble(parts),
    }
}

/// What a bundle contributes to its host, as if its primary file said it all.
pub fn facts(bundle: &Bundle) -> FileFacts {
    match &bundle.doc {
        BundleDoc::Ufw(host) => super::ufw::files::facts(host, &bundle.primary_file().source),
        BundleDoc::PureFtpd(model) => FileFacts {
            ftp: super::pureftpd::bundle::facts(model, bundle),
            ..FileFacts::default()
        },
        BundleDoc::Firewalld(host) => {
            super::firewalld::host::facts(host, &bundle.primary_file().source)
        }
        BundleDoc::Nftables(model) => super::nftables::bundle::facts(model, bundle),
        BundleDoc::Proftpd(model) => FileFacts {
            ftp: super::proftpd::bundle::facts(model, bundle),
            ..FileFacts::default()
        },
    }
}

/// The files among `known` that an include of `target` written in `includer`
/// names, in path order. An absolute `target` (`/etc/proftpd/conf.d/*.conf`) is
/// looked for under each directory above the includer, nearest first, as if that
/// directory were the host's `/` (a repository keeps a host's `/etc` under some
/// folder); a relative one under `relative_to`. Globs (`*`, `?`, `[...]`) match as
/// the programs' `glob(3)` does, without crossing `/`.
pub fn resolve_include(
    includer: &Path,
    target: &str,
    relative_to: &Path,
    known: &[&Path],
) -> Vec<PathBuf> {
    let matching = |pattern: &Path| -> Vec<PathBuf> {
        let Some(matcher) = glob_matcher(pattern) else {
            return Vec::new();
        };
        let mut found: Vec<PathBuf> = known
            .iter()
            .filter(|p| matcher.is_match(p))
            .map(|p| p.to_path_buf())
            .collect();
        found.sort();
        found
    };
    let Some(absolute) = target.strip_prefix('/') else {
        return matching(&relative_to.join(target));
    };
    includer
        .ancestors()
        .skip(1)
        .map(|root| matching(&root.join(absolute)))
        .find(|found| !found.is_empty())
        .unwrap_or_default()
}

fn glob_matcher(pattern: &Path) -> Option<globset::GlobMatcher> {
    let text = pattern.to_str()?;
    let glob = globset::GlobBuilder::new(&escape_braces(text))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()?;
    Some(glob.compile_matcher())
}

/// `glob(3)` without `GLOB_BRACE` takes `{` and `}` literally.
fn escape_braces(pattern: &str) -> String {
    pattern.replace('{', "\\{").replace('}', "\\}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn absolute_includes_are_found_under_the_host_folder() {
        let known = paths(&[
            "repo/web1/etc/proftpd/proftpd.conf",
            "repo/web1/etc/proftpd/conf.d/pasv.conf",
            "repo/web1/etc/proftpd/conf.d/tls.conf",
            "repo/web1/etc/proftpd/conf.d/notes.txt",
            "repo/web2/etc/proftpd/conf.d/other.conf",
        ]);
        let known: Vec<&Path> = known.iter().map(PathBuf::as_path).collect();
        let includer = Path::new("repo/web1/etc/proftpd/proftpd.conf");
        let found = resolve_include(
            includer,
            "/etc/proftpd/conf.d/*.conf",
            includer.parent().unwrap(),
            &known,
        );
        assert_eq!(
            found,
            paths(&[
                "repo/web1/etc/proftpd/conf.d/pasv.conf",
                "repo/web1/etc/proftpd/conf.d/tls.conf",
            ])
        );
    }

    #[test]
    fn relative_includes_are_resolved_against_the_given_folder() {
        let known = paths(&[
            "h/etc/nftables.conf",
            "h/etc/nft/ftp.nft",
            "h/etc/nft/sub/x.nft",
        ]);
        let known: Vec<&Path> = known.iter().map(PathBuf::as_path).collect();
        let includer = Path::new("h/etc/nftables.conf");
        let found = resolve_include(includer, "nft/*.nft", Path::new("h/etc"), &known);
        assert_eq!(found, paths(&["h/etc/nft/ftp.nft"]), "* does not cross /");
        let none = resolve_include(includer, "/etc/missing.nft", Path::new("h/etc"), &known);
        assert!(none.is_empty());
    }
}
