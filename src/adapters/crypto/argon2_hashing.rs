//! Adapters layer: password hashing with Argon2id, implementing `core::ports::PasswordHashing`.
//! May depend on the core, argon2, subtle, rand, tokio and prometheus-client.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::{self, Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use prometheus_client::metrics::gauge::Gauge;
use rand::TryRngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::hashing_threads::HashingThreads;
use crate::core::model::{Password, PasswordHash};
use crate::core::ports::{HashingError, PasswordHashing};

/// PHC string format recommendation: 16 random bytes make every salt unique.
const SALT_BYTES: usize = 16;
/// 256 bits of output, the Argon2 default.
const OUTPUT_BYTES: usize = 32;

/// Argon2id cost parameters for new hashes. Verification always uses the parameters stored in
/// the hash, so changing these later does not lock anybody out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory per hash in KiB (one Argon2 block each).
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Settings {
    /// The OWASP Password Storage Cheat Sheet's first Argon2id configuration: 19 MiB, 2
    /// iterations, 1 lane. About 18 ms per hash on the production machines.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// FOR TESTS ONLY: 64 KiB and one pass, so test suites stay fast. A database hashed with
    /// these falls to an offline attack in no time; production code must use `OWASP`.
    pub const FAST_FOR_TESTS: Self = Self {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn params(&self) -> Result<Params, argon2::Error> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_BYTES),
        )
    }
}

/// Argon2id password hashing that never runs on the async workers, runs at most a fixed
/// number of hashes at once, on threads of lower priority, and reuses their memory.
///
/// A flood of logins therefore queues (visible in the `hashes_waiting` gauge) instead of
/// starving every other request of CPU, and memory stays at `max_concurrent` work buffers:
/// one fresh 19 MiB allocation per hash on blocking threads grew the process to 6 GB that the
/// allocator never returned. An idle server holds none (see `hashing_threads.rs`).
pub struct Argon2Hashing {
    params: Params,
    /// One permit per hashing thread: a job is only queued once a thread is free for it.
    slots: Arc<Semaphore>,
    threads: HashingThreads,
    waiting: Gauge,
    running: Gauge,
    dummy: PasswordHash,
}

/// How long hashing threads keep their work buffers without work.
const RELEASE_BUFFERS_AFTER: Duration = Duration::from_secs(30);

impl Argon2Hashing {
    /// Hashes with `settings`, at most `max_concurrent` at a time, reporting into the `waiting`,
    /// `running` and `buffers` gauges (see `adapters::metrics::Metrics`).
    ///
    /// Computes the dummy hash here, on the calling thread: call it at start-up.
    pub fn new(
        settings: Argon2Settings,
        max_concurrent: usize,
        waiting: Gauge,
        running: Gauge,
        buffers: Gauge,
    ) -> Result<Self, HashingError> {
        let params = settings
            .params()
            .map_err(|error| HashingError(anyhow!(error).context("invalid Argon2 settings")))?;
        if max_concurrent == 0 || max_concurrent > Semaphore::MAX_PERMITS {
            return Err(HashingError(anyhow!(
                "the number of concurrent hashes must be between 1 and {}, got {max_concurrent}",
                Semaphore::MAX_PERMITS
            )));
        }
        let dummy = {
            // A buffer of its own, freed at once: an idle server holds no work buffer.
            let mut blocks = vec![Block::new(); params.block_count()];
            let mut password = [0u8; 32];
            fill_from_os(&mut password)?;
            hash_with_salt(&params, &password, &random_salt()?, &mut blocks)?
        };
        let threads = HashingThreads::start(
            max_concurrent,
            params.block_count(),
            RELEASE_BUFFERS_AFTER,
            buffers,
        )
        .context("starting the hashing threads")
        .map_err(HashingError)?;
        Ok(Self {
            params,
            slots: Arc::new(Semaphore::new(max_concurrent)),
            threads,
            waiting,
            running,
            dummy,
        })
    }

    /// Runs `job` on a hashing thread with its work buffer, once a slot is free.
    ///
    /// Cancellation-safe: the queued job owns the slot, so if the caller's future is dropped
    /// the hash still finishes, then frees the slot.
    async fn in_a_slot<T, F>(&self, job: F) -> Result<T, HashingError>
    where
        F: FnOnce(&mut [Block]) -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = {
            let _waiting = GaugeIncrement::new(&self.waiting);
            Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .context("the hashing slots are closed")
                .map_err(HashingError)?
        };
        let running = self.running.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.threads.submit(Box::new(move |blocks| {
            let outcome = {
                let _running = GaugeIncrement::new(&running);
                job(blocks)
            };
            // Gauge and slot are back before the caller hears the answer, so what it sees next
            // is settled.
            drop(slot);
            let _ = answer.send(outcome);
        }));
        answered
            .await
            .context("the hashing job failed")
            .map_err(HashingError)
    }
}

