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

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock, mpsc};

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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

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
