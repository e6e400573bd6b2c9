//! Suites: parse the file (`file`), then resolve it against a profile and the command line
//! into cases (`resolve`). Errors name the file, the line and what was expected.

mod file;
#[cfg(test)]
mod fuzz;
mod resolve;
mod values;

pub use resolve::{CaseSpec, LoadOptions, ResolvedSuite, SuiteError, available_suites, load};
pub use values::parse_duration;

/// A stable fingerprint of a suite file (FNV-1a as 16 hex digits), so changed suites never
/// compare.
pub fn fingerprint(bytes: &[u8]) -> String {
    format!("{:016x}", engine::hash::fnv1a(bytes))
}
