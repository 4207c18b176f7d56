//! Adapters layer (MongoDB): the `outbox_mails` and `outbox_recipient_windows` collections
//! behind `OutboxStore`. Every guard is a single-document conditional write, atomic in the
//! server whatever the number of instances: a claim takes one due, unleased mail at a time
//! with `find_one_and_update` (so two claimers never get one mail); each outcome is an
//! `update_one` naming the claim's attempt; the cap is a conditional `$inc` on the window's
//! document, created by an insert that the unique `_id` arbitrates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, Document, doc, spec::BinarySubtype};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::values::{bson_digest, bson_time, bson_uuid, domain_count, domain_time, domain_uuid};
use super::{MongoStore, run};
use crate::core::model::{
    ClaimedMail, OutboxMailId, OutboxStatus, QueuedMail, SealedMail, SecretDigest,
};
use crate::core::ports::{OutboxStore, StoreError};

const MAILS: &str = "outbox_mails";
const WINDOWS: &str = "outbox_recipient_windows";
const DUPLICATE_KEY: i32 = 11000;

/// One mail as stored. `body` (sealed) is absent once it is delivered or given up;
/// `attempts` identifies the current claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OutboxDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    kind: String,
    body: Option<Binary>,
    state: String,
    attempts: i64,
    next_attempt_at: bson::DateTime,
    lease_until: Option<bson::DateTime>,
    created_at: bson::DateTime,
    finished_at: Option<bson::DateTime>,
}

impl OutboxDocument {
    fn claimed(self) -> anyhow::Result<ClaimedMail> {
        let body = self
            .body
            .ok_or_else(|| anyhow::anyhow!("field `body`: a queued mail has no body"))?;
        Ok(ClaimedMail {
            id: OutboxMailId::from_uuid(domain_uuid(self.id)),
            kind: self.kind,
            body: SealedMail::from_bytes(body.bytes),
            attempt: domain_count("attempts", self.attempts)?,
            created_at: domain_time("created_at", self.created_at)?,
            lease_until: self
                .lease_until
                .map(|lease| domain_time("lease_until", lease))
                .transpose()?
                .ok_or_else(|| anyhow::anyhow!("field `lease_until`: a claim has no lease"))?,
        })
    }
}

fn is_duplicate_key(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Command(command_error) => command_error.code == DUPLICATE_KEY,
        ErrorKind::Write(WriteFailure::WriteError(write_error)) => {
            write_error.code == DUPLICATE_KEY
        }
        _ => false,
    }
}

impl MongoStore {
    fn outbox_mails(&self) -> Collection<OutboxDocument> {
        self.database.collection(MAILS)
    }

    fn outbox_windows(&self) -> Collection<Document> {
        self.database.collection(WINDOWS)
    }

    /// Ends the claim `attempt` of mail `id` in `state`, forgetting the body.
    async fn finish_mail(
        &self,
        id: OutboxMailId,
        attempt: u32,
        state: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let result = self
            .outbox_mails()
            .update_one(
                doc! { "_id": bson_uuid(id.as_uuid()), "state": "queued", "attempts": i64::from(attempt) },
                doc! {
                    "$set": { "state": state, "finished_at": bson_time(now) },
                    "$unset": { "body": "", "lease_until": "" },
                },
            )
            .await?;
        Ok(result.matched_count == 1)
    }

    /// One more mail in the window, if it has fewer than `limit`.
    async fn count_in_window(&self, window: &Document, limit: u32) -> anyhow::Result<bool> {
        let result = self
            .outbox_windows()
            .update_one(
                doc! { "_id": window.clone(), "mails": { "$lt": i64::from(limit) } },
                doc! { "$inc": { "mails": 1_i64 } },
            )
            .await?;
        Ok(result.matched_count == 1)
    }
}

/// The indexes the outbox's queries need, created at start-up with the others.
pub(super) async fn create_indexes(store: &MongoStore) -> anyhow::Result<()> {
    use anyhow::Context;
    let indexes = [
        // Claims: queued mails by due time.
        (
            doc! { "state": 1, "next_attempt_at": 1, "_id": 1 },
            "state_next_attempt_at",
        ),
        // Purges: finished mails by time.
        (doc! { "finished_at": 1 }, "finished_at"),
    ];
    for (keys, name) in indexes {
        store
            .outbox_mails()
            .create_index(
                IndexModel::builder()
                    .keys(keys)
                    .options(IndexOptions::builder().name(name.to_owned()).build())
                    .build(),
            )
            .await
            .with_context(|| format!("creating the index `{name}` on `{MAILS}`"))?;
    }
    store
        .outbox_windows()
        .create_index(
            IndexModel::builder()
                .keys(doc! { "window_start": 1 })
                .options(
                    IndexOptions::builder()
                        .name("window_start".to_owned())
                        .build(),
                )
                .build(),
        )
        .await
        .with_context(|| format!("creating the index `window_start` on `{WINDOWS}`"))?;
    Ok(())
}

