//! The machine: the one-line summary at the top and the System section.

use crate::system::SystemInfo;

use super::{Row, row};
use crate::report::format;

pub(super) fn machine_line(s: &SystemInfo) -> String {
    let mut parts = vec![
        s.hostname.clone().unwrap_or_else(|| "unknown host".into()),
        s.cpu_model.clone(),
    ];
    parts.push(match s.physical_cores {
        Some(p) => format!("{p} cores / {} threads", s.logical_cores),
        None => format!("{} logical CPUs", s.logical_cores),
    });
    if let Some(m) = s.memory_total_bytes {
        parts.push(format::bytes(m));
    }
    if let Some(os) = os_text(s) {
        parts.push(os);
    }
    parts.join(", ")
}

fn os_text(s: &SystemInfo) -> Option<String> {
    match (&s.os_name, &s.os_version) {
        (Some(n), Some(v)) => Some(format!("{n} {v}")),
        (Some(n), None) => Some(n.clone()),
        _ => s.os_long_version.clone(),
    }
}

pub(super) fn system_rows(s: &SystemInfo) -> Vec<Row> {
    let unknown = || "unknown".to_string();
    let mhz = |v: Option<u64>| v.map(|m| format!("{m} MHz"));
    let mut rows = vec![
        row(
            "Host",
            s.hostname
                .clone()
                .map_or_else(unknown, |h| format!("{h} (`{}`)", s.machine_slug())),
        ),
        row("OS", os_text(s).unwrap_or_else(unknown)),
        row("Kernel", s.kernel.clone().unwrap_or_else(unknown)),
        row(
            "Architecture",
            if s.arch.is_empty() {
                unknown()
            } else {
                s.arch.clone()
            },
        ),
        row(
            "CPU",
            match &s.cpu_vendor {
                Some(v) => format!("{} ({v})", s.cpu_model),
                None => s.cpu_model.clone(),
            },
        ),
        row(
            "Cores",
            format!(
                "{} physical, {} logical{}",
                s.physical_cores.map_or_else(unknown, |p| p.to_string()),
                s.logical_cores,
                s.available_parallelism
                    .map_or(String::new(), |a| format!(", {a} available to the harness"))
            ),
        ),
    ];
    let freq: Vec<String> = [
        ("min", mhz(s.cpu_freq_min_mhz)),
        ("max", mhz(s.cpu_freq_max_mhz)),
        ("current", mhz(s.cpu_freq_current_mhz)),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some(format!("{k} {}", v?)))
    .collect();
    rows.push(row(
        "Frequency",
        if freq.is_empty() {
            "not readable".into()
        } else {
            freq.join(", ")
        },
    ));
    rows.push(row(
        "Frequency policy",
        format!(
            "driver {}, governor {}, boost {}",
            s.cpufreq_driver.clone().unwrap_or_else(unknown),
            s.scaling_governor.clone().unwrap_or_else(unknown),
            s.boost
                .map_or_else(unknown, |b| if b { "on".into() } else { "off".into() })
        ),
    ));
    rows.push(row(
        "Virtualised",
        s.virtualized
            .map_or_else(unknown, |v| if v { "yes".into() } else { "no".into() }),
    ));
    rows.push(row(
        "ISA extensions",
        if s.isa_flags.is_empty() {
            "none detected".into()
        } else {
            s.isa_flags.join(", ")
        },
    ));
    let caches: Vec<String> = s
        .caches
        .iter()
        .map(|c| {
            let kind = match c.kind.as_str() {
                "data" => "d",
                "instruction" => "i",
                _ => "",
            };
            let shared = c
                .shared_by_cpus
                .filter(|n| *n > 1)
                .map_or(String::new(), |n| format!(" (shared by {n})"));
            format!("L{}{kind} {}{shared}", c.level, format::bytes(c.size_bytes))
        })
        .collect();
    rows.push(row(
        "Caches",
        if caches.is_empty() {
            "not readable".into()
        } else {
            caches.join(", ")
        },
    ));
    rows.push(row(
        "Memory",
        match (s.memory_total_bytes, s.memory_available_bytes) {
            (Some(t), Some(a)) => format!(
                "{} total, {} available at start",
                format::bytes(t),
                format::bytes(a)
            ),
            (Some(t), None) => format!("{} total", format::bytes(t)),
            _ => unknown(),
        },
    ));
    rows.push(row(
        "Load average at start",
        s.load_average.map_or_else(unknown, |l| {
            format!("{:.2}, {:.2}, {:.2} (1, 5, 15 min)", l[0], l[1], l[2])
        }),
    ));
    if s.gpus.is_empty() {
        rows.push(row("GPU", "none found"));
    }
    for (i, g) in s.gpus.iter().enumerate() {
        let mut extra: Vec<String> = Vec::new();
        extra.extend(g.vendor.clone());
        extra.extend(g.driver.clone().map(|d| format!("driver {d}")));
        extra.extend(g.memory_bytes.map(format::bytes));
        extra.extend(g.pci_id.clone().map(|id| format!("PCI {id}")));
        let label = if s.gpus.len() > 1 {
            format!("GPU {i}")
        } else {
            "GPU".into()
        };
        rows.push(row(
            &label,
            if extra.is_empty() {
                g.name.clone()
            } else {
                format!("{} ({})", g.name, extra.join(", "))
            },
        ));
    }
    if s.wgpu_adapters.is_empty() {
        rows.push(row("wgpu adapters", "none found"));
    }
    for (i, a) in s.wgpu_adapters.iter().enumerate() {
        let software = if a.is_software() {
            " — software adapter: these are not GPU numbers"
        } else {
            ""
        };
        rows.push(row(
            &format!("wgpu adapter {i}"),
            format!(
                "{} [{:04x}:{:04x}]{software}",
                a.describe(),
                a.vendor_id,
                a.device_id
            ),
        ));
    }
    rows
}
