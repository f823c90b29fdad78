//! `cargo afl fuzz` target: see `pasvlint_fuzz::nftables`.

fn main() {
    afl::fuzz!(|data: &[u8]| pasvlint_fuzz::on_worker_stack(|| pasvlint_fuzz::nftables(data)));
}
