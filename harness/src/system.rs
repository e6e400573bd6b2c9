//! Machine information recorded with every run: what a reader needs to judge whether two runs
//! are comparable (CPU, ISA, frequency policy, memory, load, GPUs, OS).
//!
//! [`collect`] never fails and never panics: whatever cannot be read on this platform, in
//! this container, or without privileges is `None` (or empty), never an error. Every field
//! is `#[serde(default)]`, so results written by an older or newer harness still parse.

mod gpu;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use gpu::GpuInfo;

/// Everything known about the machine a run was measured on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemInfo {
    pub hostname: Option<String>,
    /// e.g. "Debian GNU/Linux", "Darwin".
    pub os_name: Option<String>,
    /// e.g. "12", "14.5".
    pub os_version: Option<String>,
    /// e.g. "Linux 12 Debian GNU/Linux".
    pub os_long_version: Option<String>,
    /// Kernel release, e.g. "6.1.0-18-amd64".
    pub kernel: Option<String>,
    /// Architecture the harness was built for (`std::env::consts::ARCH`).
    pub arch: String,
    /// CPU brand string; "unknown" when nothing could be read.
    pub cpu_model: String,
    pub cpu_vendor: Option<String>,
    pub physical_cores: Option<usize>,
    /// Logical CPUs of the machine.
    pub logical_cores: usize,
    /// CPUs this process may run on (affinity and cgroup quota applied).
    pub available_parallelism: Option<usize>,
    /// Lowest and highest frequency any core may run at (cpufreq `cpuinfo_{min,max}_freq`).
    pub cpu_freq_min_mhz: Option<u64>,
    pub cpu_freq_max_mhz: Option<u64>,
    /// Mean current frequency over all cores at collection.
    pub cpu_freq_current_mhz: Option<u64>,
    /// cpufreq scaling driver, e.g. "intel_pstate", "amd-pstate-epp", "acpi-cpufreq".
    pub cpufreq_driver: Option<String>,
    /// Scaling governor(s) in use, comma-separated when cores differ.
    pub scaling_governor: Option<String>,
    /// Whether turbo/boost is enabled.
    pub boost: Option<bool>,
    /// Whether the CPU reports running under a hypervisor.
    pub virtualized: Option<bool>,
    /// ISA extensions relevant to our kernels that this CPU and OS support (runtime detection).
    pub isa_flags: Vec<String>,
    /// Caches seen by CPU 0.
    pub caches: Vec<CacheInfo>,
    pub memory_total_bytes: Option<u64>,
    pub memory_available_bytes: Option<u64>,
    /// 1, 5 and 15 minute load averages at collection.
    pub load_average: Option<[f64; 3]>,
    pub gpus: Vec<GpuInfo>,
    /// Every adapter wgpu finds (what `engine-gpu` can run on), software ones included.
    pub wgpu_adapters: Vec<engine::gpu::AdapterSummary>,
}

/// One CPU cache as seen by CPU 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheInfo {
    pub level: u8,
    /// "data", "instruction" or "unified".
    pub kind: String,
    pub size_bytes: u64,
    /// How many logical CPUs share this cache.
    pub shared_by_cpus: Option<usize>,
}

impl SystemInfo {
    /// The hostname as a folder-name component: lowercase `[a-z0-9-]`, runs of anything else
    /// collapsed to one `-`, no leading or trailing `-`, at most 63 characters; "unknown"
    /// when nothing is left.
    pub fn machine_slug(&self) -> String {
        slug(self.hostname.as_deref().unwrap_or(""))
    }
}

fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(63);
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "unknown".to_string()
    } else {
        out.to_string()
    }
}

/// Memory this process could allocate now, where the platform says.
pub fn available_memory() -> Option<u64> {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    Some(sys.available_memory()).filter(|&b| b > 0)
}

