//! The parent side: spawn a worker, hand it the job, collect its messages, enforce the
//! timeout, and turn a crash into a recorded failure instead of a lost run.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::protocol::{Job, Message};

/// Everything a worker sent, and why it failed if it did.
#[derive(Debug, Default)]
pub struct WorkerOutcome {
    pub messages: Vec<Message>,
    pub failure: Option<String>,
}

/// Keep this much of a worker's stderr for the failure message.
const STDERR_TAIL: usize = 2000;

pub fn run_worker(job: &Job, timeout: Duration) -> WorkerOutcome {
    let mut outcome = WorkerOutcome::default();
    let exe = match worker_executable() {
        Ok(exe) => exe,
        Err(e) => {
            outcome.failure = Some(format!("cannot find the harness executable: {e}"));
            return outcome;
        }
    };
    let spawned = Command::new(exe)
        .arg("worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            outcome.failure = Some(format!("cannot start a worker: {e}"));
            return outcome;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let job_json = serde_json::to_vec(job).expect("a job always serialises");
        // A worker that exits before reading its job is reported through its exit status.
        let _ = stdin.write_all(&job_json);
    }

    let (lines_tx, lines_rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("stdout is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        let start = text.len().saturating_sub(STDERR_TAIL);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].trim().to_string()
    });

    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(left) {
            Ok(line) => match serde_json::from_str::<Message>(&line) {
                Ok(Message::Error { stage, message }) => {
                    outcome.failure = Some(format!("{stage}: {message}"));
                }
                Ok(message) => outcome.messages.push(message),
                Err(e) => {
                    let _ = child.kill();
                    outcome.failure = Some(format!(
                        "worker protocol violation ({e}): {}",
                        line.chars().take(200).collect::<String>()
                    ));
                    break;
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                outcome.failure = Some(format!("timed out after {:.1} s", timeout.as_secs_f64()));
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child.wait();
    let stderr_tail = stderr_thread.join().unwrap_or_default();
    if outcome.failure.is_none() {
        match status {
            Ok(s) if s.success() => {
                if !matches!(outcome.messages.last(), Some(Message::Done { .. })) {
                    outcome.failure =
                        Some("worker exited without finishing its measurement".into());
                }
            }
            Ok(s) => outcome.failure = Some(crash_message(s, &stderr_tail)),
            Err(e) => outcome.failure = Some(format!("cannot wait for the worker: {e}")),
        }
    }
    outcome
}

/// This very binary. On Linux `/proc/self/exe` still names it after a rebuild replaced the
/// file on disk, so a long run never mixes workers of two builds.
fn worker_executable() -> std::io::Result<std::path::PathBuf> {
    let proc_exe = std::path::Path::new("/proc/self/exe");
    if proc_exe.exists() {
        Ok(proc_exe.to_path_buf())
    } else {
        std::env::current_exe()
    }
}

fn crash_message(status: std::process::ExitStatus, stderr: &str) -> String {
    #[cfg(unix)]
    let how = {
        use std::os::unix::process::ExitStatusExt;
        match status.signal() {
            Some(sig) => format!("killed by signal {sig}"),
            None => format!("exit code {}", status.code().unwrap_or(-1)),
        }
    };
    #[cfg(not(unix))]
    let how = format!("exit code {}", status.code().unwrap_or(-1));
    if stderr.is_empty() {
        format!("worker crashed ({how})")
    } else {
        format!("worker crashed ({how}): {stderr}")
    }
}
