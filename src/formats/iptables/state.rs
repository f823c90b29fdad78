//! Replaying commands into tables, in order, with the checks the kernel and the
//! nft backend do when a command is applied (chains that must exist, indexes,
//! references, loops).

use super::Target;
use super::rule::{Cmd, Command, Mode, ParseError};
use super::{Chain, Family, Policy, Problem, ProblemKind, Rule, Ruleset, Table, TableKind};
use crate::source::Span;

/// Replays commands into a [`Ruleset`]'s tables.
pub struct Replay {
    pub mode: Mode,
    /// Problems to be reported at the next COMMIT (nft reports missing chains there).
    pub at_commit: Vec<usize>,
    defer: bool,
    /// The rules the next chain to get its first rule is about to get (0: not
    /// known), so that its vector is allocated once.
    pub run_hint: usize,
    /// Chains a bare `-F` emptied in this restore table: still busy for `-X`.
    busy_until_commit: Vec<(TableKind, u32)>,
}

pub fn problem(e: ParseError) -> Problem {
    Problem {
        kind: e.kind,
        message: e.message,
        span: e.span,
        reported_at: None,
    }
}

fn syntax(message: impl Into<String>, span: Span) -> Problem {
    Problem {
        kind: ProblemKind::Syntax,
        message: message.into(),
        span,
        reported_at: None,
    }
}

const NO_CHAIN: &str = "No chain/target/match by that name.";

impl Replay {
    pub fn new(mode: Mode) -> Replay {
        Replay {
            mode,
            at_commit: Vec::new(),
            defer: false,
            run_hint: 0,
            busy_until_commit: Vec::new(),
        }
    }

    /// The table was committed (or started afresh): nothing is busy any more.
    pub fn end_table(&mut self) {
        self.busy_until_commit.clear();
    }

    /// `-X` refuses a chain with rules or references (and, in a restore file, one a
    /// bare `-F` emptied earlier in the same table).
    fn busy(&self, table: &Table, id: u32) -> bool {
        !table.chains[id as usize].rules.is_empty()
            || referenced(table, id)
            || self.busy_until_commit.contains(&(table.kind, id))
    }

    pub fn table_mut(rs: &mut Ruleset, kind: TableKind, family: Family) -> &mut Table {
        let slot = match family {
            Family::V4 => &mut rs.tables[kind.index()],
            Family::V6 => &mut rs.tables_v6[kind.index()],
        };
        slot.get_or_insert_with(|| Table::new(kind))
    }

    /// Start a table afresh (a restore file's `*table` line flushes it).
    pub fn reset_table(rs: &mut Ruleset, kind: TableKind, family: Family) {
        let slot = match family {
            Family::V4 => &mut rs.tables[kind.index()],
            Family::V6 => &mut rs.tables_v6[kind.index()],
        };
        let mut fresh = Table::new(kind);
        // Policies survive a flush of the table.
        if let Some(old) = slot.take() {
            for (id, c) in fresh.chains.iter_mut().enumerate() {
                if let Some(o) = old.chains.get(id).filter(|o| o.builtin) {
                    c.policy = o.policy;
                    c.policy_span = o.policy_span;
                }
            }
        }
        *slot = Some(fresh);
    }

    /// Apply one parsed command. Problems go into `rs.problems`.
    pub fn apply(&mut self, rs: &mut Ruleset, cmd: Command<'_>, family: Family) {
        self.defer = false;
        let removes = self.mode == Mode::Shell
            && matches!(
                cmd.cmd,
                Cmd::Delete | Cmd::DeleteNum(_) | Cmd::Flush | Cmd::DeleteChain | Cmd::Zero
            );
        if let Err(mut p) = self.apply_inner(rs, cmd, family) {
            if removes && p.kind == ProblemKind::Syntax && is_absence(&p.message) {
                p.kind = ProblemKind::NothingToRemove;
            }
            if self.defer {
                self.at_commit.push(rs.problems.len());
            }
            rs.problems.push(p);
        }
    }