/// Collects what can be read about this machine. Takes a few milliseconds on Linux (plus
/// `nvidia-smi` where installed; `system_profiler` on macOS takes longer), each external
/// command bounded by a timeout.
pub fn collect() -> SystemInfo {
    use sysinfo::{CpuRefreshKind, System};

    let mut sys = System::new();
    sys.refresh_memory();
    sys.refresh_cpu_list(CpuRefreshKind::nothing().with_frequency());
    let cpus = sys.cpus();
    let first_cpu = cpus.first();
    let non_empty = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    };

    let freq = cpufreq::read(Path::new("/sys/devices/system/cpu"));
    let sysinfo_mhz = (!cpus.is_empty())
        .then(|| cpus.iter().map(|c| c.frequency()).sum::<u64>() / cpus.len() as u64)
        .filter(|&mhz| mhz > 0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok();

    SystemInfo {
        hostname: System::host_name().and_then(|h| non_empty(&h)),
        os_name: System::name().and_then(|s| non_empty(&s)),
        os_version: System::os_version().and_then(|s| non_empty(&s)),
        os_long_version: System::long_os_version().and_then(|s| non_empty(&s)),
        kernel: System::kernel_version().and_then(|s| non_empty(&s)),
        arch: std::env::consts::ARCH.to_string(),
        cpu_model: first_cpu
            .and_then(|c| non_empty(c.brand()))
            .or_else(|| cpuinfo.as_deref().and_then(cpu_model_from_cpuinfo))
            .unwrap_or_else(|| "unknown".to_string()),
        cpu_vendor: first_cpu.and_then(|c| non_empty(c.vendor_id())),
        physical_cores: System::physical_core_count().filter(|&n| n > 0),
        logical_cores: if cpus.is_empty() {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            cpus.len()
        },
        available_parallelism: std::thread::available_parallelism().ok().map(|n| n.get()),
        cpu_freq_min_mhz: freq.min_mhz,
        cpu_freq_max_mhz: freq.max_mhz,
        cpu_freq_current_mhz: freq.current_mhz.or(sysinfo_mhz),
        cpufreq_driver: freq.driver,
        scaling_governor: freq.governor,
        boost: freq.boost,
        virtualized: cpuinfo.as_deref().and_then(hypervisor_flag),
        isa_flags: isa_flags(cpuinfo.as_deref()),
        caches: caches(),
        memory_total_bytes: Some(sys.total_memory()).filter(|&b| b > 0),
        memory_available_bytes: available_memory(),
        load_average: load_average(),
        gpus: gpu::collect(),
        wgpu_adapters: engine::gpu::adapters(),
    }
}

/// The 1, 5 and 15 minute load averages now; `None` where the platform has none (Windows)
/// or it cannot be read.
pub fn load_average() -> Option<[f64; 3]> {
    if cfg!(target_os = "linux") {
        let text = std::fs::read_to_string("/proc/loadavg").ok()?;
        return parse_loadavg(&text);
    }
    #[cfg(unix)]
    {
        let l = sysinfo::System::load_average();
        let v = [l.one, l.five, l.fifteen];
        v.iter().all(|x| x.is_finite() && *x >= 0.0).then_some(v)
    }
    #[cfg(not(unix))]
    None
}

fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Model name from `/proc/cpuinfo` where sysinfo found no brand (some ARM boards).
fn cpu_model_from_cpuinfo(cpuinfo: &str) -> Option<String> {
    ["model name", "Model", "Hardware", "cpu model", "Processor"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

/// Whether the x86 `hypervisor` CPUID bit is set, from the `flags` line of `/proc/cpuinfo`.
fn hypervisor_flag(cpuinfo: &str) -> Option<bool> {
    Some(cpuinfo_flags(Some(cpuinfo))?.any(|f| f == "hypervisor"))
}

/// The first `flags` line of `/proc/cpuinfo` (x86 Linux), split.
fn cpuinfo_flags(cpuinfo: Option<&str>) -> Option<std::str::SplitWhitespace<'_>> {
    cpuinfo?.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == "flags").then(|| v.split_whitespace())
    })
}

