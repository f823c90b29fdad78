//! Every input the fuzzer found (a crash, a hang, a blow-up), kept under
//! `fixtures/fuzz/<target>/`, replayed through the very function the fuzz target
//! runs (`fuzz/src/lib.rs`, compiled in here), each under a timeout.

mod support;

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Generous for a debug build on a loaded 2-core machine; each kept input takes
/// well under a second in a release build, and the blow-ups they were took minutes.
const LIMIT: Duration = Duration::from_secs(30);

fn kept_inputs() -> Vec<(String, PathBuf)> {
    let root = support::crate_dir().join("fixtures/fuzz");
    let mut inputs = Vec::new();
    for dir in support::subdirs(&root) {
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
            .collect();
        files.sort();
        inputs.extend(files.into_iter().map(|f| (target.clone(), f)));
    }
    inputs
}

#[test]
fn every_kept_fuzz_input_returns_in_time() {
    let inputs = kept_inputs();
    assert!(!inputs.is_empty(), "no inputs under fixtures/fuzz");
    let mut failures = Vec::new();
    for (name, file) in inputs {
        let target = targets::target(&name)
            .unwrap_or_else(|| panic!("fixtures/fuzz/{name}: no fuzz target of that name"));
        let bytes = std::fs::read(&file).unwrap();
        let shown = file
            .strip_prefix(support::crate_dir())
            .unwrap_or(&file)
            .display()
            .to_string();
        // Printed first: a stack overflow aborts the process before any assert.
        eprintln!("fuzz regression: {shown}");
        let (done, wait) = std::sync::mpsc::channel();
        let run = target.run;
        let started = Instant::now();
        std::thread::Builder::new()
            // A rayon worker's stack, where `pasvlint check` parses files.
            .stack_size(targets::WORKER_STACK)
            .spawn(move || {
                let ok = std::panic::catch_unwind(|| run(&bytes)).is_ok();
                let _ = done.send(ok);
            })
            .unwrap();
        match wait.recv_timeout(LIMIT) {
            Ok(true) => eprintln!("fuzz regression: {shown} took {:?}", started.elapsed()),
            Ok(false) => failures.push(format!("{shown}: panicked")),
            Err(_) => failures.push(format!("{shown}: still running after {LIMIT:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_target_has_a_distinct_name_and_lint_trees_split_as_documented() {
    let mut names: Vec<&str> = targets::TARGETS.iter().map(|t| t.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), targets::TARGETS.len());
    let tree = targets::tree(b"\x00listen=YES\n\0\0\x01*filter\nCOMMIT\n\0\0\x00pasv_enable=NO\n");
    assert_eq!(
        tree,
        vec![
            ("a/etc/iptables/rules.v4", &b"*filter\nCOMMIT\n"[..]),
            ("a/etc/vsftpd.conf", &b"pasv_enable=NO\n"[..]),
        ]
    );
}
