//! The second thread of the spectral part (with [`super::AnalyzerOptions::parallel`]).
//!
//! The spectral part of an interval (resampling, FFT, harmonic values) takes most of the
//! analysis time. Each interval's job goes to a queue shared with one helper thread the
//! moment the interval is complete, and the helper starts on it at once, while the
//! analyzing thread goes on with the rest of the push (tracking, Urms(1/2), flicker, the
//! next intervals). When the push's records are released, the analyzing thread runs
//! whatever jobs are still queued itself and then waits only for the jobs the helper has
//! already started: it never waits for the helper to be scheduled. Either thread gives the
//! same bits for a job (both spectral parts are built from one setup and hold only plans
//! and scratch space), so the results do not depend on who ran what.

use super::spectral::Spectral;
use super::{SpectralJob, SpectralResult};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the two threads share.
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when a job is queued or the queue closes (the helper waits on it).
    queued: Condvar,
    /// Signalled when the helper finishes a job (the analyzing thread waits on it).
    finished: Condvar,
}

#[derive(Default)]
struct QueueState {
    /// Jobs nobody has taken, with their slots in `results`.
    jobs: VecDeque<(usize, SpectralJob)>,
    /// One slot per job since the last [`SpectralHelper::finish`], in the order queued.
    results: Vec<Option<(SpectralResult, SpectralJob)>>,
    /// Jobs the helper has taken and not yet finished.
    running: usize,
    /// The analyzer is being dropped: the helper ends without taking another job.
    closed: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these values half-written: take them as they are.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Queue {
    /// The helper's loop: take the next job as it comes, until the queue closes.
    fn serve(&self, spectral: &mut Spectral) {
        let mut state = lock(&self.state);
        loop {
            if state.closed {
                // The analyzer is gone: what is still queued has no one to go to.
                return;
            }
            if let Some((slot, job)) = state.jobs.pop_front() {
                state.running += 1;
                drop(state);
                let result = job.run(spectral);
                state = lock(&self.state);
                state.results[slot] = Some((result, job));
                state.running -= 1;
                if state.running == 0 {
                    self.finished.notify_all();
                }
            } else {
                state = self.queued.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

/// The helper thread and the queue it serves.
pub(super) struct SpectralHelper {
    queue: Arc<Queue>,
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
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
            queued: Condvar::new(),
            finished: Condvar::new(),
        });
        let served = Arc::clone(&queue);
        let thread = std::thread::Builder::new()
            .name("pqe-spectral".into())
            .spawn(move || served.serve(&mut twin))
            .map_err(|e| {
                pqe_core::Error::Config(format!("cannot start the spectral helper thread: {e}"))
            })?;
        Ok(SpectralHelper {
            queue,
            thread: Some(thread),
        })
    }

    /// Queue `job`; the helper may start on it at once.
    pub(super) fn submit(&mut self, job: SpectralJob) {
        let mut state = lock(&self.queue.state);
        let slot = state.results.len();
        state.results.push(None);
        state.jobs.push_back((slot, job));
        drop(state);
        self.queue.queued.notify_one();
    }

    /// Whether jobs were queued since the last [`finish`](Self::finish).
    pub(super) fn has_jobs(&self) -> bool {
        !lock(&self.queue.state).results.is_empty()
    }

    /// The results of every job queued since the last call, in the order queued: the jobs
    /// still waiting run here with `spectral`, then this waits for those the helper has
    /// started. The jobs themselves are handed back in `done` (for their buffers).
    pub(super) fn finish(
        &mut self,
        spectral: &mut Spectral,
        done: &mut Vec<SpectralJob>,
    ) -> Vec<SpectralResult> {
        let queue = &*self.queue;
        let mut state = lock(&queue.state);
        while let Some((slot, job)) = state.jobs.pop_front() {
            drop(state);
            let result = job.run(spectral);
            state = lock(&queue.state);
            state.results[slot] = Some((result, job));
        }
        // Only jobs the helper has started can still be running.
        while state.running > 0 {
            let helper_gone = self.thread.as_ref().is_none_or(|t| t.is_finished());
            assert!(!helper_gone, "the spectral helper thread panicked");
            state = queue
                .finished
                .wait_timeout(state, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let slots = std::mem::take(&mut state.results);
        drop(state);
        slots
            .into_iter()
            .map(|slot| {
                let (result, job) = slot.expect("every job finished");
                done.push(job);
                result
            })
            .collect()
    }
}

impl Drop for SpectralHelper {
    fn drop(&mut self) {
        lock(&self.queue.state).closed = true;
        self.queue.queued.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
