//! The strategic worker: one thread of its own that decides every filing (the overlap
//! geometry, the coarsening into H3 cells, the answer), fed by a bounded queue.
//!
//! Why one thread rather than the blocking pool: the decisions are serial anyway (they hold
//! the [`Strategic`](super::Strategic) lock), and a large filing's geometry allocates tens of
//! megabytes for a moment. On the blocking pool every filing could land on another thread,
//! and the allocator keeps each thread's peak (glibc: one arena per thread, up to 8 per core),
//! so a party filing large volumes grew the service's memory by that peak times the threads
//! it touched (`deconflict bench attack`: docs/operations.md). On one thread the peak is paid
//! once. A request waits for a place in the queue (no thread is blocked meanwhile); a job
//! that panics is answered with an error and the thread goes on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// A handle to the worker thread; the thread ends when every handle is dropped.
#[derive(Clone)]
pub struct Worker {
    tx: mpsc::Sender<Job>,
}

/// The worker could not run the job: it panicked, or the worker has stopped.
#[derive(Debug, thiserror::Error)]
#[error("the strategic worker did not run the job: {0}")]
pub struct WorkerError(&'static str);

impl Worker {
    /// Starts the thread `name`, with room for `queue` waiting jobs.
    pub fn start(name: &str, queue: usize) -> std::io::Result<Worker> {
        let (tx, mut rx) = mpsc::channel::<Job>(queue.max(1));
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    // The job's own answer channel reports a panic (its sender is dropped).
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        Ok(Worker { tx })
    }

    /// Runs `f` on the worker thread and gives its result, waiting for a place in the queue.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkerError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.tx
            .send(job)
            .await
            .map_err(|_| WorkerError("it has stopped"))?;
        result.await.map_err(|_| WorkerError("it panicked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_in_order_on_one_thread_and_a_panic_does_not_stop_it() {
        let w = Worker::start("test-worker", 2).unwrap_or_else(|e| panic!("{e}"));
        let a = w.run(|| std::thread::current().id()).await.ok();
        assert!(w.run(|| -> u8 { panic!("a bad job") }).await.is_err());
        let b = w.run(|| std::thread::current().id()).await.ok();
        assert!(a.is_some() && a == b, "{a:?} {b:?}");
        assert_ne!(a, Some(std::thread::current().id()));
        // More jobs than the queue holds, at once: each waits for its place.
        let jobs = (0..10u32).map(|i| w.run(move || i * 2));
        let got: Vec<u32> = futures_util::future::join_all(jobs)
            .await
            .into_iter()
            .map(|r| r.unwrap_or(u32::MAX))
            .collect();
        assert_eq!(got, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }
}
