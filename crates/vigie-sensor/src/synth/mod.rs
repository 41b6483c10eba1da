//! Synthetic traffic: well-formed frames and application messages built
//! from scratch, for the tests, the demo's generated captures and the
//! benchmark. Never used on the analysis path.

pub mod app;
mod frame;

pub use frame::FrameBuilder;
pub mod day;
pub mod traffic;

/// xorshift64*: small, fast, deterministic; for generated traffic only,
/// never for secrets.
pub struct Rng(u64);

impl Rng {
    /// Any seed works (zero is moved off the generator's fixed point).
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    #[allow(clippy::should_implement_trait)] // not an iterator: it never ends
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
