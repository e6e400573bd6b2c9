//! Ctrl-C during a run: the runner stops after the worker in flight, keeps everything it
//! measured, and says how to resume. A second Ctrl-C is not special: the first already
//! asked to stop, and the runner checks between workers (a worker has a timeout).

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: the one thing a signal handler may safely do here.
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT handler (idempotent).
pub fn watch() {
    #[cfg(unix)]
    // SAFETY: `on_sigint` is async-signal-safe (one atomic store) and lives for the whole
    // program; `signal` only replaces the process's disposition of SIGINT.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

/// Whether Ctrl-C was pressed since [`watch`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
