//! The bounded pool of dedicated threads that runs the hashing.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};

use rand::rngs::OsRng;
use tokio::sync::oneshot;

use super::hashing::*;

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: String,
        phc: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
    Dummy {
        reply: oneshot::Sender<()>,
    },
}

/// A bounded pool of dedicated OS threads for Argon2 work.
///
/// Cheap to clone (one channel handle); the threads stop once every clone is dropped
/// and the queue has drained. At most `threads` hashes run at once and at most `queue`
/// more wait; beyond that calls return [`HashError::Busy`] immediately. Memory use is
/// bounded by `threads` × 19 MiB of Argon2 state plus the queued passwords (cap request
/// body sizes upstream). A request whose caller has gone away (future dropped) is
/// skipped when it reaches a worker.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::SyncSender<Job>,
    threads: usize,
    queue: usize,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the pepper.
        f.debug_struct("Hasher")
            .field("threads", &self.threads)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// Default worker count: the number of CPUs (`std::thread::available_parallelism`).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl Hasher {
    /// Starts `threads` worker threads (0 = [`default_threads`]) with room for `queue`
    /// waiting requests (raised to at least 1). Fails only if a thread cannot be spawned.
    pub fn new(threads: usize, queue: usize, pepper: [u8; 32]) -> std::io::Result<Self> {
        let threads = if threads == 0 {
            default_threads()
        } else {
            threads
        };
        // A rendezvous channel (0) would refuse work whenever no worker happened to be
        // blocked in `recv` at that instant; keep a real buffer.
        let queue = queue.max(1);
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("casegate-argon2-{index}"))
                .spawn(move || worker(&receiver, &pepper, index == 0))?;
        }
        Ok(Hasher {
            jobs,
            threads,
            queue,
        })
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Number of requests that may wait for a worker.
    pub fn queue_capacity(&self) -> usize {
        self.queue
    }

    /// [`hash_blocking`] on a worker thread with the OS RNG.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let (reply, result) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        result.await.map_err(|_| worker_lost())?
    }

    /// [`verify_blocking`] on a worker thread.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, HashError> {
        let (reply, result) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            phc,
            reply,
        })?;
        result.await.map_err(|_| worker_lost())?
    }

    /// [`dummy_verify_blocking`] on a worker thread: call it for unknown accounts in
    /// place of [`Hasher::verify`]. Can be [`HashError::Busy`] just like a real verify.
    pub async fn verify_dummy(&self) -> Result<(), HashError> {
        let (reply, result) = oneshot::channel();
        self.submit(Job::Dummy { reply })?;
        result.await.map_err(|_| worker_lost())
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(HashError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(HashError::Unavailable),
        }
    }
}

fn worker_lost() -> HashError {
    HashError::Internal("password hashing worker dropped the request".to_owned())
}

fn worker(receiver: &Mutex<mpsc::Receiver<Job>>, pepper: &[u8; 32], warm_up: bool) {
    keep_work_area();
    if warm_up {
        // Compute the dummy hash now rather than during the first unknown-user sign-in.
        let _ = dummy_phc(pepper);
    }
    loop {
        let job = {
            let guard = match receiver.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            guard.recv()
        };
        let Ok(job) = job else {
            return; // every Hasher clone is gone
        };
        // A panic must not take the worker down; the dropped reply reports it.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| run_job(pepper, job)));
    }
}

fn run_job(pepper: &[u8; 32], job: Job) {
    match job {
        Job::Hash { password, reply } => {
            if !reply.is_closed() {
                let _ = reply.send(hash_blocking(pepper, &password, &mut OsRng));
            }
        }
        Job::Verify {
            password,
            phc,
            reply,
        } => {
            if !reply.is_closed() {
                let _ = reply.send(verify_blocking(pepper, &password, &phc));
            }
        }
        Job::Dummy { reply } => {
            if !reply.is_closed() {
                dummy_verify_blocking(pepper);
                let _ = reply.send(());
            }
        }
    }
}