#[async_trait]
impl OutboxStore for MongoStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        run("queueing a mail", async {
            let created_at = bson_time(mail.created_at);
            self.outbox_mails()
                .insert_one(OutboxDocument {
                    id: bson_uuid(mail.id.as_uuid()),
                    kind: mail.kind.clone(),
                    body: Some(Binary {
                        subtype: BinarySubtype::Generic,
                        bytes: mail.body.as_bytes().to_vec(),
                    }),
                    state: "queued".to_owned(),
                    attempts: 0,
                    next_attempt_at: created_at,
                    lease_until: None,
                    created_at,
                    finished_at: None,
                })
                .await?;
            Ok(())
        })
        .await
    }

    async fn count_mail_to(
        &self,
        recipient: &SecretDigest,
        window_start: DateTime<Utc>,
        limit: u32,
    ) -> Result<bool, StoreError> {
        run("counting a mail to a recipient", async {
            if limit == 0 {
                return Ok(false);
            }
            let window =
                doc! { "recipient": bson_digest(recipient), "start": bson_time(window_start) };
            if self.count_in_window(&window, limit).await? {
                return Ok(true);
            }
            let first = doc! {
                "_id": window.clone(),
                "window_start": bson_time(window_start),
                "mails": 1_i64,
            };
            match self.outbox_windows().insert_one(first).await {
                Ok(_) => Ok(true),
                // Created meanwhile by another call: its count now decides.
                Err(error) if is_duplicate_key(&error) => {
                    self.count_in_window(&window, limit).await
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn claim_mails(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        run("claiming due mails", async {
            let now = bson_time(now);
            let mut claimed = Vec::new();
            while claimed.len() < limit {
                let next = self
                    .outbox_mails()
                    .find_one_and_update(
                        doc! {
                            "state": "queued",
                            "next_attempt_at": { "$lte": now },
                            "$or": [
                                { "lease_until": null },
                                { "lease_until": { "$lte": now } },
                            ],
                        },
                        doc! {
                            "$inc": { "attempts": 1_i64 },
                            "$set": { "lease_until": bson_time(lease_until) },
                        },
                    )
                    .sort(doc! { "next_attempt_at": 1, "_id": 1 })
                    .return_document(ReturnDocument::After)
                    .await?;
                let Some(document) = next else { break };
                claimed.push(document.claimed()?);
            }
            Ok(claimed)
        })
        .await
    }

    async fn mark_mail_sent(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run(
            "marking a mail sent",
            self.finish_mail(id, attempt, "sent", now),
        )
        .await
    }

    async fn retry_mail_at(
        &self,
        id: OutboxMailId,
        attempt: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run("scheduling a mail's next attempt", async {
            let result = self
                .outbox_mails()
                .update_one(
                    doc! { "_id": bson_uuid(id.as_uuid()), "state": "queued", "attempts": i64::from(attempt) },
                    doc! {
                        "$set": { "next_attempt_at": bson_time(retry_at) },
                        "$unset": { "lease_until": "" },
                    },
                )
                .await?;
            Ok(result.matched_count == 1)
        })
        .await
    }

    async fn abandon_mail(
        &self,
        id: OutboxMailId,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run(
            "giving a mail up",
            self.finish_mail(id, attempt, "abandoned", now),
        )
        .await
    }

    async fn purge_mails(&self, finished_before: DateTime<Utc>) -> Result<u64, StoreError> {
        run("purging old mails", async {
            let before = bson_time(finished_before);
            let purged = self
                .outbox_mails()
                .delete_many(doc! { "finished_at": { "$lt": before } })
                .await?;
            self.outbox_windows()
                .delete_many(doc! { "window_start": { "$lt": before } })
                .await?;
            Ok(purged.deleted_count)
        })
        .await
    }

    async fn outbox_status(&self) -> Result<OutboxStatus, StoreError> {
        run("reading the outbox's status", async {
            let mut groups = self
                .outbox_mails()
                .aggregate([doc! {
                    "$group": {
                        "_id": "$state",
                        "mails": { "$sum": 1_i64 },
                        "oldest": { "$min": "$created_at" },
                    }
                }])
                .await?;
            let mut status = OutboxStatus::default();
            while groups.advance().await? {
                let group = groups.deserialize_current()?;
                let mails = u64::try_from(
                    group
                        .get_i64("mails")
                        .or_else(|_| group.get_i32("mails").map(i64::from))?,
                )
                .unwrap_or(0);
                match group.get_str("_id")? {
                    "queued" => {
                        status.queued = mails;
                        status.oldest_queued_at =
                            Some(domain_time("created_at", *group.get_datetime("oldest")?)?);
                    }
                    "sent" => status.sent = mails,
                    "abandoned" => status.abandoned = mails,
                    other => anyhow::bail!("field `state`: unknown state `{other}`"),
                }
            }
            Ok(status)
        })
        .await
    }
}
