//! The rule registry: one `rules!` list binds each rule's code to its `rules/<name>.toml`.

use crate::diag::{Diagnostic, Severity};
use crate::formats::ParsedFile;
use crate::hosts::Host;
use crate::policy::Policy;
use serde::Deserialize;
use std::sync::OnceLock;

/// A check. Implement only the hook for what the rule reads.
pub trait Rule: Sync + Send {
    fn name(&self) -> &'static str;

    /// Reads one parsed file (syntax and single-file semantics).
    fn check_file(&self, _file: &ParsedFile, _out: &mut Vec<Diagnostic>) {}

    /// Reads one configuration spread over several files (includes, a directory
    /// the program reads as a whole), after each part went through `check_file`.
    fn check_bundle(&self, _bundle: &crate::formats::bundle::Bundle, _out: &mut Vec<Diagnostic>) {}

    /// Reads one host's facts (cross-checks between server and firewall, policy).
    fn check_host(&self, _host: &Host, _policy: &Policy, _out: &mut Vec<Diagnostic>) {}

    /// A file rule that judges a file as the ruleset in effect (which rules decide,
    /// which matches are modelled) has nothing to say about a backup copy; rules that
    /// say a file would not load still report on backups, which get restored.
    fn skips_backups(&self) -> bool {
        false
    }
}

/// A rule's documentation and defaults, from `rules/<name>.toml`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub name: String,
    pub severity: Severity,
    pub category: String,
    pub since: String,
    pub summary: String,
    pub description: String,
    pub bad: Example,
    pub good: Example,
    pub fix: String,
    #[serde(default)]
    pub references: Vec<String>,
}

/// Files that show a rule firing (`bad`) or staying quiet (`good`).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub files: Vec<ExampleFile>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExampleFile {
    pub path: String,
    pub text: String,
}

pub struct Registered {
    pub rule: &'static dyn Rule,
    pub toml: &'static str,
}

macro_rules! rules {
    ($($module:ident :: $ty:ident => $name:literal),* $(,)?) => {
        $(pub mod $module;)*
        static REGISTRY: &[Registered] = &[
            $(Registered {
                rule: &$module::$ty,
                toml: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $name, ".toml")),
            },)*
        ];
    };
}

