//! Replay inputs through a target without AFL, reporting each file's time:
//! `cargo run --release --bin repro -- TARGET FILE_OR_DIR...`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: repro TARGET FILE_OR_DIR...");
        std::process::exit(2);
    };
    let Some(target) = pasvlint_fuzz::target(&name) else {
        let names: Vec<&str> = pasvlint_fuzz::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("unknown target {name}; targets: {}", names.join(", "));
        std::process::exit(2);
    };
    let mut files = Vec::new();
    for arg in args {
        let path = std::path::PathBuf::from(arg);
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(&path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path);
        }
    }
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            eprintln!("{}: unreadable", file.display());
            continue;
        };
        let started = Instant::now();
        (target.run)(&bytes);
        println!(
            "{} {:?} {} bytes",
            file.display(),
            started.elapsed(),
            bytes.len()
        );
    }
}
