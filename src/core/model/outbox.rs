//! Core layer: mails waiting in the durable outbox, as the store keeps them. The body is
//! sealed (encrypted and authenticated) by an adapter before it reaches the store: the core
//! never needs to read it back, only to hand it to the transport.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Identifies one queued mail. UUID v7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxMailId(Uuid);

impl OutboxMailId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for OutboxMailId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OutboxMailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A mail's whole content — recipient, subject, text with its codes and links — sealed for
/// the store. Opaque to the core; only the transport's adapter opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedMail(Vec<u8>);

impl SealedMail {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SealedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedMail(<redacted>)")
    }
}

/// A mail entering the outbox: due at once, never tried. The recipient is only inside the
/// sealed body.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMail {
    pub id: OutboxMailId,
    /// `MailMessage::kind`, for logs and metrics (never a secret).
    pub kind: String,
    pub body: SealedMail,
    pub created_at: DateTime<Utc>,
}

/// A mail a sender has claimed: only it may deliver the mail until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMail {
    pub id: OutboxMailId,
    pub kind: String,
    pub body: SealedMail,
    /// Attempts counted so far, this one included (the claim counts it). The claim's
    /// identity too: a later claim of the same mail has a higher number, so a sender whose
    /// lease ran out can no longer record an outcome.
    pub attempt: u32,
    pub created_at: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// The outbox at a glance, shared by every instance on the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxStatus {
    /// Waiting for delivery (due or backing off, claimed or not).
    pub queued: u64,
    /// Delivered and not yet purged.
    pub sent: u64,
    /// Given up after the last attempt, and not yet purged.
    pub abandoned: u64,
    /// When the oldest mail still waiting was queued.
    pub oldest_queued_at: Option<DateTime<Utc>>,
}