rules! {
    active_data_blocked::ActiveDataBlocked => "active-data-blocked",
    ansible_port_read_as_base_60::AnsiblePortReadAsBase60 => "ansible-port-read-as-base-60",
    ansible_syntax_error::AnsibleSyntaxError => "ansible-syntax-error",
    ansible_task_fails::AnsibleTaskFails => "ansible-task-fails",
    ansible_value_unresolved::AnsibleValueUnresolved => "ansible-value-unresolved",
    active_port_20_unused::ActivePort20Unused => "active-port-20-unused",
    batch_for_single_percent::BatchForSinglePercent => "batch-for-single-percent",
    compose_env_ignored::ComposeEnvIgnored => "compose-env-ignored",
    compose_syntax_error::ComposeSyntaxError => "compose-syntax-error",
    container_passive_range_unknown::ContainerPassiveRangeUnknown => "container-passive-range-unknown",
    container_port_remapped::ContainerPortRemapped => "container-port-remapped",
    control_port_blocked::ControlPortBlocked => "control-port-blocked",
    control_port_outside_policy::ControlPortOutsidePolicy => "control-port-outside-policy",
    expired_suppression::ExpiredSuppression => "expired-suppression",
    filezilla_config_malformed::FilezillaConfigMalformed => "filezilla-config-malformed",
    filezilla_passive_range_invalid::FilezillaPassiveRangeInvalid => "filezilla-passive-range-invalid",
    firewall_allows_everything::FirewallAllowsEverything => "firewall-allows-everything",
    firewalld_config_invalid::FirewalldConfigInvalid => "firewalld-config-invalid",
    firewalld_rich_rule_shadowed::FirewalldRichRuleShadowed => "firewalld-rich-rule-shadowed",
    firewalld_zone_unused::FirewalldZoneUnused => "firewalld-zone-unused",
    firewall_family_unknown::FirewallFamilyUnknown => "firewall-family-unknown",
    firewall_opens_unused_ports::FirewallOpensUnusedPorts => "firewall-opens-unused-ports",
    ftp_helper_not_assigned::FtpHelperNotAssigned => "ftp-helper-not-assigned",
    iis_config_malformed::IisConfigMalformed => "iis-config-malformed",
    iis_config_source_not_found::IisConfigSourceNotFound => "iis-config-source-not-found",
    iis_name_wrong_case::IisNameWrongCase => "iis-name-wrong-case",
    iis_passive_range_invalid::IisPassiveRangeInvalid => "iis-passive-range-invalid",
    iis_passive_range_misplaced::IisPassiveRangeMisplaced => "iis-passive-range-misplaced",
    iis_passive_range_starts_at_1024::IisPassiveRangeStartsAt1024 => "iis-passive-range-starts-at-1024",
    iis_script_command_malformed::IisScriptCommandMalformed => "iis-script-command-malformed",
    ipsec_policy_not_assigned::IpsecPolicyNotAssigned => "ipsec-policy-not-assigned",
    ipsec_reply_blocked::IpsecReplyBlocked => "ipsec-reply-blocked",
    ip6tables_icmpv6_dropped::Ip6tablesIcmpv6Dropped => "ip6tables-icmpv6-dropped",
    iptables_multiport_too_many_ports::IptablesMultiportTooManyPorts => "iptables-multiport-too-many-ports",
    iptables_syntax_error::IptablesSyntaxError => "iptables-syntax-error",
    iptables_unknown_match::IptablesUnknownMatch => "iptables-unknown-match",
    iptables_unreachable_rule::IptablesUnreachableRule => "iptables-unreachable-rule",
    kube_object_invalid::KubeObjectInvalid => "kube-object-invalid",
    kube_service_port_remapped::KubeServicePortRemapped => "kube-service-port-remapped",
    kube_session_affinity_missing::KubeSessionAffinityMissing => "kube-session-affinity-missing",
    kube_syntax_error::KubeSyntaxError => "kube-syntax-error",
    netsh_firewall_deprecated::NetshFirewallDeprecated => "netsh-firewall-deprecated",
    nftables_icmpv6_dropped::NftablesIcmpv6Dropped => "nftables-icmpv6-dropped",
    nftables_include_not_found::NftablesIncludeNotFound => "nftables-include-not-found",
    nftables_later_chain_drops::NftablesLaterChainDrops => "nftables-later-chain-drops",
    nftables_syntax_error::NftablesSyntaxError => "nftables-syntax-error",
    no_firewall_found::NoFirewallFound => "no-firewall-found",
    pairing_spans_folders::PairingSpansFolders => "pairing-spans-folders",
    passive_address_unreachable::PassiveAddressUnreachable => "passive-address-unreachable",
    passive_disabled_but_open::PassiveDisabledButOpen => "passive-disabled-but-open",
    passive_ports_blocked::PassivePortsBlocked => "passive-ports-blocked",
    passive_range_outside_policy::PassiveRangeOutsidePolicy => "passive-range-outside-policy",
    passive_range_too_small::PassiveRangeTooSmall => "passive-range-too-small",
    passive_range_unrestricted::PassiveRangeUnrestricted => "passive-range-unrestricted",
    proftpd_config_invalid::ProftpdConfigInvalid => "proftpd-config-invalid",
    proftpd_include_not_found::ProftpdIncludeNotFound => "proftpd-include-not-found",
    proftpd_passive_ports_invalid::ProftpdPassivePortsInvalid => "proftpd-passive-ports-invalid",
    pureftpd_config_invalid::PureftpdConfigInvalid => "pureftpd-config-invalid",
    pureftpd_passive_range_invalid::PureftpdPassiveRangeInvalid => "pureftpd-passive-range-invalid",
    pureftpd_setting_ignored::PureftpdSettingIgnored => "pureftpd-setting-ignored",
    reg_file_syntax_error::RegFileSyntaxError => "reg-file-syntax-error",
    script_limit_reached::ScriptLimitReached => "script-limit-reached",
    script_stops_early::ScriptStopsEarly => "script-stops-early",
    script_write_not_followed::ScriptWriteNotFollowed => "script-write-not-followed",
    security_group_passive_range_note::SecurityGroupPassiveRangeNote => "security-group-passive-range-note",
    puppet_syntax_error::PuppetSyntaxError => "puppet-syntax-error",
    puppet_value_unresolved::PuppetValueUnresolved => "puppet-value-unresolved",
    terraform_filter_unknown::TerraformFilterUnknown => "terraform-filter-unknown",
    terraform_syntax_error::TerraformSyntaxError => "terraform-syntax-error",
    terraform_value_unresolved::TerraformValueUnresolved => "terraform-value-unresolved",
    registry_wrong_key::RegistryWrongKey => "registry-wrong-key",
    registry_wrong_value_type::RegistryWrongValueType => "registry-wrong-value-type",
    ufw_config_invalid::UfwConfigInvalid => "ufw-config-invalid",
    ufw_not_enabled::UfwNotEnabled => "ufw-not-enabled",
    ufw_rule_outside_tuples::UfwRuleOutsideTuples => "ufw-rule-outside-tuples",
    unused_suppression::UnusedSuppression => "unused-suppression",
    vsftpd_bad_boolean::VsftpdBadBoolean => "vsftpd-bad-boolean",
    vsftpd_bad_number::VsftpdBadNumber => "vsftpd-bad-number",
    vsftpd_blank_string_value::VsftpdBlankStringValue => "vsftpd-blank-string-value",
    vsftpd_duplicate_directive::VsftpdDuplicateDirective => "vsftpd-duplicate-directive",
    vsftpd_listen_conflict::VsftpdListenConflict => "vsftpd-listen-conflict",
    vsftpd_missing_value::VsftpdMissingValue => "vsftpd-missing-value",
    vsftpd_passive_command_refused::VsftpdPassiveCommandRefused => "vsftpd-passive-command-refused",
    vsftpd_passive_range_invalid::VsftpdPassiveRangeInvalid => "vsftpd-passive-range-invalid",
    vsftpd_pasv_address_unusable::VsftpdPasvAddressUnusable => "vsftpd-pasv-address-unusable",
    vsftpd_unknown_directive::VsftpdUnknownDirective => "vsftpd-unknown-directive",
    windows_firewall_rule_malformed::WindowsFirewallRuleMalformed => "windows-firewall-rule-malformed",
}

