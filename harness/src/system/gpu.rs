//! GPUs of this machine: Linux DRM cards (`/sys/class/drm/card*`), NVIDIA's `nvidia-smi`, and
//! macOS `system_profiler`. Like the rest of [`super`], nothing here fails: what cannot be
//! found is left out.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One GPU (or display adapter) of the machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GpuInfo {
    pub name: String,
    pub vendor: Option<String>,
    /// Kernel driver and, where known, its version (e.g. "nvidia 550.54.15", "amdgpu").
    pub driver: Option<String>,
    /// Dedicated memory; `None` for shared-memory GPUs and where unreadable.
    pub memory_bytes: Option<u64>,
    /// PCI `vendor:device` ids, where known (e.g. "10de:2330").
    pub pci_id: Option<String>,
    /// Where it was found: "drm", "nvidia-smi" or "system_profiler".
    pub source: String,
}

pub(super) fn collect() -> Vec<GpuInfo> {
    if cfg!(target_os = "macos") {
        return run_with_timeout(
            "system_profiler",
            &["SPDisplaysDataType", "-json"],
            Duration::from_secs(20),
        )
        .map(|json| parse_system_profiler(&json))
        .unwrap_or_default();
    }
    let mut gpus = if cfg!(target_os = "linux") {
        drm_cards(Path::new("/sys/class/drm"), pci_ids().as_deref())
    } else {
        Vec::new()
    };
    if let Some(out) = run_with_timeout(
        "nvidia-smi",
        &[
            "--query-gpu=name,driver_version,memory.total",
            "--format=csv,noheader",
        ],
        Duration::from_secs(10),
    ) {
        merge_nvidia(&mut gpus, parse_nvidia_smi(&out));
    }
    gpus
}

