//! `cargo afl fuzz` target: see `pasvlint_fuzz::puppet`.

fn main() {
    afl::fuzz!(|data: &[u8]| pasvlint_fuzz::on_worker_stack(|| pasvlint_fuzz::puppet(data)));
}