#[async_trait]
impl PasswordHashing for Argon2Hashing {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashingError> {
        let password = password.expose().as_bytes().to_vec();
        let params = self.params.clone();
        let salt = random_salt()?;
        self.in_a_slot(move |blocks| hash_with_salt(&params, &password, &salt, blocks))
            .await?
    }

    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, HashingError> {
        let Some(stored) = StoredHash::parse(hash.as_str()) else {
            return Ok(false);
        };
        let candidate = candidate.as_bytes().to_vec();
        self.in_a_slot(move |blocks| stored.matches(&candidate, blocks))
            .await?
    }

    fn dummy_hash(&self) -> &PasswordHash {
        &self.dummy
    }
}

/// Argon2id, version 0x13, as a standard PHC string:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
fn hash_with_salt(
    params: &Params,
    password: &[u8],
    salt: &[u8; SALT_BYTES],
    blocks: &mut [Block],
) -> Result<PasswordHash, HashingError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut output = [0u8; OUTPUT_BYTES];
    compute(&argon2, password, salt, &mut output, blocks)?;
    let phc = phc::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(phc_error)?,
        salt: Some(Salt::new(salt).map_err(phc_error)?),
        hash: Some(Output::new(&output).map_err(phc_error)?),
    };
    Ok(PasswordHash::from_phc(phc.to_string()))
}

/// A stored hash, parsed: the function and parameters it was made with, and what to compare.
struct StoredHash {
    argon2: Argon2<'static>,
    salt: Salt,
    expected: Output,
}

impl StoredHash {
    /// `None` for anything that is not a complete Argon2 PHC string.
    fn parse(phc: &str) -> Option<Self> {
        let parsed = phc::PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        // A PHC string without a version means the current one, as the argon2 crate reads it.
        let version = match parsed.version {
            Some(version) => Version::try_from(version).ok()?,
            None => Version::default(),
        };
        // Also takes the output length from the stored hash.
        let params = Params::try_from(&parsed).ok()?;
        Some(Self {
            argon2: Argon2::new(algorithm, version, params),
            salt: parsed.salt?,
            expected: parsed.hash?,
        })
    }

    fn matches(&self, candidate: &[u8], blocks: &mut [Block]) -> Result<bool, HashingError> {
        let mut computed = vec![0u8; self.expected.len()];
        compute(&self.argon2, candidate, &self.salt, &mut computed, blocks)?;
        // Constant-time: how many leading bytes match must not show in the timing.
        Ok(computed.ct_eq(self.expected.as_bytes()).into())
    }
}

/// Runs Argon2 in the thread's buffer, or in a buffer of its own when the parameters (those of
/// an older stored hash) need more memory than today's settings. Still within one slot, so
/// the number of such buffers stays bounded too.
fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    output: &mut [u8],
    buffer: &mut [Block],
) -> Result<(), HashingError> {
    let needed = argon2.params().block_count();
    let result = match buffer.get_mut(..needed) {
        Some(blocks) => argon2.hash_password_into_with_memory(password, salt, output, blocks),
        None => argon2.hash_password_into_with_memory(
            password,
            salt,
            output,
            vec![Block::new(); needed],
        ),
    };
    result.map_err(|error| HashingError(anyhow!(error).context("Argon2 failed")))
}

/// Increments a gauge for as long as it lives, so early returns and cancellation cannot leave
/// the gauge counting something that has ended.
struct GaugeIncrement(Gauge);

