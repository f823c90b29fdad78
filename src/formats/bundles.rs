//! Every bundle of a run: the parts of each [`Family`] handed to that family's
//! `assemble`, and each bundle's facts (see [`super::bundle`]).

use super::ParsedFile;
use super::bundle::{Bundle, BundleDoc, Family};
use crate::facts::FileFacts;

/// Group every part by family and let each family assemble its bundles. Every
/// part ends up in exactly one bundle (a family that cannot place a part makes it
/// a bundle of its own).
pub fn assemble(mut parts: Vec<ParsedFile>) -> Vec<Bundle> {
    parts.sort_by(|a, b| a.source.path.cmp(&b.source.path));
    // One pass sorts the parts into a list per family, the families in the
    // order each first appears, paths in order within each (what one
    // partition of all remaining parts per family gave, without copying every
    // part once per family).
    let mut families: Vec<(Family, Vec<ParsedFile>)> = Vec::new();
    for part in parts {
        let Some(family) = part.format.bundle_family() else {
            continue;
        };
        match families.iter_mut().find(|(f, _)| *f == family) {
            Some((_, mine)) => mine.push(part),
            None => families.push((family, vec![part])),
        }
    }
    let mut bundles = Vec::new();
    for (family, mine) in families {
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
        Family::Kubernetes => super::kube::cluster::assemble(parts),
        Family::Terraform => super::terraform::module::assemble(parts),
        Family::Ansible => super::ansible::project::assemble(parts),
        Family::Puppet => super::puppet::project::assemble(parts),
        Family::Compose => super::compose::project::assemble(parts),
    }
}

/// What a bundle contributes to its host, as if its primary file said it all.
pub fn facts(bundle: &Bundle) -> FileFacts {
    let mut facts = own_facts(bundle);
    if matches!(
        bundle.doc,
        BundleDoc::Ufw(_) | BundleDoc::Firewalld(_) | BundleDoc::Nftables(_)
    ) {
        name_every_part(&mut facts, bundle);
    }
    facts
}

/// A firewall read from several files is made of all of them (a firewalld zone and
/// its services, ufw's rules files, an nftables file and its includes).
fn name_every_part(facts: &mut FileFacts, bundle: &Bundle) {
    let ids: Vec<_> = std::iter::once(bundle.primary)
        .chain(bundle.members())
        .collect();
    for fw in [&mut facts.firewall, &mut facts.firewall_v6]
        .into_iter()
        .flatten()
    {
        fw.files.clone_from(&ids);
    }
}

fn own_facts(bundle: &Bundle) -> FileFacts {
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
        BundleDoc::Kubernetes(_) => super::kube::cluster::facts(bundle),
        BundleDoc::Terraform(_) => super::terraform::module::facts(bundle),
        BundleDoc::Proftpd(model) => FileFacts {
            ftp: super::proftpd::bundle::facts(model, bundle),
            ..FileFacts::default()
        },
        BundleDoc::Ansible(project) => {
            super::ansible::project::facts(project, &bundle.primary_file().source)
        }
        BundleDoc::Puppet(project) => super::puppet::project::facts(project, bundle),
        BundleDoc::Compose(doc) => super::compose::project::facts(doc, bundle),
    }
}

/// The files a bundle's configuration writes on the host (an Ansible play's
/// `template` and `copy` tasks), read as a script's writes are, and the
/// repository files that are now those files (they bring nothing of their own).
/// `lookup` finds the run's files by normalized path.
pub fn outcome(
    bundle: &Bundle,
    lookup: &super::ansible::files::Lookup,
) -> Option<(crate::scripts::Outcome, Vec<crate::source::FileId>)> {
    match &bundle.doc {
        BundleDoc::Ansible(project) if !project.ops.is_empty() => {
            Some(super::ansible::project::outcome(project, lookup))
        }
        BundleDoc::Puppet(project) if !project.resources.is_empty() => {
            Some(super::puppet::project::outcome(project, lookup))
        }
        // ConfigMap keys mounted as server configs: files in the pod.
        BundleDoc::Kubernetes(_) => Some((super::kube::configs::outcome(bundle)?, Vec::new())),
        _ => None,
    }
}
