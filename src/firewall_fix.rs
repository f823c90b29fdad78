//! Firewall-side fixes for a port mismatch between an FTP server and its firewall:
//! one accept rule's port value rewritten, in the rule's own syntax, to open the
//! server's whole passive range ([`widen`]) or only the ports it uses ([`narrow`]).
//! Both are unsafe: a firewall may guard other services and other hosts.

use crate::diag::Fix;
use crate::facts::{Decision, Firewall, PortSyntax, PortText, Scope, SourceClass, Verdict};
use crate::portset::PortSet;
use crate::source::Span;

/// iptables' multiport match holds at most 15 slots; a range takes two.
const MULTIPORT_SLOTS: usize = 15;

/// The accept rule that opens the biggest part of `range` to `class`, rewritten
/// to open its own ports and `blocked` too, when nothing before it closes them.
pub fn widen(
    fw: &Firewall,
    class: &SourceClass,
    range: &PortSet,
    blocked: &PortSet,
) -> Option<Fix> {
    let mut openers: Vec<&Decision> = class
        .decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Accept && !d.is_policy && d.scope == Scope::All)
        .filter(|d| d.ports.intersects(range))
        .collect();
    // Biggest part of the range first; the first written on ties.
    openers.sort_by_key(|d| std::cmp::Reverse(d.ports.intersection(range).count()));
    openers.into_iter().find_map(|opener| {
        let span = opener.span?;
        if !closed_only_after(class, opener, span, blocked) {
            return None;
        }
        let ports = opener.rule_ports.union(blocked);
        let edits = rewrite(fw.port_text(span)?, &ports)?;
        Some(Fix {
            title: format!("open {} in the firewall rule", ports.summary(6)),
            edits,
            safe: false,
        })
    })
}

/// The accept rule `rule` rewritten to open only `keep`; `None` when nothing
/// would be left (deleting the rule is the fix then).
pub fn narrow(fw: &Firewall, rule: &Decision, keep: &PortSet) -> Option<Fix> {
    if keep.is_empty() || *keep == rule.rule_ports {
        return None;
    }
    let edits = rewrite(fw.port_text(rule.span?)?, keep)?;
    Some(Fix {
        title: format!("open only {} in the firewall rule", keep.summary(6)),
        edits,
        safe: false,
    })
}

/// Whether `ports` are closed only by what the opener's own ports got past (the
/// policy, or a catch-all drop of its file): a rule that drops those ports by
/// name is deliberate, and one in another layer is not the opener's to undo.
fn closed_only_after(class: &SourceClass, opener: &Decision, span: Span, ports: &PortSet) -> bool {
    class
        .decisions
        .iter()
        .filter(|d| d.verdict != Verdict::Accept && d.ports.intersects(ports))
        .all(|d| match d.span {
            None => d.is_policy,
            Some(s) => {
                s.file == span.file && (d.is_policy || opener.ports.is_subset(&d.rule_ports))
            }
        })
}

/// The edits that make `text` name exactly `ports`, when its syntax can.
fn rewrite(text: &PortText, ports: &PortSet) -> Option<Vec<(Span, String)>> {
    let one = match ports.ranges() {
        &[(lo, hi)] => Some((lo, hi)),
        _ => None,
    };
    let value = match text.syntax {
        PortSyntax::Iptables | PortSyntax::Colon => joined(&[one?], ":", ""),
        PortSyntax::Nft | PortSyntax::Dash => joined(&[one?], "-", ""),
        PortSyntax::Multiport => {
            let slots: usize = ports
                .ranges()
                .iter()
                .map(|(lo, hi)| 1 + (lo != hi) as usize)
                .sum();
            if slots > MULTIPORT_SLOTS {
                return None;
            }
            joined(ports.ranges(), ":", ",")
        }
        PortSyntax::NftSet => format!("{{ {} }}", joined(ports.ranges(), "-", ", ")),
        PortSyntax::DashList => joined(ports.ranges(), "-", ","),
        PortSyntax::Compose => {
            let both = joined(&[one?], "-", "");
            return Some(vec![(text.value, both.clone()), (text.second?, both)]);
        }
        PortSyntax::RegRule { ranges } => {
            if !ranges && ports.ranges().iter().any(|(lo, hi)| lo != hi) {
                return None;
            }
            let fields: Vec<String> = ports
                .ranges()
                .iter()
                .map(|&(lo, hi)| {
                    if lo == hi {
                        format!("LPort={lo}")
                    } else {
                        format!("LPort2_10={lo}-{hi}")
                    }
                })
                .collect();
            fields.join("|")
        }
        PortSyntax::HclList { indent, crlf } => {
            let sep = match indent {
                None => ", ".to_owned(),
                Some(n) => {
                    let end = if crlf { "\r\n" } else { "\n" };
                    format!(",{end}{}", " ".repeat(usize::from(n)))
                }
            };
            let each: Vec<String> = ports
                .ranges()
                .iter()
                .map(|&(lo, hi)| format!("\"{}\"", joined(&[(lo, hi)], "-", "")))
                .collect();
            each.join(&sep)
        }
        PortSyntax::FromTo => {
            let (lo, hi) = one?;
            return Some(vec![
                (text.value, lo.to_string()),
                (text.second?, hi.to_string()),
            ]);
        }
    };
    Some(vec![(text.value, value)])
}

