//! Password hashing (argon2id) on two dedicated threads, each hashing in a working
//! memory of its own that it keeps. Argon2 works in 19 MiB per hash; allocated per hash
//! on the blocking pool, glibc kept freed blocks in the arenas of the pool's many threads,
//! so resident memory grew with logins to ~300 MiB and stayed there (BENCHMARKS.md ›
//! Memory). Here it is two blocks for the life of the process, whatever the traffic; the
//! login slots already let only two hashes run at once.
//!
//! The threads run at a lower CPU priority (nice [`HASHING_NICE`]) than the rest of the
//! server: a burst of logins — or of password guesses — then slows logins, not live chat,
//! because the kernel hands a core back to a waking chat worker at once (RELIABILITY.md ›
//! Abuse).
//!
//! A login for an email no member has is answered after a stand-in for the check
//! ([`HashTimes`]): as long as recent checks took, not a hash, so guessing made-up
//! addresses costs the server a timer rather than a core.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// Threads that hash (and verify) passwords for the whole process.
const THREADS: usize = 2;

/// The hashing threads' nice value (the server's other threads keep 0).
const HASHING_NICE: i32 = 19;

/// Lowers the calling thread's CPU priority to [`HASHING_NICE`] (Linux sets the nice
/// value per thread). Lowering one's own priority needs no privilege.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASHING_NICE)
    {
        tracing::warn!(%error, "cannot lower the password-hashing thread's CPU priority");
    }
}

fn queue() -> &'static mpsc::Sender<Job> {
    static QUEUE: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for number in 0..THREADS {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("fandesk-argon2-{number}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // One thread waits for the next job at a time; the lock is
                        // released before the job runs.
                        let next = receiver
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .recv();
                        match next {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password-hashing thread");
            }
        }
        sender
    })
}

thread_local! {
    /// This thread's argon2 working memory, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2id with `params` into `out`, in this thread's kept working memory.
fn argon2_into(params: Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != blocks {
            *memory = vec![Block::new(); blocks];
        }
        argon2
            .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
            .is_ok()
    })
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`, the argon2 crate's
/// defaults) for `password` with a random 16-byte salt. Call on a hashing thread.
pub(crate) fn hash_phc(password: &[u8], salt: [u8; 16]) -> Option<String> {
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !argon2_into(params.clone(), password, &salt, &mut out) {
        return None;
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).ok()?,
        salt: Some(Salt::new(&salt).ok()?),
        hash: Some(Output::new(&out).ok()?),
    };
    Some(phc.to_string())
}

/// Whether `password` matches the argon2id PHC string `stored` (its own parameters and
/// salt; the outputs compared in constant time). Call on a hashing thread.
pub(crate) fn verify_phc(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed
            .version
            .is_some_and(|v| v != u32::from(Version::V0x13))
    {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2_into(params, password, salt.as_ref(), &mut out)
        && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// Runs `work` on a password-hashing thread and returns its result; `None` when no such
/// thread is running (none could be started).
pub(crate) async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    queue().send(job).ok()?;
    answer.await.ok()
}

/// How long password checks take, for the stand-in that answers a login for an unknown
/// email: it holds a hashing slot for the recent checks' time (a moving average) instead of
/// hashing, so neither the answer's time nor the slots' queue tells which emails exist.
/// One stand-in in [`HashTimes::MEASURE_EVERY`] still hashes, so the time follows the
/// machine's load even when only unknown emails are tried.
pub(crate) struct HashTimes {
    /// The moving average, in nanoseconds; 0 until the first check is measured.
    recent_nanos: AtomicU64,
    stand_ins: AtomicU64,
}

/// The process's password checks (the hashing threads are the process's too).
pub(crate) static HASH_TIMES: HashTimes = HashTimes::new();

impl HashTimes {
    pub(crate) const MEASURE_EVERY: u64 = 16;

    pub(crate) const fn new() -> HashTimes {
        HashTimes {
            recent_nanos: AtomicU64::new(0),
            stand_ins: AtomicU64::new(0),
        }
    }

    /// Records a check (or a measuring stand-in) that took `took`.
    pub(crate) fn observe(&self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let recent = self.recent_nanos.load(Ordering::Relaxed);
        let average = if recent == 0 {
            took
        } else {
            recent - recent / 8 + took / 8
        };
        self.recent_nanos.store(average.max(1), Ordering::Relaxed);
    }

    /// How long this stand-in waits; `None`: it hashes for real and is measured (no
    /// check measured yet, or its turn to measure).
    pub(crate) fn stand_in(&self) -> Option<Duration> {
        let turn = self.stand_ins.fetch_add(1, Ordering::Relaxed);
        let recent = self.recent_nanos.load(Ordering::Relaxed);
        (recent != 0 && !turn.is_multiple_of(Self::MEASURE_EVERY))
            .then(|| Duration::from_nanos(recent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn stand_ins_wait_the_recent_checks_time_and_measure_now_and_then() {
        let times = HashTimes::new();
        let ms = Duration::from_millis;
        // Nothing measured yet: the first stand-in hashes.
        assert_eq!(times.stand_in(), None);
        times.observe(ms(40));
        let waits: Vec<Option<Duration>> = (1..=HashTimes::MEASURE_EVERY)
            .map(|_| times.stand_in())
            .collect();
        assert!(waits[..15].iter().all(|wait| *wait == Some(ms(40))));
        assert_eq!(waits[15], None, "the sixteenth measures again");
        // A slower check moves the average an eighth of the way.
        times.observe(ms(120));
        assert_eq!(times.stand_in(), Some(ms(50)));
    }

    #[test]
    fn hashes_match_the_argon2_crate_both_ways() {
        let salt = *b"sixteen-byte-slt";
        let ours = hash_phc(b"correct horse", salt).expect("a hash");
        let theirs = Argon2::default()
            .hash_password_with_salt(b"correct horse", &salt)
            .expect("the crate's hash")
            .to_string();
        assert_eq!(ours, theirs);
        assert!(verify_phc(b"correct horse", &theirs));
        assert!(!verify_phc(b"correct horsf", &theirs));
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // Twice on one thread: the kept memory gives the same answer again.
        assert!(verify_phc(b"correct horse", &ours));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify() {
        for stored in [
            "",
            "not a hash",
            "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0",
        ] {
            assert!(!verify_phc(b"anything", stored), "{stored}");
        }
    }

    #[tokio::test]
    async fn work_runs_on_one_of_the_two_named_threads() {
        let mut names = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let name = on_hashing_thread(|| std::thread::current().name().map(str::to_owned))
                .await
                .flatten()
                .expect("a named hashing thread");
            names.insert(name);
        }
        assert!(!names.is_empty() && names.len() <= THREADS, "{names:?}");
        assert!(names.iter().all(|name| name.starts_with("fandesk-argon2-")));
    }
}
