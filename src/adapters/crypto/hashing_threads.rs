//! Adapters layer: the threads Argon2 runs on, apart from tokio's.
//!
//! A few threads of their own rather than tokio's blocking pool, for three reasons:
//! - they run at a lower scheduling priority than everything else (nice +10): during a flood
//!   of logins the request workers still get a core as soon as they have work, and the hashes
//!   take what is left, which on a busy machine is nearly all of it;
//! - each keeps one work buffer between hashes, made by its first hash;
//! - after `release_after` without work each gives its buffer back to the system, so an idle
//!   server holds none (19 MiB each with the OWASP settings).

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use argon2::Block;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use prometheus_client::metrics::gauge::Gauge;

use crate::adapters::allocator::return_free_memory_to_the_system;

/// How much lower than the rest of the process the hashing threads run (`nice` steps).
const NICE_INCREMENT: i32 = 10;

/// Work for a hashing thread: it is lent the thread's buffer.
pub(super) type Job = Box<dyn FnOnce(&mut [Block]) + Send>;

/// A fixed set of hashing threads sharing one queue of jobs. Dropping it lets the threads
/// finish the jobs queued and end.
pub(super) struct HashingThreads {
    jobs: Sender<Job>,
    #[cfg(test)]
    buffers_held: Gauge,
}

impl HashingThreads {
    /// Starts `count` threads, each with a buffer of `blocks_per_buffer` blocks once it has
    /// worked, given back after `release_after` without work; `buffers_held` counts them.
    pub(super) fn start(
        count: usize,
        blocks_per_buffer: usize,
        release_after: Duration,
        buffers_held: Gauge,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded();
        for index in 0..count {
            let worker = Worker {
                queue: queue.clone(),
                blocks_per_buffer,
                release_after,
                buffers_held: buffers_held.clone(),
            };
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || worker.run())?;
        }
        Ok(Self {
            jobs,
            #[cfg(test)]
            buffers_held,
        })
    }

    /// Queues `job` for the next free thread. Callers bound how many jobs are queued at once.
    pub(super) fn submit(&self, job: Job) {
        // The threads only end once this sender is dropped, so the queue is always open.
        if self.jobs.send(job).is_err() {
            unreachable!("the hashing threads ended while their queue was open");
        }
    }

    #[cfg(test)]
    pub(super) fn buffers_held(&self) -> i64 {
        self.buffers_held.get()
    }
}

struct Worker {
    queue: Receiver<Job>,
    blocks_per_buffer: usize,
    release_after: Duration,
    buffers_held: Gauge,
}

impl Worker {
    fn run(self) {
        lower_this_threads_priority();
        let mut buffer: Option<Vec<Block>> = None;
        loop {
            match self.queue.recv_timeout(self.release_after) {
                Ok(job) => {
                    let blocks = buffer.get_or_insert_with(|| {
                        self.buffers_held.inc();
                        vec![Block::new(); self.blocks_per_buffer]
                    });
                    // A panicking job loses its answer (its caller sees the hash fail), not
                    // the thread: the pool must not shrink for good.
                    let _ = panic::catch_unwind(AssertUnwindSafe(|| job(blocks)));
                }
                Err(RecvTimeoutError::Timeout) => {
                    if buffer.take().is_some() {
                        self.buffers_held.dec();
                        return_free_memory_to_the_system();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// On Linux the nice value belongs to each thread, and `nice` changes the caller's only.
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // SAFETY: `nice` takes a plain integer and touches nothing of ours. -1 is also a valid
    // answer, so errno tells a failure, which only costs the priority: hashing still works.
    unsafe {
        *libc::__errno_location() = 0;
        if libc::nice(NICE_INCREMENT) == -1 && *libc::__errno_location() != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not lower the priority of a hashing thread"
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        threads: &HashingThreads,
        job: impl FnOnce(&mut [Block]) -> i32 + Send + 'static,
    ) -> i32 {
        let (answer, answered) = std::sync::mpsc::channel();
        threads.submit(Box::new(move |blocks| {
            let _ = answer.send(job(blocks));
        }));
        answered.recv().unwrap()
    }

    fn wait_until(mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "never happened");
            std::thread::yield_now();
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_threads_run_below_the_priority_of_the_rest() {
        let threads =
            HashingThreads::start(1, 8, Duration::from_secs(60), Gauge::default()).unwrap();
        // SAFETY: as in `lower_this_threads_priority`; `getpriority(PRIO_PROCESS, 0)` reads the
        // calling thread's nice value on Linux.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };

        let theirs = run(&threads, |_| unsafe {
            libc::getpriority(libc::PRIO_PROCESS, 0)
        });

        assert_eq!(theirs, (ours + NICE_INCREMENT).min(19));
    }

    #[test]
    fn no_buffer_exists_before_the_first_job_and_one_per_busy_thread_after() {
        let threads =
            HashingThreads::start(2, 8, Duration::from_secs(60), Gauge::default()).unwrap();
        assert_eq!(threads.buffers_held(), 0);

        let length = run(&threads, |blocks| blocks.len() as i32);

        assert_eq!(length, 8);
        assert_eq!(threads.buffers_held(), 1);
    }

    #[test]
    fn a_quiet_thread_gives_its_buffer_back_and_makes_a_new_one_when_work_returns() {
        let threads =
            HashingThreads::start(1, 8, Duration::from_millis(1), Gauge::default()).unwrap();
        run(&threads, |_| 0);

        wait_until(|| threads.buffers_held() == 0);
        let length = run(&threads, |blocks| blocks.len() as i32);

        assert_eq!(length, 8);
    }

    #[test]
    fn a_panicking_job_does_not_end_its_thread() {
        let threads =
            HashingThreads::start(1, 8, Duration::from_secs(60), Gauge::default()).unwrap();
        threads.submit(Box::new(|_| panic!("a job that fails")));

        assert_eq!(run(&threads, |_| 7), 7);
    }
}
