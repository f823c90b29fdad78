//! What pasvlint claims a test client reaches, over the candidate ports the
//! oracles probe (1-1100 and 40000-40110).

use pasvlint::facts::Family;
use pasvlint::policy::Config;
use std::collections::BTreeSet;
use std::path::Path;

pub fn candidates() -> BTreeSet<u16> {
    (1..=1100).chain(40000..=40110).collect()
}

/// pasvlint's claim for the test client: candidate ports open to its class and
/// those open to only some of it; everything when it finds no firewall.
pub fn claim(case: &Path, family: Family) -> (BTreeSet<u16>, BTreeSet<u16>) {
    claim_over(case, family, &candidates()).unwrap_or((candidates(), BTreeSet::new()))
}

/// The claim over the `ports` an oracle probes; `None` when pasvlint finds no
/// firewall for the family.
pub fn claim_over(
    case: &Path,
    family: Family,
    ports: &BTreeSet<u16>,
) -> Option<(BTreeSet<u16>, BTreeSet<u16>)> {
    let report = pasvlint::lint(&[case.to_path_buf()], &Config::default());
    let fw = report.hosts.iter().find_map(|h| h.firewall_for(family))?;
    let client: std::net::IpAddr = match family {
        Family::V4 => super::netns::CLIENT_ADDR.parse().unwrap(),
        Family::V6 => super::netns::CLIENT_ADDR6.parse().unwrap(),
    };
    let address = match client {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        std::net::IpAddr::V6(a) => u128::from(a),
    };
    let classes = fw.source_classes();
    let class = classes
        .iter()
        .find(|c| c.sources.as_ref().is_none_or(|s| s.contains(address)))
        .expect("every client is in some class");
    let pick = |set: &pasvlint::portset::PortSet| {
        ports.iter().copied().filter(|p| set.contains(*p)).collect()
    };
    Some((pick(&class.open), pick(&class.open_to_some)))
}

/// What the client reached agrees with a claim: every port open to its class,
/// and beyond those only ports open to some of it.
pub fn agrees(opened: &BTreeSet<u16>, all: &BTreeSet<u16>, some: &BTreeSet<u16>) -> bool {
    all.is_subset(opened) && opened.iter().all(|p| all.contains(p) || some.contains(p))
}

pub fn show(set: &BTreeSet<u16>) -> String {
    set.iter()
        .copied()
        .collect::<pasvlint::portset::PortSet>()
        .to_string()
}

/// Probes the `ports` of `pair`'s server over IPv4 and IPv6 and compares what
/// the client reached with pasvlint's claim for `case`; each disagreement (or
/// probe failure) is pushed to `failures`, quoting what `tool` said.
#[allow(dead_code)] // not every oracle binary probes both families this way
pub fn compare_both_families(
    pair: &super::netns::Pair,
    case: &Path,
    ports: &BTreeSet<u16>,
    (tool, said): (&str, &str),
    failures: &mut Vec<String>,
) {
    let name = super::cases::name(case);
    for (family, ipv6) in [(Family::V4, false), (Family::V6, true)] {
        let opened = match super::connect::connectable(pair, ports, ipv6) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name} {family:?}: {e}"));
                continue;
            }
        };
        let (all, some) =
            claim_over(case, family, ports).unwrap_or((ports.clone(), BTreeSet::new()));
        eprintln!(
            "{name} {family:?}: connected to {}; pasvlint: open to the client {}, to some {} ({said})",
            show(&opened),
            show(&all),
            show(&some)
        );
        if !agrees(&opened, &all, &some) {
            failures.push(format!(
                "{name} {family:?}: connected to {}, pasvlint says open to the client {} (to some {}); {tool}: {said}",
                show(&opened),
                show(&all),
                show(&some)
            ));
        }
    }
}
