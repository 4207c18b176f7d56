//! Adapters layer (MongoDB): the `login_challenges` collection behind `ChallengeStore`.
//!
//! Each guard is one conditional update of one document — the precondition in the filter —
//! which MongoDB applies atomically. When it matches nothing, a second read only explains why
//! (exhausted, too soon, or closed). That read cannot contradict the guard in a way that
//! matters: a challenge's attempts and code time only grow, and completion and expiry are
//! final, so whatever stopped the update still holds, or the challenge has meanwhile closed —
//! which the read then reports.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mongodb::bson::{self, Binary, Document, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::values::{
    bson_digest, bson_time, bson_uuid, domain_count, domain_digest, domain_time, domain_uuid,
    optional_bson_time, optional_domain_time,
};
use super::{MongoStore, run};
use crate::core::model::{ChallengeId, LoginChallenge, SecretDigest, UserId};
use crate::core::ports::{AttemptOutcome, ChallengeStore, ReplaceCodeOutcome, StoreError};

pub(super) const COLLECTION: &str = "login_challenges";

/// A login challenge as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ChallengeDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    user_id: bson::Uuid,
    code_digest: Binary,
    code_sent_at: bson::DateTime,
    /// 64-bit, as every counter here: BSON has no unsigned 32-bit integer.
    attempts: i64,
    /// Also the TTL index's field: the server deletes the challenge a day after it expires.
    expires_at: bson::DateTime,
    completed_at: Option<bson::DateTime>,
}

impl From<&LoginChallenge> for ChallengeDocument {
    fn from(challenge: &LoginChallenge) -> Self {
        Self {
            id: bson_uuid(challenge.id.as_uuid()),
            user_id: bson_uuid(challenge.user_id.as_uuid()),
            code_digest: bson_digest(&challenge.code_digest),
            code_sent_at: bson_time(challenge.code_sent_at),
            attempts: i64::from(challenge.attempts),
            expires_at: bson_time(challenge.expires_at),
            completed_at: optional_bson_time(challenge.completed_at),
        }
    }
}

impl TryFrom<ChallengeDocument> for LoginChallenge {
    type Error = anyhow::Error;

    fn try_from(document: ChallengeDocument) -> anyhow::Result<Self> {
        let id = ChallengeId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<LoginChallenge> {
            Ok(LoginChallenge {
                id,
                user_id: UserId::from_uuid(domain_uuid(document.user_id)),
                code_digest: domain_digest("code_digest", &document.code_digest)?,
                code_sent_at: domain_time("code_sent_at", document.code_sent_at)?,
                attempts: domain_count("attempts", document.attempts)?,
                expires_at: domain_time("expires_at", document.expires_at)?,
                completed_at: optional_domain_time("completed_at", document.completed_at)?,
            })
        };
        read().map_err(|error| error.context(format!("login challenge document {id}")))
    }
}

/// The filter of an open challenge: this one, not completed, and `now` before its expiry.
/// Expiry is checked here, not left to the TTL index, whose deletions are lazy.
fn open_challenge(id: ChallengeId, now: DateTime<Utc>) -> Document {
    doc! {
        "_id": bson_uuid(id.as_uuid()),
        "completed_at": null,
        "expires_at": { "$gt": bson_time(now) },
    }
}

