//! The filter model's evaluator, driven through iptables-save text: every measured
//! example of domain.md "iptables" §2, with its exact open set.

use crate::facts::Firewall;
use crate::formats::iptables::{facts, parse_save};
use crate::portset::PortSet;
use crate::source::{FileId, SourceFile};

fn firewall(text: &str) -> Firewall {
    let src = SourceFile::new(FileId(0), "rules.v4", text.as_bytes());
    let rs = parse_save(&src);
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    facts(&rs, &src).0.expect("IPv4 facts")
}

/// A filter table with `policy` on INPUT and these rules.
fn filter(policy: &str, rules: &str) -> String {
    format!(
        "*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{rules}COMMIT\n"
    )
}

fn open_in(fw: &Firewall, lo: u16, hi: u16) -> String {
    fw.open_to_all
        .intersection(&PortSet::range(lo, hi))
        .to_string()
}

fn some_in(fw: &Firewall, lo: u16, hi: u16) -> String {
    fw.open_to_some
        .intersection(&PortSet::range(lo, hi))
        .to_string()
}

#[test]
fn restrictive_output_closes_the_reply() {
    let fw = firewall(
        "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -p tcp --sport 1800 -j ACCEPT\nCOMMIT\n",
    );
    assert_eq!(fw.open_to_all.to_string(), "1800");
    assert!(fw.open_to_some.is_empty());
    let p22 = PortSet::single(22);
    let closer = fw.blockers(&p22).next().expect("OUTPUT policy");
    assert!(closer.is_policy);
}

#[test]
fn return_in_a_builtin_chain_applies_the_policy() {
    let fw = firewall(&filter(
        "ACCEPT",
        "-A INPUT -p tcp --dport 5 -j RETURN\n-A INPUT -p tcp --dport 1:10 -j DROP\n",
    ));
    assert_eq!(open_in(&fw, 1, 12), "5,11-12");
}

