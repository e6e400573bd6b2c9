//! Records how the harness was built, for results.json.
fn main() {
    let get = |k: &str| std::env::var(k).unwrap_or_else(|_| "unknown".into());
    let rustc = std::process::Command::new(get("RUSTC"))
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HARNESS_PROFILE={}", get("PROFILE"));
    println!("cargo:rustc-env=HARNESS_OPT_LEVEL={}", get("OPT_LEVEL"));
    println!("cargo:rustc-env=HARNESS_RUSTC={rustc}");
}
