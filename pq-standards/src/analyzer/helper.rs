//! The second thread of the spectral part (with [`super::AnalyzerOptions::parallel`]).
//!
//! The intervals completed by one push wait for their spectral part (resampling, FFT,
//! harmonic values), which takes most of the analysis time. They are shared out between
//! the analyzing thread and one helper thread that lives as long as the analyzer: both take
//! the next job not yet taken, one at a time, until none is left. The analyzing thread never
//! waits for the helper to be scheduled: when the helper is late (its core busy with the
//! program's other stages) the analyzing thread takes every job itself, and it waits only
//! for the jobs the helper has already started. Either thread gives the same bits for a job
//! (both spectral parts are built from one setup and hold only plans and scratch space), so
//! the results do not depend on who ran what.

use super::spectral::Spectral;
use super::{SpectralJob, SpectralResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The jobs of one push, taken one by one by whichever thread is free.
struct Batch {
    jobs: Vec<SpectralJob>,
    /// The next job nobody has taken.
    next: AtomicUsize,
    results: Vec<Mutex<Option<SpectralResult>>>,
    /// Jobs finished (by either thread).
    finished: Mutex<usize>,
    all_finished: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these values half-written: take them as they are.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batch {
    /// Take and run jobs with `spectral` until none is left to take.
    fn work(&self, spectral: &mut Spectral) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = self.jobs.get(i) else {
                return;
            };
            let result = job.run(spectral);
            *lock(&self.results[i]) = Some(result);
            let mut finished = lock(&self.finished);
            *finished += 1;
            if *finished == self.jobs.len() {
                self.all_finished.notify_all();
            }
        }
    }
}

/// The helper thread and the way to hand it jobs.
pub(super) struct SpectralHelper {
    batches: Option<mpsc::Sender<Arc<Batch>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SpectralHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpectralHelper")
    }
}

impl SpectralHelper {
    /// Start the helper thread with its own spectral part.
    pub(super) fn start(mut twin: Spectral) -> pqe_core::Result<Self> {
        let (batches, inbox) = mpsc::channel::<Arc<Batch>>();
        let thread = std::thread::Builder::new()
            .name("pqe-spectral".into())
            .spawn(move || {
                for batch in inbox {
                    batch.work(&mut twin);
                }
            })
            .map_err(|e| {
                pqe_core::Error::Config(format!("cannot start the spectral helper thread: {e}"))
            })?;
        Ok(SpectralHelper {
            batches: Some(batches),
            thread: Some(thread),
        })
    }

    /// Run `jobs`, on this thread with `spectral` and on the helper's as it is free; the
    /// results in the order of the jobs.
    pub(super) fn run(
        &mut self,
        jobs: Vec<SpectralJob>,
        spectral: &mut Spectral,
    ) -> Vec<SpectralResult> {
        if jobs.len() < 2 {
            return jobs.iter().map(|j| j.run(spectral)).collect();
        }
        let n = jobs.len();
        let batch = Arc::new(Batch {
            jobs,
            next: AtomicUsize::new(0),
            results: (0..n).map(|_| Mutex::new(None)).collect(),
            finished: Mutex::new(0),
            all_finished: Condvar::new(),
        });
        if let Some(tx) = &self.batches {
            // A helper that has ended (it panicked) leaves every job to this thread.
            let _ = tx.send(Arc::clone(&batch));
        }
        batch.work(spectral);
        // Only jobs the helper has started can still be running.
        let mut finished = lock(&batch.finished);
        while *finished < n {
            let helper_gone = self.thread.as_ref().is_none_or(|t| t.is_finished());
            assert!(!helper_gone, "the spectral helper thread panicked");
            finished = batch
                .all_finished
                .wait_timeout(finished, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(finished);
        batch
            .results
            .iter()
            .map(|r| lock(r).take().expect("every job finished"))
            .collect()
    }
}

impl Drop for SpectralHelper {
    fn drop(&mut self) {
        // Closing the channel ends the helper's loop.
        self.batches = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