#[test]
fn jump_return_and_implicit_return() {
    let fw = firewall(&filter(
        "DROP",
        ":A - [0:0]\n-A INPUT -p tcp -j A\n-A INPUT -p tcp --dport 100:199 -j ACCEPT\n\
         -A A -p tcp --dport 150 -j RETURN\n-A A -p tcp --dport 100:120 -j ACCEPT\n\
         -A A -p tcp --dport 130 -j DROP\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "100-129,131-199");
}

#[test]
fn goto_returns_to_the_callers_caller() {
    let chains = |how: &str| {
        filter(
            "DROP",
            &format!(
                ":A - [0:0]\n:B - [0:0]\n-A INPUT -p tcp -j A\n-A INPUT -p tcp --dport 200:299 -j ACCEPT\n\
                 -A A -p tcp --dport 250:299 {how} B\n-A A -p tcp --dport 250:299 -j DROP\n\
                 -A A -p tcp --dport 300 -j ACCEPT\n-A B -p tcp --dport 260 -j ACCEPT\n\
                 -A B -p tcp --dport 270 -j RETURN\n-A B -p tcp --dport 280 -j DROP\n"
            ),
        )
    };
    assert_eq!(
        firewall(&chains("-g")).open_to_all.to_string(),
        "200-279,281-300"
    );
    assert_eq!(
        firewall(&chains("-j")).open_to_all.to_string(),
        "200-249,260,300"
    );
}

#[test]
fn a_conditional_drop_in_a_callee_leaves_the_port_to_others() {
    let fw = firewall(&filter(
        "DROP",
        ":BANS - [0:0]\n-A INPUT -p tcp -j BANS\n\
         -A INPUT -s 192.168.0.0/16 -p tcp --dport 7 -j ACCEPT\n-A INPUT -p tcp --dport 8 -j ACCEPT\n\
         -A BANS -s 10.0.0.0/8 -p tcp --dport 7:8 -j DROP\n-A BANS -j RETURN\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "8");
    assert_eq!(fw.open_to_some.to_string(), "7");
}

#[test]
fn goto_from_a_builtin_chain_ends_in_its_policy() {
    let fw = firewall(&filter(
        "ACCEPT",
        ":C - [0:0]\n-A INPUT -p tcp --dport 400:499 -g C\n-A INPUT -p tcp --dport 1:2000 -j DROP\n\
         -A C -p tcp --dport 450 -j DROP\n",
    ));
    assert_eq!(open_in(&fw, 1, 2000), "400-449,451-499");
}

#[test]
fn non_terminating_targets_fall_through() {
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -p tcp --dport 500 -j LOG\n-A INPUT -p tcp --dport 501\n\
         -A INPUT -p tcp --dport 502 -j MARK --set-mark 1\n\
         -A INPUT -p tcp --dport 503 -j CONNMARK --set-mark 1\n\
         -A INPUT -p tcp --dport 504 -j NFLOG\n-A INPUT -p tcp --dport 500:505 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "500-505");
}

#[test]
fn a_new_syn_is_in_state_new() {
    let one = |rule: &str| {
        let fw = firewall(&filter(
            "DROP",
            &format!(
                "{rule}\n-A INPUT -p tcp --dport 9 -j ACCEPT\n\
                 -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
            ),
        ));
        open_in(&fw, 1, 8)
    };
    assert_eq!(
        one("-A INPUT -p tcp --dport 1 -m state --state NEW -j ACCEPT"),
        "1"
    );
    for st in [
        "ESTABLISHED",
        "RELATED",
        "INVALID",
        "UNTRACKED",
        "ESTABLISHED,RELATED",
    ] {
        assert_eq!(
            one(&format!(
                "-A INPUT -p tcp --dport 1 -m conntrack --ctstate {st} -j ACCEPT"
            )),
            "",
            "{st}"
        );
    }
    assert_eq!(
        one("-A INPUT -p tcp --dport 1 -m conntrack ! --ctstate ESTABLISHED -j ACCEPT"),
        "1"
    );
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -m conntrack --ctstate INVALID -j DROP\n-A INPUT -p tcp --dport 7 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "7");
}

/// Measured (tests/oracle_iptables.rs): the SYN gets in, the client's ACK and
/// every byte after it do not.
#[test]
fn an_accept_for_the_syn_alone_opens_nothing() {
    for m in [
        "-m state --state NEW",
        "-m conntrack --ctstate NEW,RELATED",
        "--syn",
        "--tcp-flags SYN,ACK SYN",
    ] {
        let fw = firewall(&filter(
            "DROP",
            &format!("-A INPUT -p tcp {m} --dport 1700 -j ACCEPT\n"),
        ));
        assert!(fw.open_to_all.is_empty(), "{m}");
        let port = PortSet::single(1700);
        let later = fw
            .blockers(&port)
            .find(|d| d.later_packets)
            .expect("the policy drops the later packets");
        assert!(later.is_policy, "{m}");
    }
}

#[test]
fn syn_only_rules_open_the_port() {
    for m in ["--syn", "--tcp-flags SYN,ACK SYN", "--tcp-flags ALL SYN"] {
        let fw = firewall(&filter(
            "DROP",
            &format!(
                "-A INPUT -p tcp {m} --dport 1700 -j ACCEPT\n\
                 -A INPUT -m state --state ESTABLISHED -j ACCEPT\n"
            ),
        ));
        assert_eq!(fw.open_to_all.to_string(), "1700", "{m}");
    }
    for m in ["! --syn", "--tcp-flags ACK ACK"] {
        let fw = firewall(&filter(
            "DROP",
            &format!("-A INPUT -p tcp {m} --dport 1700 -j ACCEPT\n"),
        ));
        assert!(
            fw.open_to_all.is_empty() && fw.open_to_some.is_empty(),
            "{m}"
        );
    }
}

#[test]
fn protocol_matters() {
    let fw = firewall(&filter("DROP", "-A INPUT -p udp --dport 700 -j ACCEPT\n"));
    assert!(fw.open_to_all.is_empty() && fw.open_to_some.is_empty());
    for p in ["6", "TCP", "tcp"] {
        let fw = firewall(&filter(
            "DROP",
            &format!("-A INPUT -p {p} --dport 700 -j ACCEPT\n"),
        ));
        assert_eq!(fw.open_to_all.to_string(), "700", "{p}");
    }
    let fw = firewall(&filter("DROP", "-A INPUT -p all -s 198.18.0.2 -j ACCEPT\n"));
    assert!(fw.open_to_all.is_empty());
    assert_eq!(some_in(&fw, 1, 12000), "1-12000");
    let fw = firewall(&filter("DROP", "-A INPUT -i eth0 -j ACCEPT\n"));
    assert_eq!(fw.open_to_some.to_string(), "1-65535");
}

#[test]
fn ports_sports_and_repeated_matches() {
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -p tcp --sport 1024:65535 --dport 840 -j ACCEPT\n\
         -A INPUT -p tcp --sport 1:1023 --dport 841 -j ACCEPT\n\
         -A INPUT -p tcp -m tcp --dport 10:20 -m tcp --dport 15:30 -j ACCEPT\n\
         -A INPUT -p tcp ! --dport 1:799 -m tcp --dport 0:810 -j ACCEPT\n\
         -A INPUT -p tcp --dport 0x16 -j ACCEPT\n-A INPUT -p tcp --dport 022 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "15-20,22,800-810,840");
}

#[test]
fn multiport_lists_and_negation() {
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -p tcp -m multiport --dports 900,905:907,910 -j ACCEPT\n\
         -A INPUT -p tcp -m multiport ! --dports 1:939,941:65535 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "900,905-907,910,940");
    let p905 = PortSet::single(905);
    let d = fw.openers(&p905).next().expect("opener");
    assert_eq!(d.rule_ports.to_string(), "900,905-907,910");
}

