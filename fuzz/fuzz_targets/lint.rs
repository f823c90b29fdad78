//! `cargo afl fuzz` target: see `pasvlint_fuzz::lint`.

fn main() {
    // One worker, as the fuzzer runs one process per core; files are parsed on
    // it (2 MiB of stack), as in `pasvlint check`.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
    afl::fuzz!(|data: &[u8]| pasvlint_fuzz::lint(data));
}