    fn apply_inner(
        &mut self,
        rs: &mut Ruleset,
        cmd: Command<'_>,
        family: Family,
    ) -> Result<(), Problem> {
        let line = cmd.rule.span;
        if family == Family::V4 {
            rs.has_v4 = true;
        }
        let table = Self::table_mut(rs, cmd.table, family);
        let chain_word = cmd.chain.clone();
        let chain_id = chain_word.as_ref().and_then(|w| table.find(&w.text));
        let chain_span = chain_word.as_ref().map_or(line, |w| w.span);
        let need_chain = || chain_id.ok_or_else(|| syntax(NO_CHAIN, chain_span));
        match cmd.cmd {
            Cmd::Append | Cmd::Insert(_) | Cmd::Replace(_) => {
                let id = need_chain()?;
                let mut rule = cmd.rule;
                self.check_needs(table, id, &cmd, &rule)?;
                if let Some(j) = &cmd.jump {
                    rule.target = self.resolve_jump(table, id, j, &rule)?;
                }
                let table = Self::table_mut(rs, cmd.table, family);
                let chain = &mut table.chains[id as usize];
                if chain.rules.capacity() == 0 {
                    chain
                        .rules
                        .reserve_exact(std::mem::take(&mut self.run_hint));
                }
                match cmd.cmd {
                    Cmd::Append => chain.rules.push(rule),
                    Cmd::Insert(n) => {
                        let n = n as usize;
                        if n > chain.rules.len() + 1 {
                            return Err(syntax("Index of insertion too big.", line));
                        }
                        chain.rules.insert(n - 1, rule);
                    }
                    Cmd::Replace(n) => {
                        if self.mode == Mode::Restore {
                            return Err(syntax(
                                "Segmentation fault (iptables-nft-restore 1.8.9 crashes on -R)",
                                line,
                            ));
                        }
                        let n = n as usize;
                        if n == 0 || n > chain.rules.len() {
                            return Err(syntax("Index of replacement too big.", line));
                        }
                        chain.rules[n - 1] = rule;
                    }
                    _ => {}
                }
                // A shell command is committed alone: the kernel refuses the loop now.
                if self.mode == Mode::Shell
                    && matches!(rule.target, Target::Jump(_) | Target::Goto(_))
                    && reachable_loop(table).is_some()
                {
                    let chain = &mut table.chains[id as usize];
                    if let Some(pos) = chain.rules.iter().rposition(|r| r.span == line) {
                        chain.rules.remove(pos);
                    }
                    return Err(syntax(
                        format!(
                            "RULE_APPEND failed (Too many links): rule in chain {}",
                            chain.name
                        ),
                        line,
                    ));
                }
            }
            Cmd::Delete | Cmd::DeleteNum(_) | Cmd::Check => {
                let id = need_chain()?;
                let mut probe = cmd.rule;
                if let Some(j) = &cmd.jump {
                    probe.target = match table.find(&j.name.text) {
                        Some(t) if j.goto => Target::Goto(t),
                        Some(t) => Target::Jump(t),
                        // `iptables -C` failing is how scripts test for a rule.
                        None if cmd.cmd == Cmd::Check && self.mode == Mode::Shell => {
                            return Ok(());
                        }
                        None => {
                            self.defer = self.mode == Mode::Restore;
                            return Err(syntax(
                                format!("Chain '{}' does not exist", j.name.text),
                                j.name.span,
                            ));
                        }
                    };
                }
                let chain = &mut table.chains[id as usize];
                match cmd.cmd {
                    Cmd::DeleteNum(n) => {
                        let n = n as usize;
                        if n > chain.rules.len() {
                            return Err(syntax("Index of deletion too big.", line));
                        }
                        chain.rules.remove(n - 1);
                    }
                    _ => {
                        let pos = chain
                            .rules
                            .iter()
                            .position(|r| r.spec == probe.spec && r.target == probe.target);
                        match (pos, cmd.cmd) {
                            (Some(i), Cmd::Delete) => {
                                chain.rules.remove(i);
                            }
                            (Some(_), _) => {}
                            // `iptables -C` failing is how scripts test for a rule.
                            (None, Cmd::Check) if self.mode == Mode::Shell => {}
                            (None, _) => {
                                return Err(syntax(
                                    "Bad rule (does a matching rule exist in that chain?).",
                                    line,
                                ));
                            }
                        }
                    }
                }
            }
            Cmd::Flush => match chain_word {
                Some(_) => {
                    let id = need_chain()?;
                    table.chains[id as usize].rules.clear();
                }
                None => {
                    if self.mode == Mode::Restore {
                        // Measured (nft): a bare -F in a restore file does not release
                        // chains for a later -X in the same table; a named -F or -D does.
                        let busy: Vec<u32> = table
                            .live_chains()
                            .filter(|&(id, c)| !c.rules.is_empty() || referenced(table, id))
                            .map(|(id, _)| id)
                            .collect();
                        self.busy_until_commit
                            .extend(busy.into_iter().map(|id| (table.kind, id)));
                    }
                    table.chains.iter_mut().for_each(|c| c.rules.clear());
                }
            },
            Cmd::Zero | Cmd::List => {
                if chain_word.is_some() {
                    need_chain()?;
                }
            }
            Cmd::NewChain => {
                let w = chain_word.ok_or_else(|| syntax(NO_CHAIN, line))?;
                if table.find(&w.text).is_some() {
                    return Err(syntax("Chain already exists.", w.span));
                }
                table.add_chain(&w.text, false, Some(line));
            }
            Cmd::DeleteChain => match chain_word {
                Some(w) => {
                    let id = table
                        .find(&w.text)
                        .filter(|&i| !table.chains[i as usize].builtin)
                        .ok_or_else(|| syntax(NO_CHAIN, w.span))?;
                    if self.busy(table, id) {
                        return Err(syntax(
                            format!(
                                "CHAIN_DEL failed (Device or resource busy): chain {}",
                                w.text
                            ),
                            line,
                        ));
                    }
                    table.remove_chain(id);
                }
                None => {
                    let user: Vec<u32> = table
                        .live_chains()
                        .filter(|(_, c)| !c.builtin)
                        .map(|(i, _)| i)
                        .collect();
                    for id in &user {
                        if self.busy(table, *id) {
                            return Err(syntax(
                                format!(
                                    "CHAIN_DEL failed (Device or resource busy): chain {}",
                                    table.chains[*id as usize].name
                                ),
                                line,
                            ));
                        }
                    }
                    user.into_iter().for_each(|id| table.remove_chain(id));
                }
            },
            Cmd::Rename => {
                let id = need_chain()?;
                let new = cmd.extra.ok_or_else(|| syntax(NO_CHAIN, line))?;
                if table.find(&new.text).is_some() {
                    return Err(syntax("File exists.", new.span));
                }
                table.rename_chain(id, &new.text);
            }
            Cmd::Policy => {
                // iptables 1.8.9 (nft) on `-P OUPUT DROP`: no chain to look up, only
                // built-in ones have a policy.
                let id = chain_id.ok_or_else(|| syntax("Bad built-in chain name.", chain_span))?;
                let policy = cmd.extra.ok_or_else(|| syntax("Bad policy name.", line))?;
                let chain = &mut table.chains[id as usize];
                if !chain.builtin {
                    return Err(syntax("Bad built-in chain name.", chain_span));
                }
                let p = parse_policy(&policy.text)
                    .ok_or_else(|| syntax("Bad policy name.", policy.span))?;
                set_policy(chain, p, line);
            }
        }
        Ok(())
    }

