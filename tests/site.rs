//! `harness site` end to end: a results root with several runs of two suites on two
//! machines becomes pages that a real headless Chromium loads with no script error and with
//! every chart drawn. Without a Chromium (`/usr/bin/chromium`, or `CHROMIUM`), the browser
//! half is skipped, except under `CI=true`, where `.ci/run` installs one and a missing
//! browser fails. `SITE_SCREENSHOTS=DIR` also saves a PNG of every page there.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Project, save, text};
use harness::testing::{run, scale, sweep};

/// Suite `s`: three runs on `alpha` (the last with engine-cpu 20% slower) and one on
/// `beta`; suite `t`: one run on `alpha`; and one folder that is not a readable run.
fn fixture(p: &Project) -> Vec<(String, PathBuf)> {
    let mut runs = Vec::new();
    for (i, stamp) in ["20250101T000000Z", "20250102T000000Z", "20250103T000000Z"]
        .iter()
        .enumerate()
    {
        let mut cases = sweep(i as u64, &["engine-cpu", "reference"]);
        if i == 2 {
            for c in cases.iter_mut().filter(|c| c.subject == "engine-cpu") {
                scale(c, 1.2);
            }
        }
        runs.push(("s".to_string(), save(p, run("s", "alpha", cases), stamp)));
    }
    let beta = run("s", "beta", sweep(7, &["engine-cpu", "reference"]));
    runs.push(("s".into(), save(p, beta, "20250102T120000Z")));
    // Markup in a hostname must reach every page as text.
    let mut t = run("t", "alpha", sweep(9, &["engine-cpu"]));
    t.system.cpu_model = "<b id=\"injected\">CPU</b>".into();
    runs.push(("t".into(), save(p, t, "20250104T000000Z")));
    // A copied folder keeps the run id inside: its page must be its own.
    let copy = p.root().join("results/s/20250101T000000Z_alpha-copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(
        p.root()
            .join("results/s/20250101T000000Z_alpha/results.json"),
        copy.join("results.json"),
    )
    .unwrap();
    runs.push(("s".into(), copy));
    let broken = p.root().join("results/s/20250105T000000Z_alpha");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("results.json"), "{ truncated").unwrap();
    runs
}

/// `harness site --root results --out site` in `p`, which must succeed: (stdout, stderr).
fn build_site(p: &Project) -> (String, String) {
    let out = p.harness(&["site", "--root", "results", "--out", "site"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// The headless Chromium to load pages with, if there is one.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// Chromium with the flags a closed network and a root user need, and a fresh profile.
fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The `<body ...>` tag of `page` after its scripts ran, as Chromium serialises the DOM.
fn body_after_load(chromium: &Path, profile: &Path, page: &Path) -> String {
    let out = browser(chromium, profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = text(&out.stdout);
    let start = dom.find("<body").unwrap_or_else(|| {
        panic!(
            "{}: no <body> in the DOM:\n{dom}\n{}",
            page.display(),
            text(&out.stderr)
        )
    });
    let end = start + dom[start..].find('>').unwrap();
    dom[start..=end].to_string()
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

#[test]
fn the_site_of_several_runs_on_two_machines_loads_and_draws_in_a_browser() {
    let p = Project::new();
    let runs = fixture(&p);
    let (stdout, _) = build_site(&p);
    assert!(
        stdout.contains("6 runs of 2 suites on 3 machines"),
        "{stdout}"
    );
    let site = p.root().join("site");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    for expected in [
        "alpha (",
        "beta (",
        "s/compare.html",
        "20250105T000000Z_alpha",
    ] {
        assert!(index.contains(expected), "index lacks {expected}:\n{index}");
    }
    // (page, fewest charts it must draw): the index has none; a report has its speed-up
    // and latency charts; a history one per case group; compare one row per shared case.
    let mut pages = vec![
        (site.join("index.html"), 0),
        (site.join("s/index.html"), 2),
        (site.join("s/compare.html"), 4),
        (site.join("t/index.html"), 2),
    ];
    for (suite, dir) in &runs {
        let run_id = dir.file_name().unwrap();
        pages.push((site.join(suite).join(run_id).join("index.html"), 2));
    }
    for (page, _) in &pages {
        assert!(page.is_file(), "{} was not written", page.display());
    }
    for (page, _) in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        assert!(
            !html.contains("<b id=\"injected\">"),
            "{} carries raw markup",
            page.display()
        );
    }
    let t_report =
        std::fs::read_to_string(site.join("t/20250104T000000Z_alpha/index.html")).unwrap();
    assert!(
        t_report.contains("&lt;b id="),
        "the hostname's text is gone:\n{t_report}"
    );
    let history = std::fs::read_to_string(site.join("s/index.html")).unwrap();
    assert!(
        history.contains("slower"),
        "the 1.2x step is not flagged:\n{history}"
    );

    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but no Chromium at /usr/bin/chromium (or CHROMIUM)"
        );
        eprintln!("skipped the browser half: no Chromium at /usr/bin/chromium (or CHROMIUM)");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("SITE_SCREENSHOTS").map(PathBuf::from);
    for (page, min_charts) in &pages {
        let body = body_after_load(&chromium, profile.path(), page);
        assert_eq!(
            attribute(&body, "data-js-error"),
            None,
            "{}: {body}",
            page.display()
        );
        assert_eq!(
            attribute(&body, "data-status"),
            Some("ok"),
            "{}: {body}",
            page.display()
        );
        let charts: usize = attribute(&body, "data-charts")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}: no data-charts: {body}", page.display()));
        assert!(
            charts >= *min_charts,
            "{}: {charts} charts drawn, expected >= {min_charts}",
            page.display()
        );
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
            let rel = page
                .strip_prefix(&site)
                .unwrap()
                .to_string_lossy()
                .replace('/', "_");
            let png = dir.join(rel.replace(".html", ".png"));
            let status = browser(&chromium, profile.path())
                .arg("--window-size=1280,1400")
                .arg(format!("--screenshot={}", png.display()))
                .arg(format!("file://{}", page.display()))
                .output()
                .unwrap();
            assert!(
                png.is_file(),
                "no screenshot of {}: {}",
                page.display(),
                text(&status.stderr)
            );
        }
    }
}

/// One run whose page cannot be written (here its folder under --out is taken by a file)
/// is listed as not shown, with the reason; the other runs' pages and the index are written.
#[test]
fn a_run_whose_page_fails_is_listed_and_the_rest_of_the_site_is_written() {
    let p = Project::new();
    save(
        &p,
        run("s", "alpha", sweep(1, &["engine-cpu"])),
        "20250101T000000Z",
    );
    save(
        &p,
        run("s", "alpha", sweep(2, &["engine-cpu"])),
        "20250102T000000Z",
    );
    let blocked = p.root().join("site/s/20250102T000000Z_alpha");
    std::fs::create_dir_all(blocked.parent().unwrap()).unwrap();
    std::fs::write(&blocked, "not a folder").unwrap();
    let (stdout, stderr) = build_site(&p);
    assert!(stdout.contains("1 runs of 1 suites"), "{stdout}");
    assert!(
        stderr.contains("20250102T000000Z_alpha: page not written"),
        "{stderr}"
    );
    let site = p.root().join("site");
    assert!(site.join("s/20250101T000000Z_alpha/index.html").is_file());
    assert!(site.join("s/index.html").is_file());
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("20250102T000000Z_alpha</code>: its page could not be written"),
        "{index}"
    );
}
