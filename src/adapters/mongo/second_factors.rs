//! Adapters layer (MongoDB): the `second_factors` collection behind `SecondFactorStore`.
//!
//! One document per user (`_id` = user id) holds the TOTP enrolment (`totp`, absent when
//! none) and the recovery codes (`recovery_codes`), so every guard is one conditional update
//! of one document — atomic on the server — and no operation needs a transaction.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, Bson, doc, spec::BinarySubtype};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::values::{bson_digest, bson_time, bson_uuid, domain_time, optional_domain_time};
use super::{MongoStore, run};
use crate::core::model::{SealedTotpSecret, SecretDigest, TotpEnrolment, UserId};
use crate::core::ports::{SecondFactorStore, StoreError};

pub(super) const COLLECTION: &str = "second_factors";

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// A user's second factors as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SecondFactorsDocument {
    #[serde(rename = "_id")]
    user_id: bson::Uuid,
    totp: Option<TotpDocument>,
    #[serde(default)]
    recovery_codes: Vec<RecoveryCodeDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TotpDocument {
    /// Sealed by the TOTP engine; never the secret in clear.
    sealed_secret: Binary,
    created_at: bson::DateTime,
    enabled_at: Option<bson::DateTime>,
    /// 64-bit: BSON has no unsigned integer.
    last_used_step: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RecoveryCodeDocument {
    digest: Binary,
    created_at: bson::DateTime,
    used_at: Option<bson::DateTime>,
}

fn sealed_binary(secret: &SealedTotpSecret) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: secret.as_bytes().to_vec(),
    }
}

fn bson_step(step: u64) -> anyhow::Result<i64> {
    i64::try_from(step).context("a TOTP step beyond BSON's integers")
}

fn enrolment(user_id: UserId, totp: TotpDocument) -> anyhow::Result<TotpEnrolment> {
    Ok(TotpEnrolment {
        user_id,
        secret: SealedTotpSecret::from_bytes(totp.sealed_secret.bytes),
        created_at: domain_time("totp.created_at", totp.created_at)?,
        enabled_at: optional_domain_time("totp.enabled_at", totp.enabled_at)?,
        last_used_step: totp
            .last_used_step
            .map(u64::try_from)
            .transpose()
            .context("field `totp.last_used_step`")?,
    })
}

/// Whether `error` is an upsert that found an existing document its filter refused.
fn is_duplicate_key(error: &Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(write_error)) if write_error.code == DUPLICATE_KEY
    )
}

#[async_trait]
impl SecondFactorStore for MongoStore {
    async fn totp_enrolment(&self, user_id: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        run("reading a TOTP enrolment", async {
            let document = self
                .second_factors
                .find_one(doc! { "_id": bson_uuid(user_id.as_uuid()) })
                .await?;
            document
                .and_then(|document| document.totp)
                .map(|totp| enrolment(user_id, totp))
                .transpose()
        })
        .await
    }