    /// The target of `-j CHAIN` / `-g CHAIN`, checking the chain exists and is not built in.
    fn resolve_jump(
        &mut self,
        table: &Table,
        from: u32,
        j: &super::rule::Jump<'_>,
        rule: &Rule,
    ) -> Result<Target, Problem> {
        let Some(to) = table.find(&j.name.text) else {
            let p = syntax(
                format!("Chain '{}' does not exist", j.name.text),
                j.name.span,
            );
            // nft checks this when the table is committed.
            self.defer = self.mode == Mode::Restore;
            return Err(p);
        };
        let target = &table.chains[to as usize];
        if target.builtin {
            let why = if to == from || target.decl.is_some() {
                "Operation not supported"
            } else {
                "No such file or directory"
            };
            return Err(syntax(
                format!(
                    "RULE_APPEND failed ({why}): rule in chain {}",
                    table.chains[from as usize].name
                ),
                rule.span,
            ));
        }
        Ok(if j.goto {
            Target::Goto(to)
        } else {
            Target::Jump(to)
        })
    }

    fn check_needs(
        &self,
        table: &Table,
        chain: u32,
        cmd: &Command<'_>,
        rule: &Rule,
    ) -> Result<(), Problem> {
        let c = &table.chains[chain as usize];
        let table_ok = cmd.needs.tables.is_none_or(|t| t.contains(&table.kind));
        let hook_ok = !c.builtin || cmd.needs.hooks.is_none_or(|h| h.contains(&&*c.name));
        if table_ok && hook_ok {
            return Ok(());
        }
        let verb = match cmd.cmd {
            Cmd::Insert(_) => "RULE_INSERT",
            Cmd::Replace(_) => "RULE_REPLACE",
            _ => "RULE_APPEND",
        };
        let why = if cmd.needs.tables == Some(&[]) {
            "No such file or directory"
        } else {
            "Invalid argument"
        };
        Err(syntax(
            format!("{verb} failed ({why}): rule in chain {}", c.name),
            rule.span,
        ))
    }
}