/// Every rule, in registry order.
pub fn registry() -> &'static [Registered] {
    REGISTRY
}

/// Every rule's metadata, parsed once. A TOML that does not parse is a build
/// defect caught by `tests/catalog.rs`; here it is skipped rather than panicking.
pub fn catalog() -> &'static [RuleMeta] {
    static CATALOG: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        REGISTRY
            .iter()
            .filter_map(|r| toml::from_str(r.toml).ok())
            .collect()
    })
}

pub fn meta(name: &str) -> Option<&'static RuleMeta> {
    catalog().iter().find(|m| m.name == name)
}

/// The text `pasvlint explain` prints.
pub fn explain(meta: &RuleMeta) -> String {
    let mut out = format!(
        "{} ({}, {})\n\n{}\n\n{}\n",
        meta.name,
        meta.severity.as_str(),
        meta.category,
        meta.summary,
        meta.description.trim_end()
    );
    for (title, example) in [
        ("Example that triggers it", &meta.bad),
        ("Example that passes", &meta.good),
    ] {
        out.push_str(&format!("\n## {title}\n"));
        for f in &example.files {
            out.push_str(&format!("\n{}:\n", f.path));
            for line in f.text.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out.push_str(&format!("\n## Fix\n{}\n", meta.fix.trim_end()));
    if !meta.references.is_empty() {
        out.push_str("\n## References\n");
        for r in &meta.references {
            out.push_str(&format!("- {r}\n"));
        }
    }
    out
}

/// Where a finding about a server's passive range points: the settings behind
/// it (first as primary), or the server's anchor when the range is a default.
pub(crate) fn passive_spans(
    server: &crate::facts::FtpServer,
) -> (crate::source::Span, Vec<crate::source::Span>) {
    let spans: &[crate::source::Span] = match &server.passive {
        crate::facts::Passive::Enabled { spans, .. }
        | crate::facts::Passive::Unknown { spans, .. } => spans,
        crate::facts::Passive::Disabled { span, .. } => span.as_slice(),
    };
    match spans.split_last() {
        Some((last, rest)) => (*last, rest.to_vec()),
        None => (server.anchor, Vec::new()),
    }
}

/// Label for a closing decision: "policy DROP closes 9985-9986" / "drops 9985-9986".
/// "by the firewall", naming the Windows Firewall profile when the profiles disagree.
pub(crate) fn by_the_firewall(fw: &crate::facts::Firewall) -> String {
    match &fw.profiles {
        Some(p) if p.worth_naming() => {
            format!("by the firewall in the {} profile", p.shown().name())
        }
        _ => "by the firewall".to_owned(),
    }
}

/// The Windows profiles other than the one assumed (public, when no file says
/// which network the host is on) that let any of `ports` in: a finding about the
/// public profile then holds only when the host is on a public network.
pub(crate) fn open_in_unassumed_profiles(
    fw: &crate::facts::Firewall,
    ports: &crate::portset::PortSet,
) -> Vec<crate::facts::Profile> {
    use crate::facts::Profile;
    let Some(p) = fw
        .profiles
        .as_ref()
        .filter(|p| p.host.is_none() && p.worth_naming())
    else {
        return Vec::new();
    };
    [Profile::Domain, Profile::Private]
        .into_iter()
        .filter(|&other| !p.get(other).open_to_any().intersection(ports).is_empty())
        .collect()
}

pub(crate) fn closing_label(d: &crate::facts::Decision, ports: &crate::portset::PortSet) -> String {
    use crate::facts::Verdict;
    let hit = d.ports.intersection(ports).summary(4);
    if d.later_packets {
        let verb = match (d.is_policy, d.verdict) {
            (true, Verdict::Reject) => "policy REJECT rejects",
            (true, _) => "policy DROP drops",
            (false, Verdict::Reject) => "rejects",
            (false, _) => "drops",
        };
        return format!("{verb} the later packets of connections to {hit} (state ESTABLISHED)");
    }
    match (d.is_policy, d.verdict) {
        (true, Verdict::Reject) => format!("policy REJECT closes {hit}"),
        (true, _) => format!("policy DROP closes {hit}"),
        (false, Verdict::Reject) => format!("rejects {hit}"),
        (false, Verdict::Forward) => format!("sends {hit} to another address (DNAT)"),
        (false, _) => format!("drops {hit}"),
    }
}

/// A layer kind of a cloud filter (Terraform's security groups, NSGs, VPC firewalls).
pub(crate) fn is_cloud_layer(kind: &str) -> bool {
    matches!(kind, "aws-security-group" | "azure-nsg" | "gcp-firewall")
}

/// A server whose passive range is not known, the span to point at (the setting
/// not known, else the server's anchor), and why.
pub(crate) type UnknownRange<'h> = (&'h crate::facts::FtpServer, crate::source::Span, &'h str);

/// The first layer of the host's firewall whose kind `is_kind` picks, and each
/// server behind it whose passive range is not known.
pub(crate) fn unknown_ranges_behind(
    host: &Host,
    is_kind: impl Fn(&str) -> bool,
) -> Option<(&'static str, Vec<UnknownRange<'_>>)> {
    let fw = host.firewall.as_ref()?;
    let kind = fw
        .own_layers()
        .iter()
        .map(|l| l.kind)
        .find(|k| is_kind(k))?;
    let servers = host
        .servers
        .iter()
        .filter_map(|server| match &server.passive {
            crate::facts::Passive::Unknown { spans, reason } => Some((
                server,
                spans.first().copied().unwrap_or(server.anchor),
                reason.as_str(),
            )),
            _ => None,
        })
        .collect();
    Some((kind, servers))
}

/// How to open `ports` in each layer of `fw` that closes some of them, in the
/// layer's own terms (a security group's ingress rule, an NSG rule, a GCP
/// firewall rule, the host firewall).
pub(crate) fn open_in_layers(
    fw: &crate::facts::Firewall,
    ports: &crate::portset::PortSet,
) -> String {
    let list = ports.summary(6);
    let each: Vec<String> = ports
        .ranges()
        .iter()
        .take(6)
        .map(|&(lo, hi)| {
            if lo == hi {
                format!("\"{lo}\"")
            } else {
                format!("\"{lo}-{hi}\"")
            }
        })
        .collect();
    let quoted = each.join(", ");
    let aws = match ports.ranges() {
        [(lo, hi)] => format!("from_port = {lo}, to_port = {hi}"),
        _ => "one per range, from_port to to_port".to_owned(),
    };
    let mut steps: Vec<String> = Vec::new();
    for layer in fw.own_layers().iter() {
        if ports.is_subset(&layer.open_to_all) {
            continue;
        }
        let step = match layer.kind {
            "aws-security-group" => format!(
                "add an ingress rule for {list}/tcp to the security group ({aws}, protocol = \"tcp\")"
            ),
            "azure-nsg" => format!(
                "allow {list}/tcp inbound in the network security group with a security_rule (destination_port_ranges = [{quoted}]) whose priority number is lower than any rule that denies them"
            ),
            "gcp-firewall" => format!(
                "allow {list}/tcp in a google_compute_firewall (ports = [{quoted}]) whose target_tags the instance carries, at a priority number lower than any deny"
            ),
            _ => format!("open {list}/tcp in the host firewall"),
        };
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    if steps.is_empty() {
        return format!("open {list}/tcp in the firewall");
    }
    steps.join("; and ")
}

/// The finding for a suppression that matched nothing or has expired.
pub fn suppression_finding(
    s: &crate::suppress::Suppression,
    why: &crate::suppress::Unused,
) -> Diagnostic {
    match why {
        crate::suppress::Unused::NoMatch => unused_suppression::finding(s),
        crate::suppress::Unused::Expired => expired_suppression::finding(s),
    }
}

/// The rule table of README.md, by category then name.
pub fn markdown_table() -> String {
    let mut metas: Vec<&RuleMeta> = catalog().iter().collect();
    metas.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
    let mut out =
        String::from("| rule | severity | category | what it reports |\n|---|---|---|---|\n");
    for m in metas {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.name,
            m.severity.as_str(),
            m.category,
            m.summary.replace('|', "\\|")
        ));
    }
    out
}

/// Findings the Windows parsers phrased where they found them, for the rule named.
pub(crate) fn report_windows_findings(rule: &str, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
    out.extend(
        crate::formats::windows_findings(file)
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.to_diagnostic()),
    );
}

