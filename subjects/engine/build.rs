//! Records how this crate was optimised, so results can say whether they measured optimised code.
fn main() {
    let opt = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    let debug_assertions = std::env::var("CARGO_CFG_DEBUG_ASSERTIONS").is_ok();
    println!("cargo:rustc-env=ENGINE_OPT_LEVEL={opt}");
    println!("cargo:rustc-env=ENGINE_DEBUG_ASSERTIONS={debug_assertions}");
}
