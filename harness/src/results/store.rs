//! Where runs live on disk: one new folder per run, `results.json` rewritten atomically after
//! every finished worker, so a run killed half-way keeps every finished case.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::NamedTempFile;

use super::{RunResults, SCHEMA_VERSION};

/// Creates `root/<suite>/<stamp>_<machine>[-N]`; never reuses an existing folder.
pub fn create_run_dir(root: &Path, suite: &str, stamp: &str, machine: &str) -> Result<PathBuf> {
    let parent = root.join(suite);
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let base = format!("{stamp}_{machine}");
    for n in 1.. {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    unreachable!("the loop returns or errors")
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then
/// renamed over it: readers see the old file or the new one, never a partial one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path, "")?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// A hidden temporary file in `path`'s folder (so a rename onto `path` is atomic), named
/// `.<name>.<random><suffix>`; removed on drop unless persisted. It gets the permissions
/// `File::create` would (0666 less the umask), not tempfile's owner-only default, because
/// it becomes a report or results file that others read.
pub fn temp_beside(path: &Path, suffix: &str) -> Result<NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?
        .to_string_lossy();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))
}

pub fn save(dir: &Path, results: &RunResults) -> Result<()> {
    let json = serde_json::to_vec_pretty(results)?;
    write_atomic(&dir.join("results.json"), &json)
}

/// Loads a run from its folder or its `results.json`, for reading: an interrupted run's
/// cases count with the rounds they finished ([`super::settle_interrupted`]).
pub fn load(path: &Path) -> Result<RunResults> {
    let mut run = load_stored(path)?;
    super::settle_interrupted(&mut run);
    Ok(run)
}

/// Loads a run exactly as stored (an interrupted run's unfinished cases stay `pending`):
/// what `--resume` continues from.
pub fn load_stored(path: &Path) -> Result<RunResults> {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON (truncated or corrupt?)", file.display()))?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == SCHEMA_VERSION as u64 => {}
        Some(v) => bail!(
            "{}: schema_version {v} is not supported by this harness (it reads version {SCHEMA_VERSION})",
            file.display()
        ),
        None => bail!(
            "{}: no schema_version: not a graphbench results file",
            file.display()
        ),
    }
    serde_json::from_value(value).with_context(|| {
        format!(
            "{}: does not match results schema {SCHEMA_VERSION}",
            file.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::File::create(&plain).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(
                mode(&path),
                mode(&plain),
                "same permissions as File::create"
            );
        }
    }

    mod hostile {
        //! Whatever bytes a results.json holds, `load` gives a run or an error naming the
        //! file: never a panic, never a hang.
        use super::*;
        use crate::testing::{Synth, run};
        use proptest::prelude::*;

        fn valid() -> Vec<u8> {
            let r = run("s", "box", vec![Synth::new("x", "engine-cpu").case()]);
            serde_json::to_vec_pretty(&r).unwrap()
        }

        fn load_bytes(bytes: &[u8]) -> Result<RunResults> {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("results.json");
            std::fs::write(&path, bytes).unwrap();
            let out = load(dir.path());
            if let Err(e) = &out {
                assert!(format!("{e:#}").contains("results.json"), "{e:#}");
            }
            out
        }

        #[test]
        fn the_valid_file_loads_and_schema_versions_are_checked() {
            assert!(load_bytes(&valid()).is_ok());
            let text = String::from_utf8(valid()).unwrap();
            let field = format!("\"schema_version\": {SCHEMA_VERSION}");
            assert!(text.contains(&field));
            for other in ["0", "999", "-1", "1e400", "\"2\"", "null"] {
                let e = load_bytes(
                    text.replace(&field, &format!("\"schema_version\": {other}"))
                        .as_bytes(),
                )
                .unwrap_err();
                let e = format!("{e:#}");
                assert!(
                    e.contains("schema_version") || e.contains("not valid JSON"),
                    "{other}: {e}"
                );
            }
        }

        #[test]
        fn deep_nesting_is_an_error_not_a_stack_overflow() {
            let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            assert!(load_bytes(deep.as_bytes()).is_err());
            let text = String::from_utf8(valid()).unwrap();
            let nested = text.replacen(
                "\"cases\": [",
                &format!("\"cases\": [{}", "[".repeat(50_000)),
                1,
            );
            assert!(load_bytes(nested.as_bytes()).is_err());
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            #[test]
            fn truncated_files_are_errors(cut in 0usize..4000) {
                let bytes = valid();
                let cut = cut.min(bytes.len() - 1);
                prop_assert!(load_bytes(&bytes[..cut]).is_err());
            }

            #[test]
            fn any_value_replaced_is_a_run_or_an_error(
                at in 0usize..400,
                v in prop_oneof![
                    Just("null"), Just("-1"), Just("1e400"), Just("-1e400"), Just("18446744073709551616"),
                    Just("\"x\""), Just("[]"), Just("{}"), Just("true"), Just("0.5"),
                ],
            ) {
                let text = String::from_utf8(valid()).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                let with_values: Vec<usize> = (0..lines.len())
                    .filter(|&i| lines[i].contains("\": ") && !lines[i].trim_end().ends_with(['{', '[']))
                    .collect();
                let i = with_values[at % with_values.len()];
                let (key, _) = lines[i].split_once("\": ").unwrap();
                let comma = if lines[i].trim_end().ends_with(',') { "," } else { "" };
                let mut out = lines.clone();
                let replaced = format!("{key}\": {v}{comma}");
                out[i] = &replaced;
                if let Ok(run) = load_bytes(out.join("\n").as_bytes()) {
                    // What loads must be usable by every reader.
                    let _ = crate::report::markdown::render(&run);
                }
            }

            #[test]
            fn arbitrary_bytes_are_errors(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
                let _ = load_bytes(&bytes);
            }
        }
    }
}
