//! Adapters layer (MongoDB): the `outbox_mails` collection behind `OutboxStore`. Every guard
//! is a single-document conditional write, atomic in the server whatever the number of
//! instances: a claim takes one due, unleased mail at a time with `find_one_and_update` (so two
//! claimers never get one mail); each outcome is an `update_one` naming the claim's attempt.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, Document, doc, spec::BinarySubtype};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::values::{bson_time, bson_uuid, domain_count, domain_time, domain_uuid};
use super::{MongoStore, run};
use crate::core::model::{ClaimedMail, OutboxMailId, OutboxStatus, QueuedMail, SealedMail};
use crate::core::ports::{OutboxStore, StoreError};

const MAILS: &str = "outbox_mails";
const OBSOLETE_WINDOWS: &str = "outbox_recipient_windows";

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

impl MongoStore {
    fn outbox_mails(&self) -> Collection<OutboxDocument> {
        self.database.collection(MAILS)
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
    // The per-recipient counts moved to `rate_windows`; a database from before keeps a
    // collection nobody reads. Dropping a missing collection is not an error.
    store
        .database
        .collection::<Document>(OBSOLETE_WINDOWS)
        .drop()
        .await
        .with_context(|| format!("dropping the obsolete `{OBSOLETE_WINDOWS}`"))?;
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
            let purged = self
                .outbox_mails()
                .delete_many(doc! { "finished_at": { "$lt": bson_time(finished_before) } })
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
