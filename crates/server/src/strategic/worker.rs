//! The strategic worker: one thread of its own that parses and decides every filing (the
//! JSON tree of its body, the overlap geometry, the coarsening into H3 cells, the answer),
//! fed by a bounded queue.
//!
//! Why one thread rather than the blocking pool: the decisions are serial anyway (they hold
//! the [`Strategic`](super::Strategic) lock), and a large filing's geometry allocates tens of
//! megabytes for a moment. On the blocking pool every filing could land on another thread,
//! and the allocator keeps each thread's peak (glibc: one arena per thread, up to 8 per core),
//! so a party filing large volumes grew the service's memory by that peak times the threads
//! it touched (`deconflict bench attack`: docs/operations.md). On one thread the peak is paid
//! once. A job that panics is answered with an error and the thread goes on.
//!
//! **Fair between parties.** Each party has a queue of its own, of at most `per_party` jobs
//! waiting or running (a request past it waits for a place, asynchronously: no thread is
//! blocked), and the thread takes the parties' queues in turn. A party that keeps the worker
//! busy with large filings therefore delays another party's filing by at most one of its
//! jobs, not by everything it has queued.

use crate::places::PartyPlaces;
use deconflict_core::party::PartyId;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// The jobs waiting, per party, and the parties in the order they are served. The party
/// whose job is running is in no turn: it goes to the back of the line when its job is done,
/// behind every party that came meanwhile.
#[derive(Default)]
struct Queues {
    jobs: HashMap<PartyId, VecDeque<Job>>,
    turn: VecDeque<PartyId>,
    running: Option<PartyId>,
}

struct Shared {
    queues: Mutex<Queues>,
    /// Places per party (jobs waiting or running).
    places: PartyPlaces,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A handle to the worker thread; the thread ends when every handle is dropped.
#[derive(Clone)]
pub struct Worker {
    shared: Arc<Shared>,
    /// One token per job queued; the thread stops when every sender is gone.
    wake: mpsc::UnboundedSender<()>,
}

/// The worker could not run the job: it panicked, or the worker has stopped.
#[derive(Debug, thiserror::Error)]
#[error("the strategic worker did not run the job: {0}")]
pub struct WorkerError(&'static str);

/// Gives the calling thread the lowest CPU priority (niceness 19 under Linux's normal
/// scheduling): a filing's overlaps are the heaviest work the service does, and they must not
/// take the CPU from the detection loop and the alert path, which run on the async threads at
/// normal priority. With the two contending for one core, the worker gets the CPU the tactical
/// path leaves (CFS weight 15 against 1,024), and all of an idle core. A failure (an OS without
/// it) is logged, and the worker runs at normal priority.
fn lower_priority() {
    if let Err(e) = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min) {
        tracing::warn!("the strategic worker runs at normal priority: {e:?}");
    }
}

impl Worker {
    /// Starts the thread `name`, with room for `per_party` jobs of each party (at the lowest
    /// CPU priority: [`lower_priority`]).
    pub fn start(name: &str, per_party: usize) -> std::io::Result<Worker> {
        let shared = Arc::new(Shared {
            queues: Mutex::default(),
            places: PartyPlaces::new(per_party),
        });
        let (wake, mut woken) = mpsc::unbounded_channel::<()>();
        let queues = shared.clone();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                lower_priority();
                while woken.blocking_recv().is_some() {
                    let Some(job) = next(&mut lock(&queues.queues)) else {
                        continue;
                    };
                    // The job's own answer channel reports a panic (its sender is dropped).
                    let _ = catch_unwind(AssertUnwindSafe(job));
                    done(&mut lock(&queues.queues));
                }
            })?;
        Ok(Worker { shared, wake })
    }

    /// Runs `f` for `party` on the worker thread and gives its result, waiting for one of
    /// the party's places.
    pub async fn run<T: Send + 'static>(
        &self,
        party: PartyId,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkerError> {
        // Held until the answer is in: the place counts the job while it waits and runs.
        let _place = self
            .shared
            .places
            .acquire(party)
            .await
            .map_err(|_| WorkerError("it has stopped"))?;
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        {
            let mut guard = lock(&self.shared.queues);
            let q = &mut *guard;
            let mine = q.jobs.entry(party).or_default();
            if mine.is_empty() && q.running != Some(party) {
                q.turn.push_back(party);
            }
            mine.push_back(job);
        }
        self.wake.send(()).map_err(|_| WorkerError("it has stopped"))?;
        result.await.map_err(|_| WorkerError("it panicked"))
    }
}

