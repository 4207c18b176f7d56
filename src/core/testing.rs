//! Core layer, unit tests only: hand-written fakes of the ports the core's own unit tests need,
//! and a way to run a use case's future. No adapter and no runtime: the fakes never wait, so
//! one poll finishes any future built on them.

use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use super::model::{
    AccountStatus, AuditEvent, AuditFilter, AuditKind, Email, Mail, Name, PageRequest, Password,
    PasswordHash, Role, SecretDigest, ThrottleRecord, User, UserId,
};
use super::ports::{
    AttemptThrottleStore, AuditLog, Clock, HashingError, MailError, Mailer, PasswordHashing,
    SecretDigester, StoreError,
};

/// Runs a future built on these fakes to its end.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a fake port waited; the core's unit tests never should"),
    }
}

/// A clock that never moves.
pub struct FixedClock(DateTime<Utc>);

impl FixedClock {
    pub fn at_new_year() -> Self {
        Self(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A digest that is the text's bytes, zero-padded: distinct texts (up to 32 bytes apart)
/// give distinct digests, which is all the unit tests compare.
pub struct PlainDigester;

impl SecretDigester for PlainDigester {
    fn digest(&self, text: &str) -> SecretDigest {
        let mut bytes = [0u8; 32];
        for (index, byte) in text.bytes().enumerate() {
            bytes[index % 32] ^= byte.rotate_left((index / 32) as u32);
        }
        SecretDigest::from_bytes(bytes)
    }
}

/// Keeps each key's record in memory (the compare-and-set is trivially atomic: the fakes
/// never wait), logs the keys cleared, and reads every key as locked once told to.
#[derive(Default)]
pub struct RecordingThrottles {
    records: Mutex<Vec<(SecretDigest, ThrottleRecord)>>,
    cleared: Mutex<Vec<SecretDigest>>,
    locked_until: Mutex<Option<DateTime<Utc>>>,
}

impl RecordingThrottles {
    /// From now on every key reads as locked until `until`.
    pub fn lock_until(&self, until: DateTime<Utc>) {
        *self.locked_until.lock().unwrap() = Some(until);
    }

    /// The key's record as stored, if any.
    pub fn record(&self, key: &SecretDigest) -> Option<ThrottleRecord> {
        let records = self.records.lock().unwrap();
        records
            .iter()
            .find(|(stored, _)| stored == key)
            .map(|(_, record)| *record)
    }

    pub fn cleared(&self) -> Vec<SecretDigest> {
        self.cleared.lock().unwrap().clone()
    }
}

#[async_trait]
impl AttemptThrottleStore for RecordingThrottles {
    async fn throttle_record(
        &self,
        key: &SecretDigest,
    ) -> Result<Option<ThrottleRecord>, StoreError> {
        if let Some(until) = *self.locked_until.lock().unwrap() {
            return Ok(Some(ThrottleRecord {
                attempts: u32::MAX,
                locked_until: Some(until),
                next_lock: chrono::Duration::minutes(15),
                forgotten_at: until + chrono::Duration::days(1),
            }));
        }
        Ok(self.record(key))
    }

    async fn replace_throttle_record(
        &self,
        key: &SecretDigest,
        expected: Option<&ThrottleRecord>,
        record: &ThrottleRecord,
    ) -> Result<bool, StoreError> {
        if self.record(key).as_ref() != expected {
            return Ok(false);
        }
        let mut records = self.records.lock().unwrap();
        records.retain(|(stored, _)| stored != key);
        records.push((*key, *record));
        Ok(true)
    }

    async fn clear_attempts(&self, key: &SecretDigest) -> Result<(), StoreError> {
        self.records
            .lock()
            .unwrap()
            .retain(|(stored, _)| stored != key);
        self.cleared.lock().unwrap().push(*key);
        Ok(())
    }
}

/// Keeps every mail it is asked to send, then fails when told to.
#[derive(Default)]
pub struct RecordingMailer {
    attempted: Mutex<Vec<Mail>>,
    failing: bool,
}

impl RecordingMailer {
    pub fn failing() -> Self {
        Self {
            failing: true,
            ..Self::default()
        }
    }

    pub fn attempted(&self) -> Vec<Mail> {
        self.attempted.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        self.attempted.lock().unwrap().push(mail);
        if self.failing {
            Err(MailError(anyhow::anyhow!("relay refused the connection")))
        } else {
            Ok(())
        }
    }
}

/// "Hashes" a password as `plain:<password>`, and counts the verifications it makes.
#[derive(Default)]
pub struct PlainHashing {
    verifications: Mutex<Vec<String>>,
    dummy: Option<PasswordHash>,
}

impl PlainHashing {
    pub fn hash_of(password: &str) -> PasswordHash {
        PasswordHash::from_phc(format!("plain:{password}"))
    }

    /// Every candidate it was asked to verify, in order.
    pub fn verified(&self) -> Vec<String> {
        self.verifications.lock().unwrap().clone()
    }
}

#[async_trait]
impl PasswordHashing for PlainHashing {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashingError> {
        Ok(Self::hash_of(password.expose()))
    }

    async fn verify(&self, candidate: &str, hash: &PasswordHash) -> Result<bool, HashingError> {
        self.verifications
            .lock()
            .unwrap()
            .push(candidate.to_owned());
        Ok(hash.as_str() == format!("plain:{candidate}"))
    }

    fn dummy_hash(&self) -> &PasswordHash {
        self.dummy.as_ref().expect("no dummy hash in this fake")
    }
}

/// Keeps the kinds of the events recorded.
#[derive(Default)]
pub struct RecordingAuditLog {
    kinds: Mutex<Vec<AuditKind>>,
}

impl RecordingAuditLog {
    pub fn kinds(&self) -> Vec<AuditKind> {
        self.kinds.lock().unwrap().clone()
    }
}

#[async_trait]
impl AuditLog for RecordingAuditLog {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.kinds.lock().unwrap().push(event.kind);
        Ok(())
    }

    async fn audit_events(
        &self,
        _filter: &AuditFilter,
        _page: PageRequest,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(Vec::new())
    }
}

/// An active, verified client whose password is `password` (under `PlainHashing`).
pub fn client_with_password(email: &str, password: &str) -> User {
    let now = FixedClock::at_new_year().now();
    User {
        id: UserId::new(),
        name: Name::parse("Amina").unwrap(),
        email: Email::parse(email).unwrap(),
        phone: None,
        address: None,
        role: Role::Client,
        status: AccountStatus::Active,
        password_hash: PlainHashing::hash_of(password),
        email_verified_at: Some(now),
        locale: Default::default(),
        created_at: now,
        updated_at: now,
    }
}
