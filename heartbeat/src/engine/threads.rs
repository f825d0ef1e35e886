//! The threads sync checks run on: heartbeat's own, detached and bounded in number.
//!
//! Not tokio's blocking pool, for two reasons. A runtime waits for its blocking threads when it
//! shuts down, so a sync check stuck for an hour would keep the process from exiting after
//! SIGTERM; these threads are detached, and the process exits whatever they are doing. And the
//! blocking pool grows to 512 threads under load (1,000 sync checks took a process from 3 to
//! 289 threads); these stop at [`MAX_THREADS`], and a job waits for one of them instead.
//!
//! With single flight (one run of a check at a time), a hung check holds at most one thread.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// At most this many threads run sync checks at once, in the whole process.
pub(crate) const MAX_THREADS: usize = 16;

/// An idle thread exits after this long without work.
const IDLE: Duration = Duration::from_secs(30);

/// Work for a thread: one run of a sync check, which contains its own panics.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

struct Threads {
    queue: Mutex<Queue>,
    work: Condvar,
}

static THREADS: Threads = Threads {
    queue: Mutex::new(Queue {
        jobs: VecDeque::new(),
        threads: 0,
        idle: 0,
    }),
    work: Condvar::new(),
};

fn lock() -> MutexGuard<'static, Queue> {
    THREADS.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `job` on one of the threads: an idle one, a new one while there are fewer than
/// [`MAX_THREADS`], or else the first to become free. A job that cannot be run (no thread
/// could be started) is dropped, which its run's guard reports as a failure.
pub(crate) fn run(job: Job) {
    let mut queue = lock();
    queue.jobs.push_back(job);
    if queue.idle > 0 {
        drop(queue);
        THREADS.work.notify_one();
        return;
    }
    if queue.threads >= MAX_THREADS {
        return;
    }
    queue.threads += 1;
    let number = queue.threads;
    drop(queue);
    let spawned = std::thread::Builder::new()
        .name(format!("heartbeat-sync-{number}"))
        .spawn(work);
    if let Err(error) = spawned {
        let mut queue = lock();
        queue.threads -= 1;
        tracing::error!(%error, "cannot start a thread for sync checks");
        if queue.threads == 0 {
            // Nobody would ever take the jobs: drop them, so that their runs fail now.
            let jobs = std::mem::take(&mut queue.jobs);
            drop(queue);
            drop(jobs);
        }
    }
}

/// A thread's life: take jobs until none came for [`IDLE`].
fn work() {
    loop {
        let mut queue = lock();
        let job = loop {
            if let Some(job) = queue.jobs.pop_front() {
                break job;
            }
            queue.idle += 1;
            let (next, waited) = THREADS
                .work
                .wait_timeout(queue, IDLE)
                .unwrap_or_else(PoisonError::into_inner);
            queue = next;
            queue.idle -= 1;
            if waited.timed_out() && queue.jobs.is_empty() {
                queue.threads -= 1;
                return;
            }
        };
        drop(queue);
        job();
    }
}