/// ISA extensions that matter to our kernels, by `std::arch` runtime detection (which also
/// checks that the OS saves the wider registers).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn isa_flags(cpuinfo: Option<&str>) -> Vec<String> {
    let mut flags = Vec::new();
    macro_rules! detect {
        ($($feature:tt => $name:literal),* $(,)?) => {
            $(if std::arch::is_x86_feature_detected!($feature) {
                flags.push($name.to_string());
            })*
        };
    }
    detect!(
        "sse4.2" => "sse4.2",
        "avx" => "avx",
        "avx2" => "avx2",
        "fma" => "fma",
        "f16c" => "f16c",
        "avx512f" => "avx512f",
        "avx512bw" => "avx512bw",
        "avx512vl" => "avx512vl",
        "avx512bf16" => "avx512_bf16",
        "avx512vnni" => "avx512_vnni",
        "avx512fp16" => "avx512_fp16",
        "avxvnni" => "avx_vnni",
    );
    // AMX detection in std is unstable: read the kernel's view (which also means the OS
    // supports the tile state) where there is one.
    for (kernel_flag, name) in [
        ("amx_tile", "amx"),
        ("amx_bf16", "amx_bf16"),
        ("amx_int8", "amx_int8"),
    ] {
        if cpuinfo_flags(cpuinfo).is_some_and(|mut f| f.any(|f| f == kernel_flag)) {
            flags.push(name.to_string());
        }
    }
    flags
}

#[cfg(target_arch = "aarch64")]
fn isa_flags(_cpuinfo: Option<&str>) -> Vec<String> {
    let mut flags = Vec::new();
    macro_rules! detect {
        ($($feature:tt => $name:literal),* $(,)?) => {
            $(if std::arch::is_aarch64_feature_detected!($feature) {
                flags.push($name.to_string());
            })*
        };
    }
    detect!(
        "neon" => "neon",
        "fp16" => "fp16",
        "dotprod" => "dotprod",
        "i8mm" => "i8mm",
        "bf16" => "bf16",
        "sve" => "sve",
        "sve2" => "sve2",
    );
    flags
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
fn isa_flags(_cpuinfo: Option<&str>) -> Vec<String> {
    Vec::new()
}

/// Frequencies and frequency policy from Linux cpufreq (absent in most VMs and containers).
mod cpufreq {
    use std::collections::BTreeSet;
    use std::path::Path;

    #[derive(Default)]
    pub(super) struct Freq {
        pub min_mhz: Option<u64>,
        pub max_mhz: Option<u64>,
        pub current_mhz: Option<u64>,
        pub driver: Option<String>,
        pub governor: Option<String>,
        pub boost: Option<bool>,
    }

    fn read_trimmed(path: &Path) -> Option<String> {
        let s = std::fs::read_to_string(path).ok()?;
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    }

    fn read_khz(path: &Path) -> Option<u64> {
        read_trimmed(path)?.parse().ok()
    }

    /// Reads `<cpu_root>/cpu*/cpufreq/*` (`cpu_root` is `/sys/devices/system/cpu`).
    pub(super) fn read(cpu_root: &Path) -> Freq {
        let mut out = Freq::default();
        let Ok(entries) = std::fs::read_dir(cpu_root) else {
            return out;
        };
        let mut cur_sum = 0u64;
        let mut cur_n = 0u64;
        let mut governors = BTreeSet::new();
        let mut first_policy = None;
        let mut dirs: Vec<_> = entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.strip_prefix("cpu")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|e| e.path().join("cpufreq"))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in &dirs {
            first_policy.get_or_insert_with(|| dir.clone());
            if let Some(khz) = read_khz(&dir.join("cpuinfo_min_freq")) {
                out.min_mhz = Some(out.min_mhz.map_or(khz / 1000, |m| m.min(khz / 1000)));
            }
            if let Some(khz) = read_khz(&dir.join("cpuinfo_max_freq")) {
                out.max_mhz = Some(out.max_mhz.map_or(khz / 1000, |m| m.max(khz / 1000)));
            }
            if let Some(khz) = read_khz(&dir.join("scaling_cur_freq")) {
                cur_sum += khz;
                cur_n += 1;
            }
            if let Some(g) = read_trimmed(&dir.join("scaling_governor")) {
                governors.insert(g);
            }
        }
        out.current_mhz = (cur_n > 0).then(|| cur_sum / cur_n / 1000);
        out.governor =
            (!governors.is_empty()).then(|| governors.into_iter().collect::<Vec<_>>().join(","));
        out.driver = first_policy
            .as_ref()
            .and_then(|p| read_trimmed(&p.join("scaling_driver")));
        out.boost = boost(cpu_root, first_policy.as_deref());
        out
    }

    /// Global `cpufreq/boost` (acpi-cpufreq), per-policy `boost` (amd-pstate), or
    /// `intel_pstate/no_turbo`.
    fn boost(cpu_root: &Path, policy: Option<&Path>) -> Option<bool> {
        let flag = |p: &Path| match read_trimmed(p)?.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        };
        flag(&cpu_root.join("cpufreq/boost"))
            .or_else(|| policy.and_then(|p| flag(&p.join("boost"))))
            .or_else(|| flag(&cpu_root.join("intel_pstate/no_turbo")).map(|no_turbo| !no_turbo))
    }
}