pub fn parse_policy(s: &str) -> Option<Policy> {
    match s {
        "ACCEPT" => Some(Policy::Accept),
        "DROP" => Some(Policy::Drop),
        _ => None,
    }
}

pub fn set_policy(chain: &mut Chain, policy: Policy, span: Span) {
    chain.policy = policy;
    chain.policy_span = Some(span);
}

fn referenced(table: &Table, id: u32) -> bool {
    table.live_chains().any(|(_, c)| {
        c.rules
            .iter()
            .any(|r| matches!(r.target, Target::Jump(t) | Target::Goto(t) if t == id))
    })
}

/// Chains that jump to other chains, as adjacency lists (deduplicated).
pub fn jump_graph(table: &Table) -> Vec<Vec<u32>> {
    table
        .chains
        .iter()
        .map(|c| {
            let mut v: Vec<u32> = c
                .rules
                .iter()
                .filter_map(|r| match r.target {
                    Target::Jump(t) | Target::Goto(t) => Some(t),
                    _ => None,
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect()
}

/// A loop that a built-in chain reaches, if any (the kernel refuses those): the chains
/// from the built-in chain along the path, ending with the chain that closes the loop.
pub fn reachable_loop(table: &Table) -> Option<Vec<u32>> {
    let graph = jump_graph(table);
    // Iterative three-colour DFS from every built-in chain.
    let mut colour = vec![0u8; graph.len()];
    for (start, c) in table.live_chains() {
        if !c.builtin || colour[start as usize] != 0 {
            continue;
        }
        let mut stack: Vec<(u32, usize)> = vec![(start, 0)];
        colour[start as usize] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = graph[node as usize].get(*next) {
                *next += 1;
                match colour.get(to as usize) {
                    Some(0) => {
                        colour[to as usize] = 1;
                        stack.push((to, 0));
                    }
                    Some(1) => {
                        let mut path: Vec<u32> = stack.iter().map(|(n, _)| *n).collect();
                        path.push(to);
                        return Some(path);
                    }
                    _ => {}
                }
            } else {
                colour[node as usize] = 2;
                stack.pop();
            }
        }
    }
    None
}

/// The rule the nft backend reports for a loop: the latest of the jumps that make
/// the loop reachable (each hop taken at its earliest jump).
pub fn loop_rule(table: &Table, path: &[u32]) -> Option<Span> {
    path.windows(2)
        .filter_map(|w| {
            table.chains[w[0] as usize]
                .rules
                .iter()
                .filter(|r| matches!(r.target, Target::Jump(t) | Target::Goto(t) if t == w[1]))
                .map(|r| r.span)
                .min()
        })
        .max()
}

/// The messages iptables gives when what a command removes is not there.
fn is_absence(message: &str) -> bool {
    message == NO_CHAIN
        || message == "Bad rule (does a matching rule exist in that chain?)."
        || message == "Index of deletion too big."
        || (message.starts_with("Chain '") && message.ends_with("' does not exist"))
}