/// The next job: the first of the party whose turn it is (now running).
fn next(q: &mut Queues) -> Option<Job> {
    let party = q.turn.pop_front()?;
    let mine = q.jobs.get_mut(&party)?;
    let job = mine.pop_front();
    if mine.is_empty() {
        q.jobs.remove(&party);
    }
    q.running = Some(party);
    job
}

/// The running job is done: its party, if it has more, goes to the back of the line.
fn done(q: &mut Queues) {
    if let Some(party) = q.running.take() {
        if q.jobs.get(&party).is_some_and(|j| !j.is_empty()) {
            q.turn.push_back(party);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    /// The niceness of the calling thread (field 19 of /proc/thread-self/stat, after the
    /// command name's closing parenthesis).
    #[cfg(target_os = "linux")]
    fn niceness() -> Option<i64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        rest.split(' ').nth(16)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_worker_runs_at_the_lowest_priority_and_the_caller_at_its_own() {
        let ours = niceness();
        let w = Worker::start("test-nice", 1).unwrap_or_else(|e| panic!("{e}"));
        let theirs = w.run(PartyId(1), niceness).await.ok().flatten();
        assert_eq!(theirs, Some(19));
        assert!(
            ours.is_some() && niceness() == ours,
            "only the worker's thread is lowered"
        );
    }

    #[tokio::test]
    async fn jobs_run_in_order_on_one_thread_and_a_panic_does_not_stop_it() {
        let w = Worker::start("test-worker", 2).unwrap_or_else(|e| panic!("{e}"));
        let a = w.run(PartyId(1), || std::thread::current().id()).await.ok();
        assert!(w.run(PartyId(1), || -> u8 { panic!("a bad job") }).await.is_err());
        let b = w.run(PartyId(1), || std::thread::current().id()).await.ok();
        assert!(a.is_some() && a == b, "{a:?} {b:?}");
        assert_ne!(a, Some(std::thread::current().id()));
        // More jobs than the party's places, at once: each waits for its place.
        let jobs = (0..10u32).map(|i| w.run(PartyId(1), move || i * 2));
        let got: Vec<u32> = futures_util::future::join_all(jobs)
            .await
            .into_iter()
            .map(|r| r.unwrap_or(u32::MAX))
            .collect();
        assert_eq!(got, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }

    /// The attack: party 1 queues every place it has with slow jobs, then party 2 files one.
    /// Party 2's job runs right after the job that was running, not after all of party 1's.
    #[tokio::test]
    async fn a_party_that_fills_its_queue_delays_another_by_one_job() {
        let w = Worker::start("test-fair", 4).unwrap_or_else(|e| panic!("{e}"));
        let (order_tx, order_rx) = std_mpsc::channel::<(PartyId, u32)>();
        let (gate_tx, gate_rx) = std_mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate_rx));
        let mut jobs = Vec::new();
        for i in 0..4u32 {
            let (tx, gate) = (order_tx.clone(), gate.clone());
            let w = w.clone();
            jobs.push(tokio::spawn(async move {
                w.run(PartyId(1), move || {
                    // The first job holds the thread until the test opens the gate.
                    if i == 0 {
                        let _ = lock(&gate).recv_timeout(Duration::from_secs(10));
                    }
                    let _ = tx.send((PartyId(1), i));
                })
                .await
            }));
        }
        // Let party 1's four jobs queue, then party 2's one.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let tx = order_tx.clone();
        let w2 = w.clone();
        let two = tokio::spawn(async move {
            w2.run(PartyId(2), move || {
                let _ = tx.send((PartyId(2), 0));
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = gate_tx.send(());
        for j in jobs {
            assert!(j.await.is_ok_and(|r| r.is_ok()));
        }
        assert!(two.await.is_ok_and(|r| r.is_ok()));
        let order: Vec<(PartyId, u32)> = order_rx.try_iter().collect();
        assert_eq!(
            order,
            [(1, 0), (2, 0), (1, 1), (1, 2), (1, 3)].map(|(p, n)| (PartyId(p), n))
        );
    }

    #[test]
    fn the_turn_goes_round_the_parties() {
        let mut q = Queues::default();
        let (tx, rx) = std_mpsc::channel::<PartyId>();
        for (party, n) in [(7, 3), (8, 1), (9, 2)] {
            let party = PartyId(party);
            for _ in 0..n {
                let tx = tx.clone();
                if q.jobs.get(&party).is_none_or(VecDeque::is_empty) {
                    q.turn.push_back(party);
                }
                q.jobs.entry(party).or_default().push_back(Box::new(move || {
                    let _ = tx.send(party);
                }));
            }
        }
        while let Some(job) = next(&mut q) {
            job();
            done(&mut q);
        }
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [7, 8, 9, 7, 9, 7].map(PartyId));
        assert!(q.jobs.is_empty() && q.turn.is_empty());
    }
}