/// Caches of CPU 0: Linux sysfs, or `sysctl` on macOS.
fn caches() -> Vec<CacheInfo> {
    if cfg!(target_os = "macos") {
        return macos_caches();
    }
    linux_caches(Path::new("/sys/devices/system/cpu/cpu0/cache"))
}

fn linux_caches(dir: &Path) -> Vec<CacheInfo> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).ok();
    let mut caches: Vec<CacheInfo> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|e| {
            let p = e.path();
            Some(CacheInfo {
                level: read(&p, "level")?.trim().parse().ok()?,
                kind: read(&p, "type")?.trim().to_lowercase(),
                size_bytes: parse_size(read(&p, "size")?.trim())?,
                shared_by_cpus: read(&p, "shared_cpu_list").and_then(|s| count_cpu_list(&s)),
            })
        })
        .collect();
    caches.sort_by(|a, b| (a.level, &a.kind).cmp(&(b.level, &b.kind)));
    caches
}

fn macos_caches() -> Vec<CacheInfo> {
    [
        ("hw.l1dcachesize", 1, "data"),
        ("hw.l1icachesize", 1, "instruction"),
        ("hw.l2cachesize", 2, "unified"),
        ("hw.l3cachesize", 3, "unified"),
    ]
    .iter()
    .filter_map(|&(key, level, kind)| {
        let out = gpu::run_with_timeout("sysctl", &["-n", key], std::time::Duration::from_secs(5))?;
        let size_bytes: u64 = out.trim().parse().ok().filter(|&b: &u64| b > 0)?;
        Some(CacheInfo {
            level,
            kind: kind.to_string(),
            size_bytes,
            shared_by_cpus: None,
        })
    })
    .collect()
}

