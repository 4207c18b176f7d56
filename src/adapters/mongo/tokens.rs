//! Adapters layer (MongoDB): the `one_time_tokens` collection behind `OneTimeTokenStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::values::{bson_digest, bson_time, bson_uuid, domain_uuid};
use super::{MongoStore, run};
use crate::core::model::{OneTimeToken, SecretDigest, TokenPurpose, UserId};
use crate::core::ports::{OneTimeTokenStore, StoreError};

pub(super) const COLLECTION: &str = "one_time_tokens";

/// A mailed token as stored. Its identity is the digest of its secret: the `_id` index is the
/// lookup, and a second token with one digest is refused by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TokenDocument {
    #[serde(rename = "_id")]
    digest: Binary,
    purpose: String,
    user_id: bson::Uuid,
    created_at: bson::DateTime,
    /// Also the TTL index's field: the server deletes the token a day after it expires.
    expires_at: bson::DateTime,
    /// Kept once set, so a replayed link can be told from a forged one until the TTL removes it.
    consumed_at: Option<bson::DateTime>,
}

impl From<&OneTimeToken> for TokenDocument {
    fn from(token: &OneTimeToken) -> Self {
        Self {
            digest: bson_digest(&token.digest),
            purpose: token.purpose.as_str().to_owned(),
            user_id: bson_uuid(token.user_id.as_uuid()),
            created_at: bson_time(token.created_at),
            expires_at: bson_time(token.expires_at),
            consumed_at: None,
        }
    }
}

impl TokenDocument {
    /// Consuming a token only needs to know whose it was.
    fn user_id(&self) -> UserId {
        UserId::from_uuid(domain_uuid(self.user_id))
    }
}

#[async_trait]
impl OneTimeTokenStore for MongoStore {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        run("inserting a one-time token", async {
            self.tokens.insert_one(TokenDocument::from(token)).await?;
            Ok(())
        })
        .await
    }

    async fn consume_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        // The filter is the whole guard: one conditional update on one document, so of
        // concurrent calls exactly one matches an unused token. Expiry is checked here, not
        // left to the TTL index, whose deletions run only about once a minute.
        run("consuming a one-time token", async {
            let consumed = self
                .tokens
                .find_one_and_update(
                    doc! {
                        "_id": bson_digest(digest),
                        "purpose": purpose.as_str(),
                        "consumed_at": null,
                        "expires_at": { "$gt": bson_time(now) },
                    },
                    doc! { "$set": { "consumed_at": bson_time(now) } },
                )
                .return_document(ReturnDocument::After)
                .await?;
            Ok(consumed.as_ref().map(TokenDocument::user_id))
        })
        .await
    }

    async fn peek_token(
        &self,
        digest: &SecretDigest,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        // The same filter as `consume_token`, read without writing.
        run("reading a one-time token", async {
            let usable = self
                .tokens
                .find_one(doc! {
                    "_id": bson_digest(digest),
                    "purpose": purpose.as_str(),
                    "consumed_at": null,
                    "expires_at": { "$gt": bson_time(now) },
                })
                .await?;
            Ok(usable.as_ref().map(TokenDocument::user_id))
        })
        .await
    }

    async fn spend_user_tokens(
        &self,
        user_id: UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // The same condition as `consume_token`, over every token of the user.
        run("spending a user's one-time tokens", async {
            let spent = self
                .tokens
                .update_many(
                    doc! {
                        "user_id": bson_uuid(user_id.as_uuid()),
                        "purpose": purpose.as_str(),
                        "consumed_at": null,
                        "expires_at": { "$gt": bson_time(now) },
                    },
                    doc! { "$set": { "consumed_at": bson_time(now) } },
                )
                .await?;
            Ok(spent.modified_count)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use mongodb::bson::Bson;
    use mongodb::bson::spec::BinarySubtype;

    use super::*;

    #[test]
    fn a_token_is_stored_under_its_digest_unused_and_keeps_its_user() {
        let at = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();
        let token = OneTimeToken {
            digest: SecretDigest::from_bytes([9; 32]),
            purpose: TokenPurpose::VerifyEmail,
            user_id: UserId::new(),
            created_at: at,
            expires_at: at + Duration::hours(24),
        };

        let stored = bson::to_document(&TokenDocument::from(&token)).unwrap();
        let read: TokenDocument = bson::from_document(stored.clone()).unwrap();

        assert_eq!(read.user_id(), token.user_id);
        assert_eq!(
            stored.get("_id"),
            Some(&Bson::Binary(Binary {
                subtype: BinarySubtype::Generic,
                bytes: vec![9; 32],
            }))
        );
        assert_eq!(stored.get_str("purpose").unwrap(), "verify_email");
        assert_eq!(stored.get("consumed_at"), Some(&Bson::Null));
    }
}
