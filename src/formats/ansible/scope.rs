//! The variables a task sees, in Ansible's precedence (lowest first): role
//! defaults, `group_vars/all`, `group_vars/<group>`, `host_vars/<host>`, play
//! `vars:`, `vars_files:`, role `vars/`, block and task `vars:`, `include_vars`
//! and `set_fact` results, role parameters, loop variables. Extra vars (`-e`)
//! are not in the repository and so are never known.

use super::jinja::{Eval, Unknown, Value, Vars};
use super::values;
use crate::formats::yaml::Node;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One variable's definition.
#[derive(Clone, Debug)]
pub enum Var {
    /// As written in a file: templated when used, in the scope of the use.
    Node(Node),
    /// Already evaluated (a loop item, a `set_fact` result).
    Value(Value),
    /// Defined, but to something not known (a vault, a registered result).
    Unknown(String),
}

pub type Layer = HashMap<String, Var>;

/// The precedence slots, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    RoleDefaults,
    Inventory,
    Play,
    RoleVars,
    Task,
    Facts,
    RoleParams,
    Loop,
}

/// Layers of variables; cheap to clone and to extend. Every scope made from
/// one [`Scope::new`] shares one budget of variable lookups, so variables that
/// refer to each other many times over end as unknown, not as a hang.
#[derive(Clone, Debug)]
pub struct Scope {
    layers: Vec<(Slot, Arc<Layer>)>,
    budget: Arc<AtomicUsize>,
}

/// Variable lookups one bundle may make.
const LOOKUPS: usize = 2_000_000;

impl Default for Scope {
    fn default() -> Self {
        Scope::new()
    }
}

impl Scope {
    pub fn new() -> Scope {
        Scope {
            layers: Vec::new(),
            budget: Arc::new(AtomicUsize::new(LOOKUPS)),
        }
    }

    /// Add `layer` at `slot` (after the other layers of that slot, so it wins over them).
    pub fn with(&self, slot: Slot, layer: Layer) -> Scope {
        let mut out = self.clone();
        if layer.is_empty() {
            return out;
        }
        let at = out.layers.partition_point(|(s, _)| *s <= slot);
        out.layers.insert(at, (slot, Arc::new(layer)));
        out
    }

    /// Replace the facts (`set_fact`, `include_vars`) with `facts`.
    pub fn with_facts(&self, facts: &Arc<Layer>) -> Scope {
        let mut out = self.clone();
        out.layers.retain(|(s, _)| *s != Slot::Facts);
        if !facts.is_empty() {
            let at = out.layers.partition_point(|(s, _)| *s <= Slot::Facts);
            out.layers.insert(at, (Slot::Facts, facts.clone()));
        }
        out
    }

    /// Without the layers of the role being run (its defaults, vars and parameters).
    pub fn without_role(&self) -> Scope {
        let mut out = self.clone();
        out.layers
            .retain(|(s, _)| !matches!(s, Slot::RoleDefaults | Slot::RoleVars | Slot::RoleParams));
        out
    }

    fn find(&self, name: &str) -> Option<&Var> {
        self.layers.iter().rev().find_map(|(_, l)| l.get(name))
    }

    /// A variable's value in this scope, templated.
    pub fn value(&self, node: &Node) -> Eval {
        values::templated(node, self, 0)
    }
}

impl Vars for Scope {
    fn get(&self, name: &str, depth: usize) -> Option<Eval> {
        let spent = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_err();
        if spent {
            return Some(Err(Unknown::new(format!(
                "{name} (too many variable lookups)"
            ))));
        }
        let var = match self.find(name) {
            Some(v) => v,
            None => return builtin(name).map(Ok),
        };
        Some(match var {
            Var::Node(node) => {
                if node
                    .as_str()
                    .is_some_and(|s| s.trim_start().starts_with("$ANSIBLE_VAULT"))
                {
                    Err(Unknown::new(format!("{name} (vault-encrypted)")))
                } else {
                    values::templated(node, self, depth)
                }
            }
            Var::Value(v) => Ok(v.clone()),
            Var::Unknown(what) => Err(Unknown::new(what.clone())),
        })
    }
}

/// Variables ansible-core defines itself whose value does not depend on the host.
fn builtin(name: &str) -> Option<Value> {
    match name {
        // DEFAULT_MANAGED_STR
        "ansible_managed" => Some(Value::Str("Ansible managed".into())),
        "omit" => Some(Value::Str(OMIT.into())),
        _ => None,
    }
}

/// What `{{ omit }}` renders as: the argument is then left out.
pub const OMIT: &str = "__omit_place_holder__pasvlint";

/// The variables of a vars file's mapping.
pub fn layer(node: Option<&Node>) -> Layer {
    let mut out = Layer::new();
    if let Some(node) = node {
        for (k, v) in node.entries() {
            if let Some(name) = k.as_str() {
                out.insert(name.to_owned(), Var::Node(v.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ansible::jinja;
    use crate::formats::yaml;
    use crate::source::FileId;

    fn vars(text: &str) -> Layer {
        let root = yaml::parse(FileId(0), text).unwrap();
        layer(root.as_ref())
    }

    #[test]
    fn precedence_and_lazy_templating() {
        let scope = Scope::default()
            .with(
                Slot::Play,
                vars("ftp_pasv_max: \"{{ ftp_pasv_min + 100 }}\"\n"),
            )
            .with(
                Slot::RoleDefaults,
                vars("ftp_pasv_min: 40000\nftp_pasv_max: 1\n"),
            )
            .with(Slot::RoleVars, vars("ftp_pasv_min: 50000\n"));
        assert_eq!(
            jinja::eval("ftp_pasv_max", &scope, 0),
            Ok(Value::Int(50100))
        );
        assert!(
            jinja::eval("ftp_pasv_min", &scope.without_role(), 0)
                .unwrap_err()
                .undefined
        );
        let looping = scope.with(Slot::Loop, vars("x: \"{{ x }}\"\n"));
        assert!(jinja::eval("x", &looping, 0).is_err());
    }
}