/// "32K", "2048K", "32M", "1G" or plain bytes.
fn parse_size(s: &str) -> Option<u64> {
    let (digits, mult) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (s, 1),
        Some((i, _)) => {
            let mult = match s[i..].trim().to_ascii_uppercase().as_str() {
                "K" | "KB" | "KIB" => 1 << 10,
                "M" | "MB" | "MIB" => 1 << 20,
                "G" | "GB" | "GIB" => 1 << 30,
                _ => return None,
            };
            (&s[..i], mult)
        }
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Number of CPUs in a list like "0-3,8,10-11".
fn count_cpu_list(s: &str) -> Option<usize> {
    let mut n = 0;
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                b.parse::<usize>()
                    .ok()?
                    .checked_sub(a.parse::<usize>().ok()?)?
                    + 1
            }
            None => part.parse::<usize>().map(|_| 1).ok()?,
        };
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_on_this_machine() {
        let info = collect();
        assert!(info.logical_cores >= 1);
        assert!(!info.cpu_model.trim().is_empty());
        assert!(!info.arch.is_empty());
        if let (Some(p), l) = (info.physical_cores, info.logical_cores) {
            assert!(p >= 1 && p <= l, "physical {p} logical {l}");
        }
        if let (Some(t), Some(a)) = (info.memory_total_bytes, info.memory_available_bytes) {
            assert!(a <= t);
        }
        let slug = info.machine_slug();
        assert!(!slug.is_empty());
        assert!(
            slug.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        // Round-trips through JSON unchanged.
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<SystemInfo>(&json).unwrap(), info);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_load_average_is_read() {
        let l = load_average().expect("/proc/loadavg");
        assert!(l.iter().all(|x| *x >= 0.0));
    }

    #[test]
    fn slug_rules() {
        let s = |h: &str| {
            SystemInfo {
                hostname: Some(h.to_string()),
                ..Default::default()
            }
            .machine_slug()
        };
        assert_eq!(s("Bench-Box.local"), "bench-box-local");
        assert_eq!(s("my_host  01"), "my-host-01");
        assert_eq!(s("--ÄÖÜ--host--"), "host");
        assert_eq!(s("ÄÖÜ"), "unknown");
        assert_eq!(s(""), "unknown");
        assert_eq!(SystemInfo::default().machine_slug(), "unknown");
        assert_eq!(s(&"a".repeat(100)).len(), 63);
        assert_eq!(s(&format!("{}-b", "a".repeat(62))), "a".repeat(62));
    }

    #[test]
    fn old_or_partial_json_parses() {
        let info: SystemInfo = serde_json::from_str(r#"{"hostname":"x","future_field":1}"#)
            .expect("unknown and missing fields are tolerated");
        assert_eq!(info.hostname.as_deref(), Some("x"));
        assert!(info.gpus.is_empty());
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("266240K"), Some(266240 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("12X"), None);
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(
            parse_loadavg("0.52 0.58 0.59 1/189 12345\n"),
            Some([0.52, 0.58, 0.59])
        );
        assert_eq!(parse_loadavg("garbage"), None);
        let cpuinfo =
            "processor\t: 0\nmodel name\t: Some CPU @ 3GHz\nflags\t\t: fpu sse hypervisor\n";
        assert_eq!(
            cpu_model_from_cpuinfo(cpuinfo).as_deref(),
            Some("Some CPU @ 3GHz")
        );
        assert_eq!(hypervisor_flag(cpuinfo), Some(true));
        assert_eq!(hypervisor_flag("flags : fpu sse\n"), Some(false));
        assert_eq!(hypervisor_flag("Features : neon\n"), None);
    }

    #[test]
    fn cpufreq_from_a_fake_sysfs() {
        let root = std::env::temp_dir().join(format!("graphbench-cpufreq-{}", std::process::id()));
        for (cpu, cur, gov) in [(0, "2000000", "performance"), (1, "3000000", "powersave")] {
            let d = root.join(format!("cpu{cpu}/cpufreq"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("cpuinfo_min_freq"), "400000\n").unwrap();
            std::fs::write(d.join("cpuinfo_max_freq"), "5200000\n").unwrap();
            std::fs::write(d.join("scaling_cur_freq"), cur).unwrap();
            std::fs::write(d.join("scaling_governor"), gov).unwrap();
            std::fs::write(d.join("scaling_driver"), "intel_pstate\n").unwrap();
        }
        std::fs::create_dir_all(root.join("intel_pstate")).unwrap();
        std::fs::write(root.join("intel_pstate/no_turbo"), "0\n").unwrap();
        let f = cpufreq::read(&root);
        std::fs::remove_dir_all(&root).ok();
        assert_eq!(
            (f.min_mhz, f.max_mhz, f.current_mhz),
            (Some(400), Some(5200), Some(2500))
        );
        assert_eq!(f.governor.as_deref(), Some("performance,powersave"));
        assert_eq!(f.driver.as_deref(), Some("intel_pstate"));
        assert_eq!(f.boost, Some(true));
        let none = cpufreq::read(Path::new("/nonexistent/graphbench"));
        assert!(none.min_mhz.is_none() && none.governor.is_none() && none.boost.is_none());
    }
}