#[test]
fn interfaces_and_addresses() {
    let one = |rule: &str| {
        let fw = firewall(&filter(
            "DROP",
            &format!("-A INPUT -p tcp --dport 5 {rule} -j ACCEPT\n"),
        ));
        (open_in(&fw, 1, 10), some_in(&fw, 1, 10))
    };
    let all = ("5".to_string(), String::new());
    let some = (String::new(), "5".to_string());
    let none = (String::new(), String::new());
    assert_eq!(one("-i lo"), none);
    assert_eq!(one("! -i lo"), all);
    // The one interface the rules name is the one the clients arrive on.
    assert_eq!(one("-i eth0"), all);
    assert_eq!(one("-i eth+"), all);
    assert_eq!(one("! -i eth0"), none);
    // A bridge or tunnel is not where the public arrives.
    assert_eq!(one("-i docker0"), some);
    assert_eq!(one("-i wg0"), some);
    assert_eq!(one("-s 198.18.0.2"), some);
    assert_eq!(one("-s 198.18.0.0/255.255.255.0"), some);
    // Clients from 10.0.0.0/8 are a class of their own, which port 5 is closed to.
    assert_eq!(one("! -s 10.0.0.0/8"), some);
    assert_eq!(one("-d 127.0.0.1"), none);
    assert_eq!(one("-d 198.18.0.1"), some);
    assert_eq!(one("-m iprange --src-range 198.18.0.1-198.18.0.10"), some);
    assert_eq!(one("-m addrtype --dst-type LOCAL"), all);
}

#[test]
fn rate_and_connection_limits_are_maybe_matches() {
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -p tcp --dport 1200:1299 -m limit --limit 1/hour --limit-burst 5 -j ACCEPT\n\
         -A INPUT -p tcp --dport 1500:1599 -m connlimit --connlimit-above 2 -j REJECT\n\
         -A INPUT -p tcp --dport 1500:1599 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "1500-1599");
    assert_eq!(fw.open_to_some.to_string(), "1200-1299");
}

#[test]
fn raw_and_mangle_drops_close_ports() {
    let fw = firewall(&format!(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1200 -j DROP\nCOMMIT\n\
         *mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n\
         -A PREROUTING -p tcp --dport 1201 -j DROP\n-A INPUT -p tcp --dport 1202 -j DROP\nCOMMIT\n{}",
        filter("DROP", "-A INPUT -p tcp --dport 1200:1203 -j ACCEPT\n")
    ));
    assert_eq!(fw.open_to_all.to_string(), "1203");
    assert_eq!(fw.blockers(&PortSet::single(1200)).count(), 1);
}

#[test]
fn notrack_makes_the_state_untracked() {
    let text = |state: &str| {
        format!(
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1300 -j NOTRACK\n\
             -A PREROUTING -p tcp --dport 1301 -j CT --notrack\nCOMMIT\n{}",
            filter(
                "DROP",
                &format!("-A INPUT -p tcp --dport 1300:1302 {state} -j ACCEPT\n")
            )
        )
    };
    assert_eq!(firewall(&text("")).open_to_all.to_string(), "1300-1302");
    // The untracked ports' SYNs are UNTRACKED, not NEW; 1302's later packets are
    // ESTABLISHED, which nothing accepts.
    assert_eq!(
        firewall(&text("-m conntrack --ctstate NEW"))
            .open_to_all
            .to_string(),
        ""
    );
    assert_eq!(
        firewall(&text("-m conntrack --ctstate NEW,ESTABLISHED"))
            .open_to_all
            .to_string(),
        "1302"
    );
    // The later packets of an untracked connection are UNTRACKED too.
    assert_eq!(
        firewall(&text("-m conntrack --ctstate UNTRACKED"))
            .open_to_all
            .to_string(),
        "1300-1301"
    );
}

