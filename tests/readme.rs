//! README.md's pasted output cannot drift.
//!
//! - Every code block right after a line `<!-- output checked by tests/readme.rs -->` starts
//!   with `$ harness ARGS`; this test runs that command in the project root, and every later
//!   line of the block must be a line of what it printed (stderr, then stdout), in order.
//! - Every table or code block right after `<!-- lines of FILE, checked by tests/readme.rs -->`
//!   holds only lines of FILE (a committed report), in FILE's order, any left out between.
//!
//! A line `...` stands for lines left out, and `…` inside a line for text that differs
//! between machines.

use std::path::Path;
use std::process::Command;

/// Opens a checked block; `<!-- output checked by tests/readme.rs, exit N -->` expects exit
/// code N instead of 0.
const MARKER: &str = "<!-- output checked by tests/readme.rs";
const LINES_OF: (&str, &str) = ("<!-- lines of ", ", checked by tests/readme.rs -->");

/// A checked block: the command's arguments, its exit code and the lines it prints.
struct Checked {
    args: Vec<String>,
    exit: i32,
    expected: Vec<String>,
}

/// The checked blocks of `readme`.
fn checked_blocks(readme: &str) -> Vec<Checked> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix(MARKER) else {
            continue;
        };
        let exit = match rest.strip_suffix("-->").map(str::trim) {
            Some("") => 0,
            Some(code) => code
                .strip_prefix(", exit ")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("`{line}`: expected `, exit N -->` after the marker")),
            None => panic!("`{line}`: the marker must end with `-->`"),
        };
        assert_eq!(
            lines.next(),
            Some("```"),
            "`{line}` must precede a ``` block"
        );
        let command = lines.next().expect("a command line");
        let args = command
            .strip_prefix("$ harness ")
            .unwrap_or_else(|| panic!("a checked block starts with `$ harness`, not `{command}`"));
        let expected: Vec<String> = lines
            .by_ref()
            .take_while(|l| *l != "```")
            .map(str::to_string)
            .collect();
        blocks.push(Checked {
            args: args.split_whitespace().map(str::to_string).collect(),
            exit,
            expected,
        });
    }
    blocks
}

/// The quoted blocks of `readme`: (the file quoted, the lines quoted), without fences.
fn quoted_blocks(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(file) = line
            .trim()
            .strip_prefix(LINES_OF.0)
            .and_then(|rest| rest.strip_suffix(LINES_OF.1))
        else {
            continue;
        };
        let fenced = lines.peek() == Some(&"```");
        if fenced {
            lines.next();
        }
        let quoted: Vec<String> = lines
            .by_ref()
            .take_while(|l| {
                if fenced {
                    *l != "```"
                } else {
                    !l.trim().is_empty()
                }
            })
            .map(str::to_string)
            .collect();
        blocks.push((file.to_string(), quoted));
    }
    blocks
}

/// Whether `line` matches `pattern`, where each `…` in the pattern matches any text.
fn matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The expected lines that `output` does not have where they are expected: each right after
/// the one before (the first at the start), or anywhere later after a `...` line.
fn missing(expected: &[String], output: &str) -> Vec<String> {
    let out: Vec<&str> = output.lines().collect();
    let mut at = 0;
    let mut skip = false;
    let mut missing = Vec::new();
    for e in expected {
        if e.trim() == "..." {
            skip = true;
            continue;
        }
        let found = if skip {
            out[at..].iter().position(|l| matches(e, l))
        } else {
            out.get(at).filter(|l| matches(e, l)).map(|_| 0)
        };
        match found {
            Some(i) => at += i + 1,
            None => missing.push(e.clone()),
        }
        skip = false;
    }
    missing
}

#[test]
fn the_patterns_match_what_they_should_and_nothing_else() {
    assert!(matches("has … of memory", "has 23.1 GiB of memory"));
    assert!(!matches("has … of memory", "has 23.1 GiB of disk"));
    assert!(matches("exact", "exact") && !matches("exact", "exact plus"));
    let expected = ["a".to_string(), "...".to_string(), "c".to_string()];
    assert!(missing(&expected, "a\nb\nc\n").is_empty());
    assert_eq!(
        missing(&expected, "c\na\n"),
        vec!["a".to_string()],
        "the first line starts the output"
    );
    // Without `...`, a line the command added in between is drift.
    let strict = ["a".to_string(), "c".to_string()];
    assert_eq!(missing(&strict, "a\nb\nc\n"), vec!["c".to_string()]);
}

#[test]
fn readme_output_is_what_the_commands_print() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = checked_blocks(&readme);
    assert!(
        blocks.len() >= 2,
        "expected the checked blocks, found {}",
        blocks.len()
    );
    for Checked {
        args,
        exit,
        expected,
    } in blocks
    {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(&args)
            .current_dir(root)
            .env("GRAPHBENCH_ROOT", root)
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(
            out.status.code(),
            Some(exit),
            "README.md: `harness {}` should exit {exit}; it printed:\n{printed}",
            args.join(" ")
        );
        let missing = missing(&expected, &printed);
        assert!(
            missing.is_empty(),
            "README.md: `harness {}` no longer prints:\n{}\n\nit printed:\n{printed}",
            args.join(" "),
            missing.join("\n")
        );
    }
}

#[test]
fn readme_quotes_of_committed_reports_are_lines_of_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = quoted_blocks(&readme);
    assert!(!blocks.is_empty(), "expected a quoted report in README.md");
    for (file, quoted) in blocks {
        let text = std::fs::read_to_string(root.join(&file))
            .unwrap_or_else(|e| panic!("README.md quotes {file}: {e}"));
        // A quote may pick lines (the batch-1 rows): each may follow any gap.
        let gapped: Vec<String> = quoted
            .iter()
            .flat_map(|l| ["...".to_string(), l.clone()])
            .collect();
        let missing = missing(&gapped, &text);
        assert!(
            missing.is_empty(),
            "README.md quotes lines that {file} does not have:\n{}",
            missing.join("\n")
        );
    }
}