/// `open_challenge`, further narrowed to one with fewer than `max_attempts` judged.
fn open_challenge_with_attempts_left(
    id: ChallengeId,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Document {
    let mut filter = open_challenge(id, now);
    filter.insert("attempts", doc! { "$lt": i64::from(max_attempts) });
    filter
}

#[async_trait]
impl ChallengeStore for MongoStore {
    async fn insert_challenge(&self, challenge: &LoginChallenge) -> Result<(), StoreError> {
        run("inserting a login challenge", async {
            self.challenges
                .insert_one(ChallengeDocument::from(challenge))
                .await?;
            Ok(())
        })
        .await
    }

    async fn challenge(&self, id: ChallengeId) -> Result<Option<LoginChallenge>, StoreError> {
        run("reading a login challenge", async {
            self.challenges
                .find_one(doc! { "_id": bson_uuid(id.as_uuid()) })
                .await?
                .map(LoginChallenge::try_from)
                .transpose()
        })
        .await
    }

    async fn count_attempt(
        &self,
        id: ChallengeId,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<AttemptOutcome, StoreError> {
        run("counting a login attempt", async {
            let counted = self
                .challenges
                .find_one_and_update(
                    open_challenge_with_attempts_left(id, max_attempts, now),
                    doc! { "$inc": { "attempts": 1_i64 } },
                )
                .return_document(ReturnDocument::After)
                .await?;
            if let Some(challenge) = counted {
                return Ok(AttemptOutcome::Counted(challenge.try_into()?));
            }
            let open = self.challenges.find_one(open_challenge(id, now)).await?;
            Ok(match open {
                Some(_) => AttemptOutcome::Exhausted,
                None => AttemptOutcome::Closed,
            })
        })
        .await
    }

    async fn complete_challenge(
        &self,
        id: ChallengeId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        run("completing a login challenge", async {
            let completed = self
                .challenges
                .update_one(
                    doc! { "_id": bson_uuid(id.as_uuid()), "completed_at": null },
                    doc! { "$set": { "completed_at": bson_time(now) } },
                )
                .await?;
            Ok(completed.matched_count == 1)
        })
        .await
    }

    async fn replace_code(
        &self,
        id: ChallengeId,
        code_digest: &SecretDigest,
        max_attempts: u32,
        cooldown: Duration,
        now: DateTime<Utc>,
    ) -> Result<ReplaceCodeOutcome, StoreError> {
        run("replacing a login code", async {
            let mut filter = open_challenge_with_attempts_left(id, max_attempts, now);
            filter.insert("code_sent_at", doc! { "$lte": bson_time(now - cooldown) });
            let replaced = self
                .challenges
                .update_one(
                    filter,
                    doc! { "$set": {
                        "code_digest": bson_digest(code_digest),
                        "code_sent_at": bson_time(now),
                    } },
                )
                .await?;
            if replaced.matched_count == 1 {
                return Ok(ReplaceCodeOutcome::Replaced);
            }
            let open = self
                .challenges
                .find_one(open_challenge_with_attempts_left(id, max_attempts, now))
                .await?;
            Ok(match open {
                Some(challenge) => ReplaceCodeOutcome::TooSoon {
                    sent_at: domain_time("code_sent_at", challenge.code_sent_at)?,
                },
                None => ReplaceCodeOutcome::Closed,
            })
        })
        .await
    }

    async fn close_user_challenges(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        run("closing a user's login challenges", async {
            let closed = self
                .challenges
                .update_many(
                    doc! {
                        "user_id": bson_uuid(user_id.as_uuid()),
                        "completed_at": null,
                        "expires_at": { "$gt": bson_time(now) },
                    },
                    doc! { "$set": { "completed_at": bson_time(now) } },
                )
                .await?;
            Ok(closed.modified_count)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mongodb::bson::Bson;

    use super::*;

    fn a_challenge() -> LoginChallenge {
        let at = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();
        LoginChallenge {
            id: ChallengeId::new(),
            user_id: UserId::new(),
            code_digest: SecretDigest::from_bytes([3; 32]),
            code_sent_at: at,
            attempts: 2,
            expires_at: at + Duration::minutes(10),
            completed_at: Some(at + Duration::seconds(42)),
        }
    }

    #[test]
    fn a_challenge_round_trips_through_its_bson_document() {
        let challenge = a_challenge();

        let stored = bson::to_document(&ChallengeDocument::from(&challenge)).unwrap();
        let read: ChallengeDocument = bson::from_document(stored.clone()).unwrap();

        assert_eq!(LoginChallenge::try_from(read).unwrap(), challenge);
        assert_eq!(stored.get("attempts"), Some(&Bson::Int64(2)));
    }

    #[test]
    fn a_negative_attempt_count_is_corrupt() {
        let challenge = a_challenge();
        let mut document = ChallengeDocument::from(&challenge);
        document.attempts = -1;

        let error = LoginChallenge::try_from(document).unwrap_err();

        let chain = format!("{error:#}");
        assert!(
            chain.contains(&format!("login challenge document {}", challenge.id)),
            "{chain}"
        );
        assert!(chain.contains("field `attempts`"), "{chain}");
    }

    #[test]
    fn the_attempt_guard_filters_on_openness_expiry_and_attempts_left() {
        let id = ChallengeId::new();
        let now = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();

        let filter = open_challenge_with_attempts_left(id, 5, now);

        assert_eq!(
            filter,
            doc! {
                "_id": bson_uuid(id.as_uuid()),
                "completed_at": null,
                "expires_at": { "$gt": bson_time(now) },
                "attempts": { "$lt": 5_i64 },
            }
        );
    }
}