/// `21,9981:9990`: each range as `lo{dash}hi` (a single port alone), joined by `sep`.
fn joined(ranges: &[(u16, u16)], dash: &str, sep: &str) -> String {
    let each: Vec<String> = ranges
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}{dash}{hi}")
            }
        })
        .collect();
    each.join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn text(syntax: PortSyntax) -> PortText {
        let span = Span::new(FileId(0), 0, 1);
        PortText {
            rule: span,
            syntax,
            value: span,
            second: Some(Span::new(FileId(0), 2, 3)),
            line: None,
        }
    }

    fn written(syntax: PortSyntax, ports: &str) -> Option<Vec<String>> {
        let ports = PortSet::parse(ports)?;
        rewrite(&text(syntax), &ports).map(|e| e.into_iter().map(|(_, t)| t).collect())
    }

    #[test]
    fn each_syntax_writes_its_own_form() {
        let one = |s: &str| Some(vec![s.to_owned()]);
        assert_eq!(written(PortSyntax::Iptables, "9981-9990"), one("9981:9990"));
        assert_eq!(written(PortSyntax::Iptables, "21"), one("21"));
        assert_eq!(written(PortSyntax::Iptables, "21,9981-9990"), None);
        assert_eq!(
            written(PortSyntax::Multiport, "21,9981-9990"),
            one("21,9981:9990")
        );
        assert_eq!(written(PortSyntax::Nft, "9981-9990"), one("9981-9990"));
        assert_eq!(
            written(PortSyntax::NftSet, "21,9981-9990"),
            one("{ 21, 9981-9990 }")
        );
        assert_eq!(
            written(PortSyntax::DashList, "21,9981-9990"),
            one("21,9981-9990")
        );
        assert_eq!(
            written(PortSyntax::FromTo, "9981-9990"),
            Some(vec!["9981".into(), "9990".into()])
        );
        assert_eq!(
            written(PortSyntax::Compose, "9981-9990"),
            Some(vec!["9981-9990".into(), "9981-9990".into()])
        );
    }

    #[test]
    fn rule_strings_and_hcl_lists_write_their_own_form() {
        let one = |s: &str| Some(vec![s.to_owned()]);
        let reg = PortSyntax::RegRule { ranges: true };
        assert_eq!(
            written(reg, "21,990,5000-5100"),
            one("LPort=21|LPort=990|LPort2_10=5000-5100")
        );
        let old = PortSyntax::RegRule { ranges: false };
        assert_eq!(written(old, "21,990"), one("LPort=21|LPort=990"));
        assert_eq!(
            written(old, "21,5000-5001"),
            None,
            "no LPort2_10 before v2.10"
        );
        let inline = PortSyntax::HclList {
            indent: None,
            crlf: false,
        };
        assert_eq!(
            written(inline, "21,5000-5100"),
            one("\"21\", \"5000-5100\"")
        );
        let lines = PortSyntax::HclList {
            indent: Some(6),
            crlf: true,
        };
        assert_eq!(
            written(lines, "21,5000-5100"),
            one("\"21\",\r\n      \"5000-5100\"")
        );
    }

    #[test]
    fn a_multiport_list_stays_within_fifteen_slots() {
        let eight_ranges = "1-2,4-5,7-8,10-11,13-14,16-17,19-20,22-23";
        assert_eq!(written(PortSyntax::Multiport, eight_ranges), None);
        let seven_and_one = "1-2,4-5,7-8,10-11,13-14,16-17,19-20,22";
        assert!(written(PortSyntax::Multiport, seven_and_one).is_some());
    }
}
