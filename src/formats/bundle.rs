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
    Kubernetes,
    Terraform,
    Ansible,
    Puppet,
    Compose,
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
            Format::Kubernetes => Some(Family::Kubernetes),
            Format::Terraform => Some(Family::Terraform),
            Format::Ansible | Format::AnsibleVars => Some(Family::Ansible),
            Format::Puppet | Format::Hiera => Some(Family::Puppet),
            Format::Compose => Some(Family::Compose),
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
    PureFtpd(super::pureftpd::Assembled),
    Firewalld(Box<super::firewalld::host::FirewalldHost>),
    Proftpd(super::proftpd::Assembled),
    Nftables(Box<super::nftables::File>),
    Kubernetes(Box<super::kube::cluster::Cluster>),
    Terraform(Box<super::terraform::module::ModuleDir>),
    Ansible(Box<super::ansible::project::Project>),
    Puppet(Box<super::puppet::project::Project>),
    Compose(Box<super::compose::Compose>),
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