impl GaugeIncrement {
    fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for GaugeIncrement {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A salt straight from the operating system's CSPRNG.
fn random_salt() -> Result<[u8; SALT_BYTES], HashingError> {
    let mut salt = [0u8; SALT_BYTES];
    fill_from_os(&mut salt)?;
    Ok(salt)
}

fn fill_from_os(bytes: &mut [u8]) -> Result<(), HashingError> {
    OsRng
        .try_fill_bytes(bytes)
        .map_err(|error| HashingError(anyhow!(error).context("the OS random source failed")))
}

/// Formatting errors come from both the `phc` and the `password_hash` crates.
fn phc_error(error: impl std::error::Error + Send + Sync + 'static) -> HashingError {
    HashingError(anyhow!(error).context("could not format the PHC string"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    fn hashing(settings: Argon2Settings, max_concurrent: usize) -> Argon2Hashing {
        Argon2Hashing::new(
            settings,
            max_concurrent,
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        )
        .unwrap()
    }

    fn fast() -> Argon2Hashing {
        hashing(Argon2Settings::FAST_FOR_TESTS, 2)
    }

    fn password(text: &str) -> Password {
        Password::parse(text, &[]).unwrap()
    }

    /// The argon2 crate's own hasher, with parameters of our choosing.
    fn crate_hasher(memory_kib: u32) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(memory_kib, 1, 1, None).unwrap(),
        )
    }

    #[tokio::test]
    async fn the_right_password_matches_its_hash_and_another_does_not() {
        let hashing = fast();
        let hash = hashing
            .hash(&password("correct horse battery staple"))
            .await
            .unwrap();

        assert!(
            hashing
                .verify("correct horse battery staple", &hash)
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify("correct horse battery stapler", &hash)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_their_salt() {
        let hashing = fast();
        let password = password("correct horse battery staple");

        let first = hashing.hash(&password).await.unwrap();
        let second = hashing.hash(&password).await.unwrap();

        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_hash_is_a_standard_argon2id_phc_string_with_our_settings() {
        let hashing = hashing(
            Argon2Settings {
                memory_kib: 256,
                iterations: 3,
                parallelism: 2,
            },
            1,
        );

        let hash = hashing
            .hash(&password("tulipe-marteau-orage"))
            .await
            .unwrap();

        let parsed = phc::PasswordHash::new(hash.as_str()).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=256,t=3,p=2$"));
        assert_eq!(parsed.salt.unwrap().len(), SALT_BYTES);
        assert_eq!(parsed.hash.unwrap().len(), OUTPUT_BYTES);
    }

    #[tokio::test]
    async fn our_hash_verifies_with_the_argon2_crates_own_verifier() {
        let hash = fast()
            .hash(&password("tulipe-marteau-orage"))
            .await
            .unwrap();

        let verdict = Argon2::default().verify_password(b"tulipe-marteau-orage", hash.as_str());

        assert!(verdict.is_ok());
    }

    #[tokio::test]
    async fn a_hash_made_by_the_argon2_crate_verifies_with_ours() {
        let made_by_crate = crate_hasher(64)
            .hash_password(b"tulipe-marteau-orage")
            .unwrap()
            .to_string();

        let matches = fast()
            .verify(
                "tulipe-marteau-orage",
                &PasswordHash::from_phc(made_by_crate),
            )
            .await
            .unwrap();

        assert!(matches);
    }

    #[tokio::test]
    async fn a_stored_hash_needing_more_memory_than_the_threads_buffer_verifies_in_one_of_its_own()
    {
        let hashing = fast();
        let older = crate_hasher(256)
            .hash_password(b"tulipe-marteau-orage")
            .unwrap()
            .to_string();

        let matches = hashing
            .verify("tulipe-marteau-orage", &PasswordHash::from_phc(older))
            .await
            .unwrap();

        assert!(matches);
        assert_eq!(hashing.threads.buffers_held(), 1);
    }

    #[tokio::test]
    async fn a_stored_hash_needing_less_memory_uses_part_of_the_threads_buffer() {
        let hashing = fast();
        let cheaper = crate_hasher(16)
            .hash_password(b"tulipe-marteau-orage")
            .unwrap()
            .to_string();
        let stored = PasswordHash::from_phc(cheaper);

        assert!(
            hashing
                .verify("tulipe-marteau-orage", &stored)
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify("tulipe-marteau-orag", &stored)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_hash_that_cannot_be_parsed_matches_nothing() {
        let hashing = fast();

        for unparseable in [
            "",
            "not a hash",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0",
            "$argon2id$v=19$m=64,t=1,p=1",
            "$argon2id$v=99$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
            "$scrypt$ln=16,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            let matches = hashing
                .verify("", &PasswordHash::from_phc(unparseable.to_owned()))
                .await
                .unwrap();
            assert!(!matches, "{unparseable:?}");
        }
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_configured_cost_and_matches_no_likely_password() {
        let hashing = fast();

        let dummy = hashing.dummy_hash().clone();

        assert!(dummy.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!hashing.verify("", &dummy).await.unwrap());
        assert!(
            !hashing
                .verify("correct horse battery staple", &dummy)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn the_owasp_settings_hash_with_19_mib_two_passes_and_one_lane() {
        let hashing = hashing(Argon2Settings::OWASP, 1);

        assert!(
            hashing
                .dummy_hash()
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert_eq!(
            hashing.threads.buffers_held(),
            0,
            "the dummy hash's buffer outlived start-up"
        );
    }

    #[tokio::test]
    async fn a_flood_of_hashes_never_holds_more_buffers_than_threads() {
        let hashing = Arc::new(fast());
        let hash = hashing
            .hash(&password("correct horse battery staple"))
            .await
            .unwrap();

        let mut flood = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (hashing, hash) = (Arc::clone(&hashing), hash.clone());
            flood.spawn(async move { hashing.verify("correct horse battery staple", &hash).await });
        }
        let verdicts = flood.join_all().await;

        assert!(verdicts.into_iter().all(|verdict| verdict.unwrap()));
        let buffers = hashing.threads.buffers_held();
        assert!((1..=2).contains(&buffers), "{buffers}");
        assert_eq!(hashing.waiting.get(), 0);
        assert_eq!(hashing.running.get(), 0);
    }

    #[tokio::test]
    async fn a_hash_waiting_for_a_slot_shows_in_the_waiting_gauge() {
        let hashing = Arc::new(hashing(Argon2Settings::FAST_FOR_TESTS, 1));
        let occupied = Arc::clone(&hashing.slots).acquire_owned().await.unwrap();
        let waiter = {
            let hashing = Arc::clone(&hashing);
            tokio::spawn(async move { hashing.hash(&password("tulipe-marteau-orage")).await })
        };
        while hashing.waiting.get() == 0 {
            tokio::task::yield_now().await;
        }

        assert_eq!(hashing.waiting.get(), 1);
        assert_eq!(hashing.running.get(), 0);
        drop(occupied);
        assert!(waiter.await.unwrap().is_ok());
        assert_eq!(hashing.waiting.get(), 0);
        assert_eq!(hashing.running.get(), 0);
    }

    #[tokio::test]
    async fn a_caller_giving_up_while_waiting_for_a_slot_leaves_the_queue() {
        let hashing = hashing(Argon2Settings::FAST_FOR_TESTS, 1);
        let _occupied = Arc::clone(&hashing.slots).acquire_owned().await.unwrap();
        let stored = hashing.dummy_hash().clone();
        let mut waiting = Box::pin(hashing.verify("tulipe-marteau-orage", &stored));
        let still_waiting = tokio::select! {
            biased;
            _ = &mut waiting => false,
            _ = std::future::ready(()) => true,
        };
        assert!(still_waiting);
        assert_eq!(hashing.waiting.get(), 1);

        drop(waiting);

        assert_eq!(hashing.waiting.get(), 0);
        assert_eq!(hashing.running.get(), 0);
    }

    #[tokio::test]
    async fn a_hash_abandoned_by_its_caller_still_frees_its_slot() {
        // Costly enough that the hash cannot finish before the first poll returns.
        let settings = Argon2Settings {
            memory_kib: 4096,
            iterations: 4,
            parallelism: 1,
        };
        let hashing = hashing(settings, 1);
        let stored = hashing.dummy_hash().clone();

        let abandoned = tokio::select! {
            biased;
            _ = hashing.verify("tulipe-marteau-orage", &stored) => false,
            _ = std::future::ready(()) => true,
        };
        assert!(abandoned, "the hash finished before it could be abandoned");
        let every_slot = hashing.slots.acquire_many(1).await.unwrap();

        assert_eq!(hashing.threads.buffers_held(), 1);
        assert_eq!(hashing.running.get(), 0);
        assert_eq!(hashing.waiting.get(), 0);
        drop(every_slot);
    }

    #[test]
    fn settings_argon2_cannot_run_are_refused() {
        let too_little_memory = Argon2Settings {
            memory_kib: 4,
            ..Argon2Settings::FAST_FOR_TESTS
        };

        let refused = Argon2Hashing::new(
            too_little_memory,
            1,
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        );

        assert!(refused.is_err());
    }

    #[test]
    fn zero_concurrent_hashes_is_refused() {
        let refused = Argon2Hashing::new(
            Argon2Settings::FAST_FOR_TESTS,
            0,
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        );

        assert!(refused.is_err());
    }
}