#[test]
fn a_mangle_mark_feeds_a_filter_mark_match() {
    let fw = firewall(&format!(
        "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1400 -j MARK --set-mark 7\nCOMMIT\n{}",
        filter(
            "DROP",
            "-A INPUT -p tcp --dport 1400:1401 -m mark --mark 7 -j ACCEPT\n"
        )
    ));
    assert_eq!(fw.open_to_all.to_string(), "1400");
}

#[test]
fn nat_prerouting_maps_the_port_input_sees() {
    let fw = firewall(&format!(
        "*nat\n:PREROUTING ACCEPT [0:0]\n\
         -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\n\
         -A PREROUTING -p tcp --dport 8443 -j DNAT --to-destination 198.18.0.1:443\n\
         -A PREROUTING -p tcp --dport 3000:3009 -j REDIRECT --to-ports 3100\n\
         -A PREROUTING -p tcp --dport 2222 -j REDIRECT --to-ports 22\n\
         -A PREROUTING -p tcp --dport 5000 -j DNAT --to-destination 10.9.9.9\nCOMMIT\n{}",
        filter(
            "DROP",
            "-A INPUT -p tcp -m multiport --dports 80,443,3100 -j ACCEPT\n\
             -A INPUT -p tcp --dport 2222 -j ACCEPT\n-A INPUT -p tcp --dport 5000:6000 -j ACCEPT\n\
             -A INPUT -p tcp --dport 7000 -m conntrack --ctstate DNAT -j ACCEPT\n"
        )
    ));
    // Measured open: 80, 443, 3100, 5001-6000, 8080, 3000-3009, 8443; closed: 2222, 5000, 7000.
    // 8443 is DNAT to an address pasvlint cannot place on this host: it counts as forwarded
    // and the uncertainty is recorded.
    assert_eq!(
        fw.open_to_all.to_string(),
        "80,443,3000-3009,3100,5001-6000,8080"
    );
    assert!(fw.uncertain.iter().any(|u| u.what.contains("198.18.0.1")));
    assert!(!fw.open_to_any().contains(2222) && !fw.open_to_any().contains(5000));
    assert!(!fw.open_to_all.contains(7000));
}

#[test]
fn dnats_to_unknown_addresses_are_one_uncertainty_per_target_port() {
    // kube-proxy's shape: a service picks one of its endpoints, each DNATing to a pod.
    let fw = firewall(&format!(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:SVC - [0:0]\n:SEP1 - [0:0]\n:SEP2 - [0:0]\n:SEP3 - [0:0]\n\
         -A PREROUTING -d 10.96.0.1/32 -p tcp --dport 80 -j SVC\n\
         -A SVC -m statistic --mode random --probability 0.33 -j SEP1\n\
         -A SVC -m statistic --mode random --probability 0.5 -j SEP2\n\
         -A SVC -j SEP3\n\
         -A SEP1 -p tcp -j DNAT --to-destination 10.128.0.1:8080\n\
         -A SEP2 -p tcp -j DNAT --to-destination 10.128.0.2:8080\n\
         -A SEP3 -p tcp -j DNAT --to-destination 10.128.0.3:9090\nCOMMIT\n{}",
        filter("DROP", "-A INPUT -p tcp --dport 80 -j ACCEPT\n")
    ));
    let dnat: Vec<&str> = fw
        .uncertain
        .iter()
        .map(|u| u.what.as_str())
        .filter(|w| w.starts_with("DNAT to"))
        .collect();
    assert_eq!(dnat.len(), 2, "{dnat:?}");
    let has = |start: &str| dnat.iter().any(|w| w.starts_with(start));
    assert!(has(
        "DNAT to 10.128.0.1:8080, and 1 more DNAT rules to port 8080"
    ));
    assert!(has(
        "DNAT to 10.128.0.3:9090: whether 10.128.0.3 is this host"
    ));
}