/// `/sys/class/drm/cardN` entries (not their connectors such as `card0-HDMI-A-1`).
fn drm_cards(drm: &Path, pci_ids: Option<&str>) -> Vec<GpuInfo> {
    let Ok(entries) = std::fs::read_dir(drm) else {
        return Vec::new();
    };
    let mut cards: Vec<(u32, GpuInfo)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let index: u32 = name.strip_prefix("card")?.parse().ok()?;
            let device = e.path().join("device");
            let read_hex = |f: &str| {
                let s = std::fs::read_to_string(device.join(f)).ok()?;
                let s = s.trim().trim_start_matches("0x").to_ascii_lowercase();
                u16::from_str_radix(&s, 16).ok().map(|_| s)
            };
            let vendor_id = read_hex("vendor")?;
            let device_id = read_hex("device");
            let driver = std::fs::read_link(device.join("driver"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            let memory_bytes = std::fs::read_to_string(device.join("mem_info_vram_total"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .filter(|&b: &u64| b > 0);
            let (vendor_name, device_name) = match (pci_ids, &device_id) {
                (Some(ids), Some(dev)) => lookup_pci(ids, &vendor_id, dev),
                _ => (None, None),
            };
            let vendor = vendor_name.or_else(|| vendor_from_id(&vendor_id).map(str::to_string));
            let pci_id = device_id.map(|d| format!("{vendor_id}:{d}"));
            let name = device_name.unwrap_or_else(|| {
                format!(
                    "{} GPU{}",
                    vendor.as_deref().unwrap_or("unknown"),
                    pci_id
                        .as_deref()
                        .map(|id| format!(" [{id}]"))
                        .unwrap_or_default()
                )
            });
            Some((
                index,
                GpuInfo {
                    name,
                    vendor,
                    driver,
                    memory_bytes,
                    pci_id,
                    source: "drm".to_string(),
                },
            ))
        })
        .collect();
    cards.sort_by_key(|(i, _)| *i);
    cards.into_iter().map(|(_, g)| g).collect()
}

fn pci_ids() -> Option<String> {
    [
        "/usr/share/hwdata/pci.ids",
        "/usr/share/misc/pci.ids",
        "/usr/share/pci.ids",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
}

/// Vendor and device names from a `pci.ids` database.
fn lookup_pci(ids: &str, vendor: &str, device: &str) -> (Option<String>, Option<String>) {
    let mut vendor_name = None;
    for line in ids.lines() {
        if vendor_name.is_none() {
            if let Some(rest) = line.strip_prefix(vendor).filter(|r| r.starts_with("  ")) {
                vendor_name = Some(rest.trim().to_string());
            }
        } else if let Some(dev_line) = line.strip_prefix('\t') {
            if dev_line.starts_with('\t') {
                continue; // subsystem
            }
            if let Some(rest) = dev_line
                .strip_prefix(device)
                .filter(|r| r.starts_with("  "))
            {
                return (vendor_name, Some(rest.trim().to_string()));
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            break; // next vendor
        }
    }
    (vendor_name, None)
}

fn vendor_from_id(id: &str) -> Option<&'static str> {
    Some(match id {
        "10de" => "NVIDIA",
        "1002" => "AMD",
        "8086" => "Intel",
        "106b" => "Apple",
        "13b5" => "ARM",
        "5143" => "Qualcomm",
        "1af4" => "Red Hat (virtio)",
        "1234" => "QEMU",
        "15ad" => "VMware",
        "1414" => "Microsoft",
        "1a03" => "ASPEED",
        "102b" => "Matrox",
        _ => return None,
    })
}

/// Lines of `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader`,
/// e.g. `NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB`.
fn parse_nvidia_smi(out: &str) -> Vec<GpuInfo> {
    out.lines()
        .filter_map(|line| {
            let mut f = line.rsplitn(3, ',').map(str::trim);
            let memory = f.next()?;
            let driver = f.next()?;
            let name = f.next()?;
            if name.is_empty() {
                return None;
            }
            let memory_bytes = memory
                .strip_suffix("MiB")
                .and_then(|m| m.trim().parse::<u64>().ok())
                .map(|mib| mib << 20);
            let known = |s: &str| !s.is_empty() && !s.starts_with('[');
            Some(GpuInfo {
                name: name.to_string(),
                vendor: Some("NVIDIA".to_string()),
                driver: Some(if known(driver) {
                    format!("nvidia {driver}")
                } else {
                    "nvidia".into()
                }),
                memory_bytes,
                pci_id: None,
                source: "nvidia-smi".to_string(),
            })
        })
        .collect()
}

/// nvidia-smi knows names, driver versions and memory better than sysfs: it replaces the
/// NVIDIA DRM cards in order (keeping their PCI ids); any further GPUs are appended (compute
/// GPUs without a DRM node).
fn merge_nvidia(gpus: &mut Vec<GpuInfo>, nvidia: Vec<GpuInfo>) {
    let mut drm_nvidia = gpus.iter_mut().filter(|g| {
        g.pci_id
            .as_deref()
            .is_some_and(|id| id.starts_with("10de:"))
    });
    let mut extra = Vec::new();
    for n in nvidia {
        match drm_nvidia.next() {
            Some(slot) => {
                let pci_id = slot.pci_id.take();
                *slot = GpuInfo { pci_id, ..n };
            }
            None => extra.push(n),
        }
    }
    gpus.extend(extra);
}

/// `system_profiler SPDisplaysDataType -json` (macOS).
fn parse_system_profiler(json: &str) -> Vec<GpuInfo> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let Some(items) = v.get("SPDisplaysDataType").and_then(|d| d.as_array()) else {
        return Vec::new();
    };
    fn text<'a>(item: &'a serde_json::Value, key: &str) -> Option<&'a str> {
        item.get(key)
            .and_then(|x| x.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
    items
        .iter()
        .filter_map(|item| {
            let name = text(item, "sppci_model").or_else(|| text(item, "_name"))?;
            let vendor = text(item, "spdisplays_vendor").map(|v| {
                let v = v.strip_prefix("sppci_vendor_").unwrap_or(v);
                v.split(" (").next().unwrap_or(v).to_string()
            });
            let driver = text(item, "spdisplays_mtlgpufamilysupport").map(|m| {
                let m = m.strip_prefix("spdisplays_").unwrap_or(m);
                match m.strip_prefix("metal") {
                    Some(ver) if !ver.is_empty() => format!("Metal {ver}"),
                    _ => m.to_string(),
                }
            });
            let memory_bytes = text(item, "spdisplays_vram")
                .or_else(|| text(item, "_spdisplays_vram"))
                .and_then(parse_vram);
            Some(GpuInfo {
                name: name.to_string(),
                vendor,
                driver,
                memory_bytes,
                pci_id: None,
                source: "system_profiler".to_string(),
            })
        })
        .collect()
}

/// "8 GB", "1536 MB".
fn parse_vram(s: &str) -> Option<u64> {
    let (n, unit) = s.split_once(' ')?;
    let n: u64 = n.trim().parse().ok()?;
    match unit.trim() {
        "GB" => n.checked_mul(1 << 30),
        "MB" => n.checked_mul(1 << 20),
        _ => None,
    }
}

/// Runs `program args`, returning its stdout if it exits successfully within `timeout`;
/// `None` if it is missing, fails, or hangs (then it is killed).
pub(super) fn run_with_timeout(program: &str, args: &[&str], timeout: Duration) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    // Read on another thread so a chatty child never blocks on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).ok().map(|_| buf)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = reader.join().ok().flatten();
    match status {
        Some(s) if s.success() => out.map(|b| String::from_utf8_lossy(&b).into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_lines() {
        let out = "NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\nTesla T4, [N/A], [N/A]\n\n";
        let gpus = parse_nvidia_smi(out);
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(gpus[0].driver.as_deref(), Some("nvidia 550.54.15"));
        assert_eq!(gpus[0].memory_bytes, Some(81559 << 20));
        assert_eq!(gpus[1].driver.as_deref(), Some("nvidia"));
        assert_eq!(gpus[1].memory_bytes, None);
    }

    #[test]
    fn nvidia_replaces_drm_cards_in_order() {
        let drm = |id: &str| GpuInfo {
            name: "x".into(),
            pci_id: Some(id.into()),
            source: "drm".into(),
            ..Default::default()
        };
        let mut gpus = vec![drm("1a03:2000"), drm("10de:2330")];
        let smi = parse_nvidia_smi("A, 1, 10 MiB\nB, 1, 20 MiB\n");
        merge_nvidia(&mut gpus, smi);
        let names: Vec<_> = gpus.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["x", "A", "B"]);
        assert_eq!(gpus[1].pci_id.as_deref(), Some("10de:2330"));
    }

    #[test]
    fn system_profiler_json() {
        let json = r#"{"SPDisplaysDataType":[
            {"_name":"Apple M1 Pro","sppci_model":"Apple M1 Pro","sppci_cores":"16",
             "spdisplays_vendor":"sppci_vendor_Apple","spdisplays_mtlgpufamilysupport":"spdisplays_metal3"},
            {"_name":"Radeon","sppci_model":"AMD Radeon Pro 5500M","spdisplays_vram":"8 GB",
             "spdisplays_vendor":"sppci_vendor_amd (0x1002)"}]}"#;
        let gpus = parse_system_profiler(json);
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].name, "Apple M1 Pro");
        assert_eq!(gpus[0].vendor.as_deref(), Some("Apple"));
        assert_eq!(gpus[0].driver.as_deref(), Some("Metal 3"));
        assert_eq!(gpus[1].memory_bytes, Some(8 << 30));
        assert_eq!(gpus[1].vendor.as_deref(), Some("amd"));
        assert!(parse_system_profiler("not json").is_empty());
    }

    #[test]
    fn pci_ids_lookup() {
        let ids = "# comment\n10de  NVIDIA Corporation\n\t2330  GH100 [H100 SXM5 80GB]\n\t\t10de 16c1  sub\n\t2331  GH100 [H100 PCIe]\n10df  Emulex\n\t2331  other\n";
        assert_eq!(
            lookup_pci(ids, "10de", "2331"),
            (
                Some("NVIDIA Corporation".into()),
                Some("GH100 [H100 PCIe]".into())
            )
        );
        assert_eq!(
            lookup_pci(ids, "10de", "9999"),
            (Some("NVIDIA Corporation".into()), None)
        );
        assert_eq!(lookup_pci(ids, "abcd", "2331"), (None, None));
    }

    #[test]
    fn fake_drm_tree() {
        let root = std::env::temp_dir().join(format!("graphbench-drm-{}", std::process::id()));
        let dev = root.join("devices/0000:01:00.0");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(dev.join("vendor"), "0x1002\n").unwrap();
        std::fs::write(dev.join("device"), "0x73bf\n").unwrap();
        std::fs::write(dev.join("mem_info_vram_total"), "17163091968\n").unwrap();
        let drm = root.join("drm");
        std::fs::create_dir_all(drm.join("card1")).unwrap();
        std::fs::create_dir_all(drm.join("card1-DP-1")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dev, drm.join("card1/device")).unwrap();
        let gpus = drm_cards(&drm, None);
        std::fs::remove_dir_all(&root).ok();
        if cfg!(unix) {
            assert_eq!(gpus.len(), 1);
            assert_eq!(gpus[0].name, "AMD GPU [1002:73bf]");
            assert_eq!(gpus[0].memory_bytes, Some(17163091968));
            assert_eq!(gpus[0].driver, None);
        }
        assert!(drm_cards(Path::new("/nonexistent/graphbench"), None).is_empty());
    }

    #[test]
    fn missing_program_is_none() {
        assert_eq!(
            run_with_timeout("graphbench-no-such-program", &[], Duration::from_secs(1)),
            None
        );
    }

    #[cfg(unix)]
    #[test]
    fn hanging_program_is_killed() {
        let t = Instant::now();
        assert_eq!(
            run_with_timeout("sleep", &["5"], Duration::from_millis(200)),
            None
        );
        assert!(t.elapsed() < Duration::from_secs(4));
    }
}