    async fn put_pending_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run("storing a pending TOTP enrolment", async {
            // The filter matches a user without an enabled enrolment. When a document exists
            // but its enrolment is enabled, the upsert tries to insert a second document with
            // the same `_id` and the server refuses: nothing changed, which is the answer.
            // `$or` keeps the filter's fields out of the upserted document.
            let filter = doc! {
                "_id": bson_uuid(user_id.as_uuid()),
                "$or": [ { "totp": null }, { "totp.enabled_at": null } ],
            };
            let pending = doc! {
                "sealed_secret": sealed_binary(secret),
                "created_at": bson_time(now),
                "enabled_at": Bson::Null,
                "last_used_step": Bson::Null,
            };
            let update = doc! { "$set": { "totp": pending } };
            let outcome = self
                .second_factors
                .update_one(filter.clone(), update.clone())
                .upsert(true)
                .await;
            match outcome {
                Ok(_) => Ok(true),
                // The duplicate key may also be a concurrent first setup that created the
                // document between our filter's miss and our insert — nothing is enabled then.
                // The document exists now, so the same update again tells the two apart: it
                // matches unless an enrolment is enabled. Documents are only ever deleted with
                // their user, so one retry settles it.
                Err(error) if is_duplicate_key(&error) => {
                    let retried = self.second_factors.update_one(filter, update).await?;
                    Ok(retried.matched_count == 1)
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn enable_totp(
        &self,
        user_id: UserId,
        secret: &SealedTotpSecret,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run("enabling TOTP", async {
            let enabled = self
                .second_factors
                .update_one(
                    doc! {
                        "_id": bson_uuid(user_id.as_uuid()),
                        "totp.sealed_secret": sealed_binary(secret),
                        "totp.enabled_at": null,
                    },
                    doc! { "$set": {
                        "totp.enabled_at": bson_time(now),
                        "totp.last_used_step": bson_step(step)?,
                    } },
                )
                .await?;
            Ok(enabled.modified_count == 1)
        })
        .await
    }

    async fn use_totp_step(&self, user_id: UserId, step: u64) -> Result<bool, StoreError> {
        run("using a TOTP step", async {
            let step = bson_step(step)?;
            let used = self
                .second_factors
                .update_one(
                    doc! {
                        "_id": bson_uuid(user_id.as_uuid()),
                        "totp.enabled_at": { "$ne": null },
                        "$or": [
                            { "totp.last_used_step": null },
                            { "totp.last_used_step": { "$lt": step } },
                        ],
                    },
                    doc! { "$set": { "totp.last_used_step": step } },
                )
                .await?;
            Ok(used.modified_count == 1)
        })
        .await
    }

    async fn remove_totp(&self, user_id: UserId) -> Result<bool, StoreError> {
        run("removing TOTP", async {
            // One atomic write clears both, whether or not there is an enrolment — codes
            // without one (a half-finished setup, an earlier partial removal) go too — and
            // the document as it was says whether there was an enrolment.
            let before = self
                .second_factors
                .find_one_and_update(
                    doc! { "_id": bson_uuid(user_id.as_uuid()) },
                    doc! { "$unset": { "totp": "", "recovery_codes": "" } },
                )
                .return_document(ReturnDocument::Before)
                .await?;
            Ok(before.is_some_and(|document| document.totp.is_some()))
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        digests: &[SecretDigest],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        run("replacing recovery codes", async {
            let codes: Vec<Bson> = digests
                .iter()
                .map(|digest| {
                    Bson::Document(doc! {
                        "digest": bson_digest(digest),
                        "created_at": bson_time(now),
                        "used_at": Bson::Null,
                    })
                })
                .collect();
            self.second_factors
                .update_one(
                    doc! { "_id": bson_uuid(user_id.as_uuid()) },
                    doc! { "$set": { "recovery_codes": codes } },
                )
                .upsert(true)
                .await?;
            Ok(())
        })
        .await
    }

    async fn consume_recovery_code(
        &self,
        user_id: UserId,
        digest: &SecretDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run("using a recovery code", async {
            // `$elemMatch` finds the unused code and `$` updates that very element, in one
            // atomic update of the document.
            let used = self
                .second_factors
                .update_one(
                    doc! {
                        "_id": bson_uuid(user_id.as_uuid()),
                        "recovery_codes": { "$elemMatch": {
                            "digest": bson_digest(digest),
                            "used_at": null,
                        } },
                    },
                    doc! { "$set": { "recovery_codes.$.used_at": bson_time(now) } },
                )
                .await?;
            Ok(used.modified_count == 1)
        })
        .await
    }

    async fn unused_recovery_codes(&self, user_id: UserId) -> Result<u64, StoreError> {
        run("counting recovery codes", async {
            let document = self
                .second_factors
                .find_one(doc! { "_id": bson_uuid(user_id.as_uuid()) })
                .await?;
            let unused = document.map_or(0, |document| {
                document
                    .recovery_codes
                    .iter()
                    .filter(|code| code.used_at.is_none())
                    .count()
            });
            Ok(unused as u64)
        })
        .await
    }
}
