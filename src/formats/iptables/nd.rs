//! The rule that lets ICMPv6 neighbour discovery through where an IPv6 ruleset
//! drops it ([`crate::filter::nd`]), written as the file writes its rules.

use super::Format;
use crate::facts::NdBlocked;
use crate::source::SourceFile;

/// Fills in the accept line and, where the dropping rule is a `-A` of the base
/// chain itself in this file, the edit that inserts the line right before it.
pub fn phrase(mut nd: NdBlocked, format: Format, source: &SourceFile) -> NdBlocked {
    let (table, chain) = nd
        .chain
        .split_once(' ')
        .unwrap_or(("filter", nd.chain.as_str()));
    let rule = format!("-A {chain} -p ipv6-icmp -j ACCEPT");
    let table_opt = if table == "filter" {
        String::new()
    } else {
        format!("-t {table} ")
    };
    nd.accept_line = match format {
        Format::ShellScript => format!("ip6tables {table_opt}{rule}"),
        _ => rule.clone(),
    };
    if let Some((at, line)) = (!nd.policy)
        .then(|| before(&nd, source, chain, &rule))
        .flatten()
    {
        nd.accept_line = line.trim_start().trim_end_matches(['\r', '\n']).to_owned();
        nd.insert = Some((source.span(at, at), line));
    }
    nd
}

/// Where the dropping rule's line starts, and the accept line with the same
/// command words and indentation before `-A CHAIN`.
fn before(nd: &NdBlocked, source: &SourceFile, chain: &str, rule: &str) -> Option<(usize, String)> {
    if nd.by.file != source.id {
        return None;
    }
    let text = source.text.as_str();
    let (start, end) = (nd.by.start as usize, nd.by.end as usize);
    let written = text.get(start..end)?;
    let append = format!("-A {chain} ");
    let at = written
        .find(&append)
        .filter(|&i| i == 0 || written[..i].ends_with([' ', '\t']))?;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let lead = text.get(line_start..start + at)?;
    if !plain_command(lead) {
        return None;
    }
    let eol = if text[start..]
        .lines()
        .next()
        .is_some_and(|l| l.ends_with('\r'))
    {
        "\r\n"
    } else {
        "\n"
    };
    Some((line_start, format!("{lead}{rule}{eol}")))
}

/// The words before `-A` are the command alone (indentation, a program path or
/// variable, counters), not a loop or list a copy of the line would repeat.
fn plain_command(lead: &str) -> bool {
    let keyword = |w: &str| matches!(w, "do" | "then" | "else" | "if" | "while" | "until" | "!");
    !lead.contains(['\n', ';', '&', '|', '(', ')', '{', '}', '`'])
        && !lead.split_whitespace().any(keyword)
}

#[cfg(test)]
mod tests {
    use crate::facts::NdPacket;
    use crate::formats::iptables::{facts, parse_save};
    use crate::source::{FileId, SourceFile};

    /// The packet a `rules.v6` drops for every neighbour, with the line's text.
    fn blocked(body: &str) -> Option<(NdPacket, String)> {
        let text = format!("{body}COMMIT\n");
        let src = SourceFile::new(FileId(0), "rules.v6", text.as_bytes());
        let (_, v6) = facts(&parse_save(&src), &src);
        let nd = v6?.nd_blocked?;
        let line = src.text[nd.by.start as usize..nd.by.end as usize].to_owned();
        Some((nd.packet, line))
    }

    const FILTER: &str =
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
    const FTP: &str = "-A INPUT -p tcp --dport 21 -j ACCEPT\n";
    const REJECT: &str = "-A INPUT -j REJECT --reject-with icmp6-port-unreachable\n";

