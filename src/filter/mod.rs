//! The packet-filter model: every firewall format lowers onto one IR ([`ir`]),
//! and one evaluator ([`eval`], with the active-mode path in [`active`]) turns it
//! into the vendor-neutral `Firewall` facts. No format evaluates packets itself.

pub mod active;
pub mod class;
pub mod eval;
pub mod ifaces;
pub mod ir;
pub mod nd;

use std::hash::Hasher;

/// A fast hash for chain names, port sets and rule specs (FxHash steps with an FNV
/// tail): keys are short, and a crafted collision only slows a lookup down.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Eight bytes at a time (the FxHash step), the tail byte by byte.
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
