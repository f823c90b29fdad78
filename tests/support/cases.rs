//! The rule fixtures the oracles replay.

use std::path::PathBuf;

/// Every case folder `fixtures/rules/<rule>/<case>`, in path order.
pub fn rule_cases() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/rules")
        .flatten()
        .flat_map(|rule| {
            std::fs::read_dir(rule.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|case| case.path())
        .filter(|case| case.is_dir())
        .collect();
    out.sort();
    out
}

/// `<rule>/<case>` of a case folder.
pub fn name(case: &std::path::Path) -> String {
    let part = |p: Option<&std::path::Path>| {
        p.and_then(|p| p.file_name())
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    format!("{}/{}", part(case.parent()), part(Some(case)))
}