    /// The cases measured with ip6tables-restore in a namespace pair (rules/ip6tables-icmpv6-dropped.toml);
    /// `135/1` misses solicitations, whose code is always 0 (RFC 4861 7.1.1).
    #[test]
    fn solicitations_blocked_as_measured() {
        let reject = |accepts: &str| blocked(&format!("{FILTER}{accepts}{FTP}{REJECT}"));
        let dropped = Some((NdPacket::SolicitIn, REJECT.trim_end().to_owned()));
        for accepts in [
            "-A INPUT -p icmp -j ACCEPT\n",
            "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n",
            "-A INPUT -m state --state NEW -j ACCEPT\n",
            "-A INPUT -i lo -j ACCEPT\n",
            "-A INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT\n",
            "-A INPUT -p ipv6-icmp --icmpv6-type router-advertisement -j ACCEPT\n",
            "-A INPUT -p ipv6-icmp --icmpv6-type 135/1 -j ACCEPT\n",
        ] {
            assert_eq!(reject(accepts), dropped, "{accepts}");
        }
        for accepts in [
            "-A INPUT -p ipv6-icmp -j ACCEPT\n",
            "-A INPUT -p icmpv6 -j ACCEPT\n",
            "-A INPUT -p 58 -j ACCEPT\n",
            "-A INPUT -p all -j ACCEPT\n",
            "-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT\n",
            "-A INPUT -p ipv6-icmp ! --icmpv6-type echo-request -j ACCEPT\n",
            "-A INPUT -p ipv6-icmp --icmpv6-type NEIGHBOUR-SOL -j ACCEPT\n-A INPUT -p ipv6-icmp --icmpv6-type 136/0 -j ACCEPT\n",
        ] {
            assert_eq!(reject(accepts), None, "{accepts}");
        }
    }

    #[test]
    fn accepts_that_hold_for_some_leave_it_open() {
        for accepts in [
            "-A INPUT -p ipv6-icmp -m limit --limit 1/sec -j ACCEPT\n",
            "-A INPUT -i eth0 -p ipv6-icmp -j ACCEPT\n",
            "-A INPUT -s fe80::/10 -p ipv6-icmp -j ACCEPT\n",
            "-A INPUT -s 2001:db8::/32 -p ipv6-icmp -j ACCEPT\n",
        ] {
            assert_eq!(
                blocked(&format!("{FILTER}{accepts}{FTP}{REJECT}")),
                None,
                "{accepts}"
            );
        }
    }

    #[test]
    fn user_chains_policies_and_other_tables() {
        let chain = ":ICMP6 - [0:0]\n-A INPUT -p ipv6-icmp -j ICMP6\n-A ICMP6 -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT\n";
        assert_eq!(
            blocked(&format!("{FILTER}{chain}-A ICMP6 -j RETURN\n{REJECT}")).map(|b| b.0),
            Some(NdPacket::SolicitIn)
        );
        assert_eq!(
            blocked(&format!("{FILTER}{chain}-A ICMP6 -j ACCEPT\n{REJECT}")),
            None
        );
        let goto = ":ICMP6 - [0:0]\n-A INPUT -p ipv6-icmp -g ICMP6\n-A ICMP6 -j ACCEPT\n";
        assert_eq!(blocked(&format!("{FILTER}{goto}{REJECT}")), None);
        let policy = FILTER.replace(":INPUT ACCEPT", ":INPUT DROP");
        assert_eq!(
            blocked(&format!("{policy}{FTP}")),
            Some((NdPacket::SolicitIn, ":INPUT DROP [0:0]".to_owned()))
        );
        let raw = "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p ipv6-icmp -j DROP\nCOMMIT\n";
        assert_eq!(
            blocked(&format!("{raw}{FILTER}-A INPUT -p ipv6-icmp -j ACCEPT\n")).map(|b| b.0),
            Some(NdPacket::SolicitIn)
        );
    }

    #[test]
    fn both_kinds_both_ways() {
        let only = |t: &str| {
            format!("{FILTER}-A INPUT -p ipv6-icmp --icmpv6-type {t} -j ACCEPT\n{REJECT}")
        };
        assert_eq!(blocked(&only("135")).map(|b| b.0), Some(NdPacket::AdvertIn));
        let out = FILTER.replace(":OUTPUT ACCEPT", ":OUTPUT DROP");
        let est = "-A OUTPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n";
        assert_eq!(
            blocked(&format!("{out}{est}")).map(|b| b.0),
            Some(NdPacket::AdvertOut)
        );
        let adverts = "-A OUTPUT -p ipv6-icmp --icmpv6-type neighbor-advertisement -j ACCEPT\n";
        assert_eq!(
            blocked(&format!("{out}{est}{adverts}")).map(|b| b.0),
            Some(NdPacket::SolicitOut)
        );
        assert_eq!(
            blocked(&format!("{out}{est}-A OUTPUT -p ipv6-icmp -j ACCEPT\n")),
            None
        );
    }
}