#[test]
fn ctstate_dnat_holds_exactly_for_connections_nat_rewrote() {
    let fw = firewall(&format!(
        "*nat\n:PREROUTING ACCEPT [0:0]\n\
         -A PREROUTING -p tcp --dport 21 -j REDIRECT --to-ports 2121\n\
         -A PREROUTING -p tcp --dport 7000 -j REDIRECT --to-ports 7001\n\
         -A PREROUTING -p tcp --dport 7500 -j REDIRECT --to-ports 7500\n\
         -A PREROUTING -p tcp --dport 8000:8010 -j REDIRECT --to-ports 8000-8010\nCOMMIT\n{}",
        filter(
            "DROP",
            "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A INPUT -m conntrack --ctstate DNAT -j ACCEPT\n\
             -A INPUT -p tcp --dport 7001 -m conntrack ! --ctstate DNAT -j ACCEPT\n"
        )
    ));
    // Measured (iptables-restore 1.8.9, netns probe): 21, 7000 and 7001 connect; 2121 does
    // not, nor 7500 or 8000-8010: nat keeps a port already in its range, and a SYN it
    // changed nothing of is not in state DNAT.
    assert_eq!(fw.open_to_all.to_string(), "21,7000-7001");
    assert!(fw.open_to_some.is_empty(), "{}", fw.open_to_some);
}

#[test]
fn both_rulesets_must_accept() {
    let nft = firewall(&filter("ACCEPT", "-A INPUT -p tcp --dport 5 -j DROP\n"));
    let legacy = firewall(&filter(
        "ACCEPT",
        "-A INPUT -p tcp --dport 6 -j DROP\n-A INPUT -p tcp --dport 7 -j ACCEPT\n",
    ));
    let both = Firewall::combine(vec![nft, legacy]).expect("two");
    assert_eq!(
        both.open_to_all
            .intersection(&PortSet::range(1, 10))
            .to_string(),
        "1-4,7-10"
    );
    let nft = firewall(&filter("DROP", "-A INPUT -p tcp --dport 7 -j ACCEPT\n"));
    let legacy = firewall(&filter(
        "ACCEPT",
        "-A INPUT -p tcp --dport 6 -j DROP\n-A INPUT -p tcp --dport 7 -j ACCEPT\n",
    ));
    let both = Firewall::combine(vec![nft, legacy]).expect("two");
    assert_eq!(both.open_to_all.to_string(), "7");
}

#[test]
fn ftp_helper_and_related_accepts() {
    let fw = firewall(&format!(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n{}",
        filter(
            "DROP",
            "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -p tcp --dport 21 -j ACCEPT\n"
        )
    ));
    assert_eq!(fw.open_to_all.to_string(), "21");
    assert_eq!(fw.ftp_helpers.len(), 1);
    assert_eq!(fw.ftp_helpers[0].ports.to_string(), "21");
    assert!(fw.admits_related && fw.helper_admits_data(21));
    assert_eq!(fw.related_accepts.len(), 1);
    let fw = firewall(&filter("DROP", "-A INPUT -p tcp --dport 21 -j ACCEPT\n"));
    assert!(!fw.admits_related);
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT\n",
    ));
    assert!(fw.admits_related);
}

/// raw runs before nat: a helper there sees the port the client connected to,
/// which a REDIRECT then moves to the server's (measured: with vsftpd on 2121
/// behind `--dport 21 -j REDIRECT --to-ports 2121`, the helper on 21 admits
/// passive data, the helper on 2121 does not).
#[test]
fn a_helper_before_nat_follows_the_redirect() {
    let rules = |helper_port: u16| {
        firewall(&format!(
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport {helper_port} -j CT --helper ftp\nCOMMIT\n\
             *nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j REDIRECT --to-ports 2121\nCOMMIT\n{}",
            filter(
                "DROP",
                "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -p tcp --dport 2121 -j ACCEPT\n"
            )
        ))
    };
    let fw = rules(21);
    let helper = &fw.ftp_helpers[0];
    assert_eq!(
        (helper.ports.to_string(), helper.serves.to_string()),
        ("21".into(), "2121".into())
    );
    assert!(helper.via.is_some() && fw.helper_admits_data(2121));
    assert_eq!(
        fw.redirected_to(2121).map(|r| r.from.to_string()),
        Some("21".into())
    );
    let fw = rules(2121);
    assert_eq!(
        fw.ftp_helpers[0].serves.to_string(),
        "2121",
        "clients that connect to 2121 itself"
    );
    assert!(fw.ftp_helpers[0].via.is_none());
}

#[test]
fn fragmented_chains_stay_linear() {
    // 30,000 single-port accepts fragment the undecided set into 30,000 pieces.
    let rules: String = (1..=30000u32)
        .map(|p| format!("-A INPUT -p tcp --dport {} -j ACCEPT\n", p * 2))
        .collect();
    // A guard against the quadratic blow-up this once was (minutes of CPU), not a
    // speed measurement (benches/ does that): CPU time, so a loaded machine's
    // neighbours do not count, with a bound far above a linear run.
    let started = cpu_time();
    let fw = firewall(&filter("DROP", &rules));
    assert_eq!(fw.open_to_all.ranges().len(), 30000);
    let spent = cpu_time().saturating_sub(started);
    assert!(spent.as_secs() < 60, "{spent:?} of CPU for 30,000 rules");
}

