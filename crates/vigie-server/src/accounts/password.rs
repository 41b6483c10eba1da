//! Password hashing: argon2id with the argon2 crate's default parameters,
//! on a pool of threads of its own, one per core.
//!
//! A hash takes tens of milliseconds of CPU and 19 MiB of memory. Run on
//! the shared blocking pool with no bound, 48 sign-ins at once took the
//! server from 38 MiB to 939 MiB (issue 14). So each worker allocates its
//! argon2 memory once and reuses it for every hash, at most
//! [`QUEUE_PER_WORKER`] requests per worker wait their turn, and beyond
//! that the request is refused at once ([`PasswordError::Busy`], a 503):
//! memory stays flat however many sign-ins arrive.
//!
//! Verification compares in constant time, and a sign-in for an unknown
//! address verifies against a dummy hash made once, so that it spends the
//! same time as one for a known address and allocates nothing more.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// Longest password accepted: argon2 takes any length, but hashing a
/// megabyte on every attempt is a cheap denial of service.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Requests that may wait for each worker before new ones are refused: at
/// a few tens of milliseconds a hash, the last one waits about a second.
pub const QUEUE_PER_WORKER: usize = 32;

/// A stored hash asking for more memory than this is refused (a damaged or
/// planted row must not make a sign-in allocate gigabytes).
const MAX_STORED_M_COST: u32 = 256 * 1024;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every worker is busy and the queue is full: try again shortly.
    #[error("trop de demandes de connexion en cours")]
    Busy,
    #[error("password hashing: {0}")]
    Internal(String),
}

/// Hashes `password` (PHC string: algorithm, parameters, salt and hash).
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    match POOL.run(Work::Hash(password.to_owned())).await? {
        Done::Hashed(result) => result.map_err(PasswordError::Internal),
        Done::Verified(_) => Err(PasswordError::Internal("unexpected answer".to_owned())),
    }
}

/// Whether `password` matches `stored` (a PHC string); `None` (no such
/// user) spends the same time and answers false.
pub async fn verify(password: &str, stored: Option<String>) -> Result<bool, PasswordError> {
    match POOL.run(Work::Verify(password.to_owned(), stored)).await? {
        Done::Verified(matches) => Ok(matches),
        Done::Hashed(_) => Err(PasswordError::Internal("unexpected answer".to_owned())),
    }
}

/// The process's pool: cores are a property of the process, like the
/// memory the workers hold, so there is one whatever the number of
/// servers a process starts (the tests start many).
static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    Pool::start(workers, QUEUE_PER_WORKER)
});

enum Work {
    Hash(String),
    Verify(String, Option<String>),
}

enum Done {
    Hashed(Result<String, String>),
    Verified(bool),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Done>,
}

struct Pool {
    queue: SyncSender<Job>,
}

impl Pool {
    fn start(workers: usize, queue_per_worker: usize) -> Pool {
        let (queue, jobs) = mpsc::sync_channel(workers * queue_per_worker);
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..workers {
            let jobs = Arc::clone(&jobs);
            let spawned = std::thread::Builder::new()
                .name(format!("vigie-argon2-{index}"))
                .spawn(move || work(&jobs));
            if let Err(e) = spawned {
                tracing::error!("cannot start a password hashing thread: {e}");
            }
        }
        Pool { queue }
    }

    async fn run(&self, work: Work) -> Result<Done, PasswordError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { work, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(PasswordError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(PasswordError::Internal("no hashing thread".to_owned()));
            }
        }
        answer
            .await
            .map_err(|_| PasswordError::Internal("hashing thread stopped".to_owned()))
    }
}

/// A worker: takes jobs one at a time, with its argon2 memory allocated
/// once for its whole life.
fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut memory = vec![Block::default(); Params::DEFAULT.block_count()];
    let dummy = hash_with(&mut memory, &random_password());
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        let done = match job.work {
            Work::Hash(password) => Done::Hashed(hash_with(&mut memory, &password)),
            Work::Verify(password, Some(stored)) => {
                Done::Verified(verify_with(&mut memory, &password, &stored))
            }
            Work::Verify(password, None) => {
                if let Ok(dummy) = &dummy {
                    let _ = verify_with(&mut memory, &password, dummy);
                }
                Done::Verified(false)
            }
        };
        // The request may have gone (client closed): nothing to do then.
        let _ = job.reply.send(done);
    }
}

