//! Adapters layer (memory): the mail outbox, implementing `core::ports::OutboxStore`.
//! Each method is one critical section, hence atomic; claims are disjoint for that reason.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::core::model::{ClaimedMail, OutboxMailId, OutboxStatus, QueuedMail, SealedMail};
use crate::core::ports::{OutboxStore, StoreError};

/// Where a stored mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Queued,
    Sent,
    Abandoned,
}

/// One mail as kept.
#[derive(Debug, Clone)]
pub(super) struct StoredMail {
    kind: String,
    /// `None` once delivered or given up.
    body: Option<SealedMail>,
    state: State,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    lease_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

/// The outbox's part of the memory store.
#[derive(Default)]
pub(super) struct OutboxState {
    mails: HashMap<OutboxMailId, StoredMail>,
}

impl OutboxState {
    /// The queued mail `id` at `attempt`, if it is.
    fn claimed(&mut self, id: OutboxMailId, attempt: u32) -> Option<&mut StoredMail> {
        self.mails
            .get_mut(&id)
            .filter(|mail| mail.state == State::Queued && mail.attempts == attempt)
    }

    fn finish(&mut self, id: OutboxMailId, attempt: u32, state: State, now: DateTime<Utc>) -> bool {
        self.claimed(id, attempt).is_some_and(|mail| {
            mail.state = state;
            mail.body = None;
            mail.lease_until = None;
            mail.finished_at = Some(now);
            true
        })
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        let mut state = self.state()?;
        state.outbox.mails.insert(
            mail.id,
            StoredMail {
                kind: mail.kind.clone(),
                body: Some(mail.body.clone()),
                state: State::Queued,
                attempts: 0,
                next_attempt_at: mail.created_at,
                lease_until: None,
                created_at: mail.created_at,
                finished_at: None,
            },
        );
        Ok(())
    }

    async fn claim_mails(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let mut state = self.state()?;
        let mut due: Vec<(DateTime<Utc>, OutboxMailId)> = state
            .outbox
            .mails
            .iter()
            .filter(|(_, mail)| {
                mail.state == State::Queued
                    && mail.next_attempt_at <= now
                    && mail.lease_until.is_none_or(|lease| lease <= now)
            })
            .map(|(id, mail)| (mail.next_attempt_at, *id))
            .collect();
        due.sort();
        due.truncate(limit);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            let Some(mail) = state.outbox.mails.get_mut(&id) else {
                continue;
            };
            let Some(body) = mail.body.clone() else {
                continue;
            };
            mail.attempts += 1;
            mail.lease_until = Some(lease_until);
            claimed.push(ClaimedMail {
                id,
                kind: mail.kind.clone(),
                body,
                attempt: mail.attempts,
                created_at: mail.created_at,
                lease_until,
            });
        }
        Ok(claimed)
    }

    async fn mark_mail_sent(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.state()?.outbox.finish(id, attempt, State::Sent, now))
    }

    async fn retry_mail_at(
        &self,
        id: OutboxMailId,
        attempt: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        Ok(state.outbox.claimed(id, attempt).is_some_and(|mail| {
            mail.next_attempt_at = retry_at;
            mail.lease_until = None;
            true
        }))
    }

    async fn abandon_mail(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .state()?
            .outbox
            .finish(id, attempt, State::Abandoned, now))
    }

    async fn purge_mails(&self, finished_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let before = state.outbox.mails.len();
        state
            .outbox
            .mails
            .retain(|_, mail| mail.finished_at.is_none_or(|at| at >= finished_before));
        Ok((before - state.outbox.mails.len()) as u64)
    }

    async fn outbox_status(&self) -> Result<OutboxStatus, StoreError> {
        let state = self.state()?;
        let mut status = OutboxStatus::default();
        for mail in state.outbox.mails.values() {
            match mail.state {
                State::Queued => {
                    status.queued += 1;
                    status.oldest_queued_at = Some(
                        status
                            .oldest_queued_at
                            .map_or(mail.created_at, |oldest| oldest.min(mail.created_at)),
                    );
                }
                State::Sent => status.sent += 1,
                State::Abandoned => status.abandoned += 1,
            }
        }
        Ok(status)
    }
}
