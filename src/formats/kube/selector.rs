//! Label selectors as the Kubernetes API's `LabelSelector` defines them:
//! `matchLabels` and `matchExpressions` (operators `In`, `NotIn`, `Exists`,
//! `DoesNotExist`), all requirements ANDed. A requirement the API server
//! rejects (an unknown operator, `In`/`NotIn` without values, `Exists` with
//! values) is recorded as an [`Invalid`] finding, and the selector selects nothing.

use super::objects::Labels;
use crate::formats::yaml::Node;
use crate::source::Span;

/// Something the API server refuses when the object is created.
#[derive(Debug, Clone)]
pub struct Invalid {
    pub message: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Operator,
}

/// A parsed selector; `valid` is false when the API server would refuse it.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub labels: Labels,
    pub expressions: Vec<Requirement>,
    pub valid: bool,
}

impl Requirement {
    fn matches(&self, pod: &Labels) -> bool {
        let value = pod.iter().find(|(k, _)| *k == self.key).map(|(_, v)| v);
        match (&self.op, value) {
            (Operator::In(vs), Some(v)) => vs.contains(v),
            (Operator::In(_), None) => false,
            (Operator::NotIn(vs), Some(v)) => !vs.contains(v),
            (Operator::NotIn(_), None) => true,
            (Operator::Exists, v) => v.is_some(),
            (Operator::DoesNotExist, v) => v.is_none(),
        }
    }
}

impl Selector {
    /// Every `matchLabels` pair is on the pod and every expression holds.
    pub fn matches(&self, pod: &Labels) -> bool {
        self.valid
            && self.labels.iter().all(|kv| pod.contains(kv))
            && self.expressions.iter().all(|r| r.matches(pod))
    }
}

fn labels(node: Option<&Node>) -> Labels {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
            .collect()
    })
    .unwrap_or_default()
}

/// Reads a `LabelSelector` (`podSelector`, `namespaceSelector`), recording what
/// the API server would refuse in `invalid`.
pub fn read(node: Option<&Node>, field: &str, invalid: &mut Vec<Invalid>) -> Selector {
    let mut sel = Selector {
        labels: labels(node.and_then(|n| n.get("matchLabels"))),
        expressions: Vec::new(),
        valid: true,
    };
    let exprs = match node.and_then(|n| n.get("matchExpressions")) {
        Some(Node::Seq { items, .. }) => items.as_slice(),
        _ => &[],
    };
    for (i, e) in exprs.iter().enumerate() {
        match requirement(e) {
            Ok(r) => sel.expressions.push(r),
            Err(why) => {
                sel.valid = false;
                invalid.push(Invalid {
                    message: format!("{field}.matchExpressions[{i}]: {why}"),
                    span: e.get("operator").map_or_else(|| e.span(), Node::span),
                });
            }
        }
    }
    sel
}

fn values(e: &Node) -> Vec<String> {
    match e.get("values") {
        Some(Node::Seq { items, .. }) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// One `matchExpressions` entry, or why the API server refuses it (its wording).
fn requirement(e: &Node) -> Result<Requirement, String> {
    let key = e.get("key").and_then(Node::as_str).unwrap_or("").to_owned();
    if key.is_empty() {
        return Err("key: Required value".into());
    }
    let op = e.get("operator").and_then(Node::as_str).unwrap_or("");
    let vals = values(e);
    let op = match op {
        "In" | "NotIn" if vals.is_empty() => {
            return Err(format!(
                "values: Required value: must be specified when `operator` is '{op}'"
            ));
        }
        "Exists" | "DoesNotExist" if !vals.is_empty() => {
            return Err(format!(
                "values: Forbidden: may not be specified when `operator` is '{op}'"
            ));
        }
        "In" => Operator::In(vals),
        "NotIn" => Operator::NotIn(vals),
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => {
            return Err(format!(
                "operator: Invalid value: \"{other}\": not a valid selector operator (expected In, NotIn, Exists or DoesNotExist)"
            ));
        }
    };
    Ok(Requirement { key, op })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn sel(yaml: &str) -> (Selector, Vec<Invalid>) {
        let doc = crate::formats::yaml::parse(FileId(0), yaml)
            .unwrap()
            .unwrap();
        let mut invalid = Vec::new();
        (read(Some(&doc), "spec.podSelector", &mut invalid), invalid)
    }

    fn pod(kv: &[(&str, &str)]) -> Labels {
        kv.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn operators_follow_the_api() {
        let app = pod(&[("app", "ftp")]);
        let other = pod(&[("app", "web")]);
        let none = pod(&[]);
        let (s, _) = sel("matchExpressions: [{key: app, operator: In, values: [ftp]}]");
        assert!(s.matches(&app) && !s.matches(&other) && !s.matches(&none));
        let (s, _) = sel("matchExpressions: [{key: app, operator: NotIn, values: [ftp]}]");
        assert!(!s.matches(&app) && s.matches(&other) && s.matches(&none));
        let (s, _) = sel("matchExpressions: [{key: app, operator: Exists}]");
        assert!(s.matches(&app) && !s.matches(&none));
        let (s, _) = sel("matchExpressions: [{key: app, operator: DoesNotExist}]");
        assert!(!s.matches(&app) && s.matches(&none));
    }

    #[test]
    fn labels_and_expressions_are_anded() {
        let (s, _) = sel(
            "matchLabels: {tier: ftp}\nmatchExpressions: [{key: app, operator: In, values: [ftp]}]",
        );
        assert!(s.matches(&pod(&[("app", "ftp"), ("tier", "ftp")])));
        assert!(!s.matches(&pod(&[("app", "ftp")])));
        let (empty, _) = sel("{}");
        assert!(empty.matches(&pod(&[])));
    }

    #[test]
    fn what_the_api_server_refuses_is_recorded() {
        for bad in [
            "matchExpressions: [{key: app, operator: Equals, values: [ftp]}]",
            "matchExpressions: [{key: app, operator: In}]",
            "matchExpressions: [{key: app, operator: NotIn, values: []}]",
            "matchExpressions: [{key: app, operator: Exists, values: [x]}]",
            "matchExpressions: [{operator: Exists}]",
        ] {
            let (s, invalid) = sel(bad);
            assert!(!s.valid && invalid.len() == 1, "{bad}");
            assert!(!s.matches(&pod(&[("app", "ftp")])));
        }
    }
}
