//! The malformed-suite corpus (tests/malformed/*.toml): every file must fail before anything
//! runs, with exit code 2 and a message naming the file (and line where the parser knows it)
//! and the key. Each file's first line, `# expect: A | B | ...`, lists what the message must
//! contain.

mod common;

use std::path::PathBuf;

use common::{Project, text};

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/malformed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_malformed_suite_is_refused_with_file_and_key() {
    let files = corpus();
    assert!(files.len() >= 30, "the corpus has {} suites", files.len());
    let p = Project::new();
    let mut failures = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let name = format!("bad_{stem}");
        let body = std::fs::read_to_string(file).unwrap();
        let expect: Vec<&str> = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: ...`", file.display()))
            .split(" | ")
            .collect();
        p.write(&format!("suites/{name}.toml"), &body);
        let out = p.harness(&["suite", &name, "--profile", "test"]);
        let err = text(&out.stderr);
        let missing: Vec<&&str> = expect.iter().filter(|e| !err.contains(**e)).collect();
        if out.status.code() != Some(2) || !missing.is_empty() {
            failures.push(format!(
                "{stem}: exit {:?}, missing {missing:?} in:\n{err}",
                out.status.code()
            ));
        }
        assert!(
            !err.contains("panicked") && !err.contains("memory allocation"),
            "{stem}: {err}"
        );
    }
    assert!(
        !p.root().join("results").exists(),
        "nothing may run for a bad suite"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
