//! Progress on long runs: how many evals are done, passed and failed, and how many judge calls are
//! in flight. On a terminal, a live line on stderr, redrawn in place and cleared whenever libtest
//! is about to print; elsewhere (CI, a file), a plain line every [`PLAIN_EVERY`], once the run has
//! lasted [`QUIET_START`]. Short runs print nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::report::printer;
use crate::settings::modes::ProgressMode;

/// Nothing is shown before a run has lasted this long.
const QUIET_START: Duration = Duration::from_secs(3);
/// How often the live line is redrawn.
const LIVE_EVERY: Duration = Duration::from_millis(250);
/// How long the live line stays off after an eval finished, while libtest prints its line.
const HOLD_OFF: Duration = Duration::from_millis(150);
/// How often a plain line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// What `Auto` means here, for a run of `total` evals. `--quiet` keeps quiet as libtest does;
/// `--color never` forbids the escape codes of a live line.
fn resolve(mode: ProgressMode, total: usize) -> ProgressMode {
    match mode {
        ProgressMode::Auto if total < 2 || std::env::var_os("NEXTEST_RUN_ID").is_some() || printer::quiet() => {
            ProgressMode::Off
        }
        ProgressMode::Auto | ProgressMode::Live if !printer::live_line_allowed() => ProgressMode::Plain,
        ProgressMode::Auto if std::env::var_os("CI").is_some() || !std::io::stderr().is_terminal() => {
            ProgressMode::Plain
        }
        ProgressMode::Auto => ProgressMode::Live,
        mode => mode,
    }
}

/// The run's counts, updated by the trials and read by the drawing thread.
#[derive(Debug)]
struct Counts {
    total: usize,
    passed: AtomicUsize,
    failed: AtomicUsize,
    screen: Mutex<Screen>,
    wake: Condvar,
}

/// What the drawing thread needs to know, under one lock.
#[derive(Debug, Default)]
struct Screen {
    /// Whether the live line is on screen now.
    drawn: bool,
    /// No redraw before this: libtest is about to print an eval's line.
    quiet_until: Option<Instant>,
    stop: bool,
}

/// Shows the run's progress until dropped.
#[derive(Debug)]
pub(crate) struct Progress {
    counts: Arc<Counts>,
    mode: ProgressMode,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts showing the progress of `total` evals run on `threads` test threads; `in_flight`
    /// counts the judge calls in flight. With one thread libtest prints each eval's name before
    /// running it, which a live line would erase: it gets plain lines.
    pub fn start(
        mode: ProgressMode,
        total: usize,
        threads: usize,
        in_flight: impl Fn() -> usize + Send + 'static,
    ) -> Self {
        let mode = match resolve(mode, total) {
            ProgressMode::Live if threads <= 1 => ProgressMode::Plain,
            mode => mode,
        };
        let counts = Arc::new(Counts {
            total,
            passed: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            screen: Mutex::default(),
            wake: Condvar::new(),
        });
        let thread = (mode != ProgressMode::Off).then(|| {
            let counts = Arc::clone(&counts);
            std::thread::Builder::new()
                .name("judge-progress".into())
                .spawn(move || draw_until_stopped(&counts, mode, in_flight))
                .expect("spawn the progress thread")
        });
        Self { counts, mode, thread }
    }

    /// An eval finished; libtest prints its line next, so the live line is cleared first and not
    /// redrawn for a moment.
    pub fn finished(&self, passed: bool) {
        let counter = if passed { &self.counts.passed } else { &self.counts.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        if self.mode == ProgressMode::Live {
            let mut screen = lock(&self.counts);
            clear(&mut screen);
            screen.quiet_until = Some(Instant::now() + HOLD_OFF);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        lock(&self.counts).stop = true;
        self.counts.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        clear(&mut lock(&self.counts));
    }
}

fn lock(counts: &Counts) -> std::sync::MutexGuard<'_, Screen> {
    counts.screen.lock().unwrap_or_else(|e| e.into_inner())
}

/// The progress text: `judge: 12/200 evals done (11 passed, 1 failed); 16 calls in flight; 3 s`.
fn line(counts: &Counts, in_flight: usize, elapsed: Duration) -> String {
    let (passed, failed) = (counts.passed.load(Ordering::Relaxed), counts.failed.load(Ordering::Relaxed));
    format!(
        "judge: {}/{} evals done ({passed} passed, {failed} failed); {in_flight} judge calls in flight; {:.0} s",
        passed + failed,
        counts.total,
        elapsed.as_secs_f64()
    )
}

fn draw_until_stopped(counts: &Counts, mode: ProgressMode, in_flight: impl Fn() -> usize) {
    let start = Instant::now();
    let every = if mode == ProgressMode::Live { LIVE_EVERY } else { PLAIN_EVERY };
    let mut next = start + QUIET_START;
    loop {
        let mut screen = lock(counts);
        let wait = next.saturating_duration_since(Instant::now());
        screen = counts
            .wake
            .wait_timeout_while(screen, wait, |screen| !screen.stop && Instant::now() < next)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if screen.stop {
            return;
        }
        if let Some(until) = screen.quiet_until.filter(|until| *until > Instant::now()) {
            next = until;
            continue;
        }
        next = Instant::now() + every;
        let text = line(counts, in_flight(), start.elapsed());
        if mode == ProgressMode::Live {
            screen.drawn = true;
            printer::progress_live(&text);
        } else {
            printer::progress_plain(&text);
        }
    }
}

/// Erases the live line, if it is drawn.
fn clear(screen: &mut Screen) {
    if screen.drawn {
        printer::progress_clear();
        screen.drawn = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_what_is_done() {
        let progress = Progress::start(ProgressMode::Off, 200, 4, || 0);
        progress.finished(true);
        progress.finished(true);
        progress.finished(false);
        assert_eq!(
            line(&progress.counts, 16, Duration::from_millis(3400)),
            "judge: 3/200 evals done (2 passed, 1 failed); 16 judge calls in flight; 3 s"
        );
    }

    #[test]
    fn a_stopped_progress_ends_at_once() {
        let start = Instant::now();
        drop(Progress::start(ProgressMode::Plain, 10, 2, || 0));
        assert!(start.elapsed() < Duration::from_secs(2), "no wait for the next tick: {:?}", start.elapsed());
    }

    #[test]
    fn auto_is_off_for_one_eval() {
        assert_eq!(resolve(ProgressMode::Auto, 1), ProgressMode::Off);
        assert_eq!(resolve(ProgressMode::Plain, 1), ProgressMode::Plain);
        assert!(ProgressMode::parse("sometimes").unwrap_err().contains("auto, live, plain, off"));
    }
}
