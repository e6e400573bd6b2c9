//! Suites: parse the file (`file`), then resolve it against a profile and the command line
//! into cases (`resolve`). Errors name the file, the line and what was expected.

mod file;
mod resolve;
mod values;

pub use resolve::{CaseSpec, LoadOptions, ResolvedSuite, SuiteError, available_suites, load};
pub use values::parse_duration;

/// FNV-1a, 64 bit: a stable fingerprint of a suite file, so changed suites never compare.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
