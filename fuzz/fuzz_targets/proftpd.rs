//! `cargo afl fuzz` target: see `pasvlint_fuzz::proftpd`.

fn main() {
    afl::fuzz!(|data: &[u8]| pasvlint_fuzz::on_worker_stack(|| pasvlint_fuzz::proftpd(data)));
}