/// CPU time of this thread (user + system), from /proc: the machine is shared,
/// so wall-clock time would measure the neighbours.
fn cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    std::time::Duration::from_millis(ticks * 10)
}

/// `PASVLINT_BENCH=FILE cargo test --release --lib bench_parse_and_facts -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_parse_and_facts() {
    let Ok(path) = std::env::var("PASVLINT_BENCH") else {
        return;
    };
    let bytes = std::fs::read(&path).expect("bench file");
    let t0 = cpu_time();
    let src = SourceFile::new(FileId(0), &path, &bytes);
    let t1 = cpu_time();
    let rs = parse_save(&src);
    let t2 = cpu_time();
    let fw = facts(&rs, &src).0.expect("facts");
    let t3 = cpu_time();
    let shadowed = crate::formats::iptables::shadowed_rules(&rs).len();
    let t4 = cpu_time();
    eprintln!(
        "CPU: decode {:?}, parse {:?}, facts {:?}, shadowed rules {:?} ({shadowed}); total parse+facts {:?}; open {}",
        t1 - t0,
        t2 - t1,
        t3 - t2,
        t4 - t3,
        t3 - t1,
        fw.open_to_all
    );
}

#[test]
fn the_clients_interface_is_the_one_the_rules_decide_on() {
    let ports = |rules: &str| {
        let fw = firewall(&filter("DROP", rules));
        (open_in(&fw, 1, 10), some_in(&fw, 1, 10))
    };
    let on = |s: &str| (s.to_string(), String::new());
    let some = |s: &str| (String::new(), s.to_string());
    // Trusted wholesale, eth1 is the LAN: the public comes in by eth0.
    let lan = "-A INPUT -i eth1 -j ACCEPT\n";
    assert_eq!(
        ports(&format!(
            "{lan}-A INPUT -i eth0 -p tcp --dport 5 -j ACCEPT\n"
        )),
        on("5")
    );
    // Only the LAN is named: which interface the public uses is not known.
    assert_eq!(ports(lan), some("1-10"));
    // Two interfaces that both decide: either may be the clients'.
    assert_eq!(
        ports(
            "-A INPUT -i eth0 -p tcp --dport 5 -j ACCEPT\n-A INPUT -i eth1 -p tcp --dport 6 -j ACCEPT\n"
        ),
        some("5-6")
    );
    // FORWARD and POSTROUTING name the router's other side without deciding on it.
    assert_eq!(
        ports(
            "-A FORWARD -i eth1 -o eth0 -j ACCEPT\n-A INPUT -i eth0 -p tcp --dport 5 -j ACCEPT\n"
        ),
        on("5")
    );
    // A drop on the uplink closes to everyone.
    let fw = firewall(&filter(
        "ACCEPT",
        "-A INPUT -i eno1 -p tcp --dport 80 -j ACCEPT\n-A INPUT -i eno1 -j DROP\n",
    ));
    assert_eq!(open_in(&fw, 1, 100), "80");
    assert_eq!(some_in(&fw, 1, 100), "");
}

#[test]
fn rules_stay_small() {
    // 76: a state match carries how it judges a SYN nat rewrote (`--ctstate DNAT`);
    // 80: and the interfaces, judged once the ruleset is whole; 84: three more kinds
    // of packet (a connection's later packets, the data connection the FTP helper
    // expects in active mode).
    assert!(std::mem::size_of::<crate::formats::iptables::Rule>() <= 84);
}