/// The firewalls in front of a server's clients, per family it listens on, each
/// once (a filter of every family stands for both). A server whose families are
/// unknown (started from inetd, templated) is judged for IPv4.
pub(crate) fn families_to_check<'h>(
    host: &'h Host,
    server: &crate::facts::FtpServer,
) -> Vec<(crate::facts::Family, &'h crate::facts::Firewall)> {
    use crate::facts::{Families, Family};
    let wanted: &[Family] = match server.families.value {
        Some(Families::Ipv6) => &[Family::V6],
        Some(Families::Both) => &[Family::V4, Family::V6],
        _ => &[Family::V4],
    };
    let mut out: Vec<(Family, &crate::facts::Firewall)> = Vec::new();
    for &family in wanted {
        if let Some(fw) = host.firewall_for(family) {
            if !out.iter().any(|(_, seen)| std::ptr::eq(*seen, fw)) {
                out.push((family, fw));
            }
        }
    }
    out
}

/// Who a finding is about: " for IPv6 clients from 2001:db8::/32", " for clients
/// outside 10.0.0.0/8", or "" when it is every client of every family checked.
pub(crate) fn audience(
    family: Option<crate::facts::Family>,
    classes: &[&crate::facts::SourceClass],
    all_classes: usize,
) -> String {
    let sources = if classes.len() < all_classes {
        union_of_sources(classes).map(|s| crate::facts::describe_clients(Some(&s)))
    } else {
        None
    };
    let family = family.map(|f| match f {
        crate::facts::Family::V4 => "IPv4",
        crate::facts::Family::V6 => "IPv6",
    });
    match (family, sources) {
        (None, None) => String::new(),
        (Some(f), None) => format!(" for {f} clients"),
        (None, Some(s)) => format!(" for {s}"),
        (Some(f), Some(s)) => format!(" for {f} {s}"),
    }
}

/// Every client of `classes`; `None` when one of them names no addresses.
fn union_of_sources(classes: &[&crate::facts::SourceClass]) -> Option<crate::addrset::AddrSet> {
    let mut sources = classes.first()?.sources.clone()?;
    for class in &classes[1..] {
        sources = sources.union(class.sources.as_ref()?);
    }
    Some(sources)
}
