//! `cargo afl fuzz` target: see `pasvlint_fuzz::dockerfile`.

fn main() {
    afl::fuzz!(|data: &[u8]| pasvlint_fuzz::on_worker_stack(|| pasvlint_fuzz::dockerfile(data)));
}