#[test]
fn wide_open_is_1_to_65535_and_policy_is_a_decision() {
    let fw = firewall("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
    assert_eq!(fw.open_to_all.to_string(), "1-65535");
    let fw = firewall(&filter("DROP", "-A INPUT -p tcp --dport 22 -j ACCEPT\n"));
    assert_eq!(fw.default_policy.value, crate::facts::DefaultPolicy::Drop);
    assert!(fw.default_policy.span.is_some());
    let policy = fw.decisions.iter().find(|d| d.is_policy).expect("policy");
    assert_eq!(policy.ports.to_string(), "0-21,23-65535");
    let rule = fw.decisions.iter().find(|d| !d.is_policy).expect("rule");
    assert_eq!(rule.ports.to_string(), "22");
}

#[test]
fn sources_split_into_classes_each_with_what_it_reaches() {
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -s 198.51.100.0/24 -p tcp --dport 21 -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -p tcp --dport 9981:9986 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "");
    assert_eq!(fw.open_to_some.to_string(), "21,9981-9986");
    let by: Vec<(String, String)> = fw
        .classes
        .iter()
        .map(|c| {
            let sources = c.sources.as_ref().expect("addresses").to_string();
            (sources, c.open.to_string())
        })
        .collect();
    assert!(
        by.contains(&("198.51.100.0/24".into(), "21".into())),
        "{by:?}"
    );
    assert!(
        by.contains(&("10.0.0.0/8".into(), "9981-9986".into())),
        "{by:?}"
    );
    assert_eq!(by.len(), 3, "{by:?}");
}

#[test]
fn a_ban_list_closes_nothing_to_the_public() {
    let fw = firewall(&filter(
        "DROP",
        "-A INPUT -s 203.0.113.7 -j DROP\n-A INPUT -p tcp --dport 21 -j ACCEPT\n",
    ));
    assert_eq!(fw.open_to_all.to_string(), "21");
    assert_eq!(fw.classes.len(), 1);
}

#[test]
fn a_ban_through_a_drop_only_chain_is_a_ban() {
    // `-s BANNED -j LOGDROP` is `-s BANNED -j DROP` with a log line: both leave the
    // public one class, with the same ports open.
    let rules = "-A INPUT -s 203.0.113.7 -p tcp --dport 40000:40100 -j {T}\n\
        -A INPUT -p tcp --dport 21 -j ACCEPT\n-A INPUT -p tcp --dport 40000:40100 -j ACCEPT\n\
        -A LOGDROP -j LOG\n-A LOGDROP -j DROP\n";
    let dump = |target: &str| {
        filter("DROP", &rules.replace("{T}", target)).replace(
            ":OUTPUT ACCEPT [0:0]\n",
            ":OUTPUT ACCEPT [0:0]\n:LOGDROP - [0:0]\n",
        )
    };
    for target in ["DROP", "LOGDROP"] {
        let fw = firewall(&dump(target));
        assert_eq!(fw.open_to_all.to_string(), "21,40000-40100", "-j {target}");
        assert_eq!(fw.classes.len(), 1, "-j {target}");
    }
    // A chain that can also return or accept does tell its sources apart.
    let allow = dump("LOGDROP").replace(
        "-A LOGDROP -j LOG\n",
        "-A LOGDROP -p tcp --dport 40000 -j ACCEPT\n",
    );
    let fw = firewall(&allow);
    assert_eq!(fw.classes.len(), 2);
}

/// Random rulesets against a naive reference: the kernel's first-match walk for one
/// client address and one port at a time.
mod against_a_naive_walk {
    use super::*;
    use proptest::prelude::*;

    const PREFIXES: [(u32, u8); 4] = [
        (0x0a00_0000, 8),  // 10.0.0.0/8
        (0x0a01_0000, 16), // 10.1.0.0/16
        (0xc633_6400, 24), // 198.51.100.0/24
        (0xc000_0207, 32), // 192.0.2.7
    ];

    #[derive(Clone, Debug)]
    struct R {
        chain: usize,
        source: Option<(usize, bool)>,
        ports: Option<(u16, u16)>,
        target: &'static str,
    }

    fn rule() -> impl Strategy<Value = R> {
        let source = prop::option::of((0..PREFIXES.len(), any::<bool>()));
        let ports = prop::option::of((1u16..40, 0u16..10).prop_map(|(lo, w)| (lo, lo + w)));
        let target = prop::sample::select(vec!["ACCEPT", "DROP", "RETURN", "SUB"]);
        // Sources on drops are a ban list: "may match" for a class, never splitting it
        // (a_ban_list_closes_nothing_to_the_public); the exact part is tested here.
        (0..2usize, source, ports, target).prop_map(|(chain, source, ports, target)| R {
            chain,
            source: source.filter(|_| target != "DROP"),
            ports,
            target,
        })
    }

    /// A jump to a chain that can only drop is a ban in two steps and, like a DROP,
    /// splits no class: its exact part is tested without a source.
    fn bans_without_sources(mut rules: Vec<R>) -> Vec<R> {
        if !rules.iter().any(|r| r.chain == 1 && r.target != "DROP") {
            for r in rules.iter_mut().filter(|r| r.target == "SUB") {
                r.source = None;
            }
        }
        rules
    }