fn random_password() -> String {
    crate::db::random_hex(32)
}

/// Hashes with the default parameters into the worker's memory.
fn hash_with(memory: &mut [Block], password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt_string = SaltString::encode_b64(&salt).map_err(|e| format!("salt: {e}"))?;
    let params = Params::DEFAULT;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut *memory)
        .map_err(|e| format!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| format!("params: {e}"))?,
        salt: Some(salt_string.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| format!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies against a stored PHC string, with the parameters it names (so
/// hashes made with older defaults still verify), in the worker's memory
/// when it is large enough.
fn verify_with(memory: &mut [Block], password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    match check(memory, password, stored) {
        Ok(matches) => matches,
        Err(e) => {
            tracing::error!("unreadable password hash in the database: {e}");
            false
        }
    }
}

fn check(memory: &mut [Block], password: &str, stored: &str) -> Result<bool, String> {
    let parsed = PasswordHash::new(stored).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| e.to_string())?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| e.to_string())?;
    if params.m_cost() > MAX_STORED_M_COST {
        return Err(format!("m_cost {} too large", params.m_cost()));
    }
    let expected = parsed.hash.ok_or("no hash in the PHC string")?;
    let salt = parsed.salt.ok_or("no salt in the PHC string")?;
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let hashed = match memory.get_mut(..blocks) {
        Some(memory) => {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
        }
        // A hash made with more memory than today's default: rare, and
        // bounded by MAX_STORED_M_COST.
        None => argon2.hash_password_into(password.as_bytes(), salt_bytes, &mut out),
    };
    hashed.map_err(|e| e.to_string())?;
    let got = Output::new(&out).map_err(|e| e.to_string())?;
    // `Output`'s equality is constant-time.
    Ok(got == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[tokio::test]
    async fn hash_then_verify() {
        let stored = hash("correct horse battery").await.ok();
        assert!(
            stored
                .as_deref()
                .is_some_and(|s| s.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"))
        );
        assert!(
            verify("correct horse battery", stored.clone())
                .await
                .unwrap()
        );
        assert!(!verify("correct horse batterY", stored).await.unwrap());
        assert!(!verify("correct horse battery", None).await.unwrap());
        assert!(!verify("x", Some("not a hash".to_owned())).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_itself_verify() {
        // What earlier versions stored (the crate's own PHC output), and a
        // hash with other parameters than today's.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let older = Argon2::default()
            .hash_password(b"mot de passe ancien", &salt)
            .unwrap()
            .to_string();
        assert!(verify("mot de passe ancien", Some(older)).await.unwrap());
        let params = Params::new(32 * 1024, 3, 1, None).unwrap();
        let bigger = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"autre", &salt)
            .unwrap()
            .to_string();
        assert!(verify("autre", Some(bigger.clone())).await.unwrap());
        assert!(!verify("autres", Some(bigger)).await.unwrap());
    }

    #[tokio::test]
    async fn beyond_the_queue_requests_are_refused_at_once() {
        let pool = Pool::start(1, 1);
        let verify = || pool.run(Work::Verify("essai".to_owned(), None));
        let outcomes = futures_util::future::join_all((0..6).map(|_| verify())).await;
        let busy = outcomes
            .iter()
            .filter(|o| matches!(o, Err(PasswordError::Busy)))
            .count();
        let done = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(Done::Verified(false))))
            .count();
        // One being hashed (or about to be), one waiting: the rest refused.
        assert!(
            busy >= 4 && done >= 1 && busy + done == 6,
            "{busy} busy, {done} done"
        );
    }

    #[test]
    fn a_planted_hash_cannot_ask_for_gigabytes() {
        let mut memory = vec![Block::default(); 8];
        let planted = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$\
                       AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(check(&mut memory, "x", planted).is_err());
    }
}