    fn text(policy: &str, rules: &[R]) -> String {
        let mut s = format!(
            "*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:SUB - [0:0]\n"
        );
        for r in rules {
            let chain = if r.chain == 0 { "INPUT" } else { "SUB" };
            // SUB never jumps to itself (the kernel refuses loops).
            let target = if r.chain == 1 && r.target == "SUB" {
                "RETURN"
            } else {
                r.target
            };
            s.push_str(&format!("-A {chain} -p tcp"));
            if let Some((i, negated)) = r.source {
                let (addr, len) = PREFIXES[i];
                let bang = if negated { "! " } else { "" };
                s.push_str(&format!(
                    " {bang}-s {}/{len}",
                    std::net::Ipv4Addr::from(addr)
                ));
            }
            if let Some((lo, hi)) = r.ports {
                s.push_str(&format!(" --dport {lo}:{hi}"));
            }
            s.push_str(&format!(" -j {target}\n"));
        }
        s.push_str("COMMIT\n");
        s
    }

    fn matches(r: &R, addr: u32, port: u16) -> bool {
        let source = r.source.is_none_or(|(i, negated)| {
            let (net, len) = PREFIXES[i];
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            ((addr & mask) == (net & mask)) != negated
        });
        source && r.ports.is_none_or(|(lo, hi)| (lo..=hi).contains(&port))
    }

    /// `Some(accepted)` when a chain decides, `None` when it falls off its end.
    fn walk(rules: &[R], chain: usize, addr: u32, port: u16) -> Option<bool> {
        for r in rules
            .iter()
            .filter(|r| r.chain == chain && matches(r, addr, port))
        {
            let target = if r.chain == 1 && r.target == "SUB" {
                "RETURN"
            } else {
                r.target
            };
            match target {
                "ACCEPT" => return Some(true),
                "DROP" => return Some(false),
                "RETURN" => return None,
                _ => {
                    if let Some(v) = walk(rules, 1, addr, port) {
                        return Some(v);
                    }
                }
            }
        }
        None
    }

    fn probes() -> Vec<u32> {
        let mut out = vec![0x0800_0001, 0xcb00_7101];
        for (net, len) in PREFIXES {
            out.push(net);
            out.push(net | (u32::MAX >> len.min(31)) >> 1);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn every_class_reaches_what_the_kernel_would_let_in(
            rules in prop::collection::vec(rule(), 0..10),
            drop_policy in any::<bool>(),
        ) {
            let rules = bans_without_sources(rules);
            let policy = if drop_policy { "DROP" } else { "ACCEPT" };
            let fw = firewall(&text(policy, &rules));
            for addr in probes() {
                let class = fw
                    .classes
                    .iter()
                    .find(|c| c.sources.as_ref().is_some_and(|s| s.contains(u128::from(addr))))
                    .expect("every client is in a class");
                for port in 1u16..=50 {
                    let kernel = walk(&rules, 0, addr, port).unwrap_or(!drop_policy);
                    prop_assert_eq!(
                        class.open.contains(port),
                        kernel,
                        "client {} port {}\n{}",
                        std::net::Ipv4Addr::from(addr),
                        port,
                        text(policy, &rules)
                    );
                }
            }
        }
    }
}

#[test]
fn only_sources_that_can_change_an_outcome_split_classes() {
    // kube-proxy: `-s POD -j KUBE-MARK-MASQ` only marks for masquerading, and a nat
    // `-d CLUSTER-IP` names the host's address, not a client's.
    let text = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-SEP-A - [0:0]\n\
        -A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\n\
        -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SEP-A\n\
        -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n\
        -A KUBE-SEP-A -s 10.128.0.5/32 -j KUBE-MARK-MASQ\n\
        -A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.128.0.5:8080\nCOMMIT\n\
        *filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
        -A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\nCOMMIT\n";
    let fw = firewall(text);
    assert_eq!(fw.classes.len(), 1, "{:?}", fw.classes);
    assert_eq!(open_in(&fw, 1, 65535), "21");
    // A source whose jump reaches an accept does split.
    let fw = firewall(&filter(
        "DROP",
        ":TRUSTED - [0:0]\n-A INPUT -s 192.0.2.0/24 -j TRUSTED\n-A TRUSTED -p tcp -m tcp --dport 2222 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\n",
    ));
    assert_eq!(fw.classes.len(), 2, "{:?}", fw.classes);
    assert_eq!(some_in(&fw, 1, 65535), "2222");
}
