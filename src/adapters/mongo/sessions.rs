//! Adapters layer (MongoDB): the `sessions` collection behind `SessionStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, doc};
use serde::{Deserialize, Serialize};

use super::values::{
    bson_time, bson_uuid, domain_count, domain_time, domain_uuid, optional_bson_time,
    optional_domain_time,
};
use super::{MongoStore, run};
use crate::core::model::{ClientInfo, PageRequest, Session, SessionId, User, UserId};
use crate::core::ports::{SessionStore, StoreError, UserStore};

pub(super) const COLLECTION: &str = "sessions";

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SessionDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    /// Indexed: revoke-all and the user's session list look sessions up by user.
    user_id: bson::Uuid,
    /// 64-bit: BSON has no unsigned 32-bit integer, and the generation reaches `u32::MAX`.
    refresh_generation: i64,
    rotated_at: Option<bson::DateTime>,
    created_at: bson::DateTime,
    last_used_at: bson::DateTime,
    /// Also the TTL index's field: the server deletes the session a day after it expires.
    expires_at: bson::DateTime,
    revoked_at: Option<bson::DateTime>,
    client: ClientDocument,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ClientDocument {
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<&Session> for SessionDocument {
    fn from(session: &Session) -> Self {
        Self {
            id: bson_uuid(session.id.as_uuid()),
            user_id: bson_uuid(session.user_id.as_uuid()),
            refresh_generation: i64::from(session.refresh_generation),
            rotated_at: optional_bson_time(session.rotated_at),
            created_at: bson_time(session.created_at),
            last_used_at: bson_time(session.last_used_at),
            expires_at: bson_time(session.expires_at),
            revoked_at: optional_bson_time(session.revoked_at),
            client: ClientDocument {
                ip: session.client.ip.clone(),
                user_agent: session.client.user_agent.clone(),
            },
        }
    }
}

impl TryFrom<SessionDocument> for Session {
    type Error = anyhow::Error;

    fn try_from(document: SessionDocument) -> anyhow::Result<Self> {
        let id = SessionId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<Session> {
            Ok(Session {
                id,
                user_id: UserId::from_uuid(domain_uuid(document.user_id)),
                refresh_generation: domain_count(
                    "refresh_generation",
                    document.refresh_generation,
                )?,
                rotated_at: optional_domain_time("rotated_at", document.rotated_at)?,
                created_at: domain_time("created_at", document.created_at)?,
                last_used_at: domain_time("last_used_at", document.last_used_at)?,
                expires_at: domain_time("expires_at", document.expires_at)?,
                revoked_at: optional_domain_time("revoked_at", document.revoked_at)?,
                client: ClientInfo {
                    ip: document.client.ip.clone(),
                    user_agent: document.client.user_agent.clone(),
                },
            })
        };
        read().map_err(|error| error.context(format!("session document {id}")))
    }
}

#[async_trait]
impl SessionStore for MongoStore {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        run("inserting a session", async {
            self.sessions
                .insert_one(SessionDocument::from(session))
                .await?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        // A lookup by `_id` on the primary: cheap enough for every authenticated request, and
        // never a lagging secondary that would still show a revoked session as live.
        run("reading a session", async {
            self.sessions
                .find_one(doc! { "_id": bson_uuid(id.as_uuid()) })
                .await?
                .map(Session::try_from)
                .transpose()
        })
        .await
    }

    async fn session_and_user(
        &self,
        id: SessionId,
    ) -> Result<Option<(Session, Option<User>)>, StoreError> {
        // Two lookups by `_id` on the primary: a transaction would cost more than the rare
        // deletion it guards against, which `authenticate` refuses either way.
        let Some(session) = self.session(id).await? else {
            return Ok(None);
        };
        let user = self.user_by_id(session.user_id).await?;
        Ok(Some((session, user)))
    }

    async fn advance_refresh_generation(
        &self,
        id: SessionId,
        expected_generation: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Wrapping back to generation 0 would make the session's first refresh token valid
        // again; a session that has rotated four billion times must sign in anew instead.
        let Some(next_generation) = expected_generation.checked_add(1) else {
            return Ok(false);
        };
        // Compare-and-set: the expected generation is in the filter, so of concurrent calls
        // exactly one matches the document before it changes.
        run("rotating a refresh token", async {
            let advanced = self
                .sessions
                .update_one(
                    doc! {
                        "_id": bson_uuid(id.as_uuid()),
                        "revoked_at": null,
                        "refresh_generation": i64::from(expected_generation),
                    },
                    doc! { "$set": {
                        "refresh_generation": i64::from(next_generation),
                        "rotated_at": bson_time(now),
                        "last_used_at": bson_time(now),
                    } },
                )
                .await?;
            Ok(advanced.matched_count == 1)
        })
        .await
    }

    async fn revoke_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        run("revoking a session", async {
            let revoked = self
                .sessions
                .update_one(
                    doc! { "_id": bson_uuid(id.as_uuid()), "revoked_at": null },
                    doc! { "$set": { "revoked_at": bson_time(now) } },
                )
                .await?;
            Ok(revoked.matched_count == 1)
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // One `update_many`: each session is revoked atomically and at most once, whichever
        // of several concurrent calls reaches it; the counts of those calls add up.
        run("revoking a user's sessions", async {
            let revoked = self
                .sessions
                .update_many(
                    doc! { "user_id": bson_uuid(user_id.as_uuid()), "revoked_at": null },
                    doc! { "$set": { "revoked_at": bson_time(now) } },
                )
                .await?;
            Ok(revoked.modified_count)
        })
        .await
    }

    async fn revoke_other_user_sessions(
        &self,
        user_id: UserId,
        keep: SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        run("revoking a user's other sessions", async {
            let revoked = self
                .sessions
                .update_many(
                    doc! {
                        "user_id": bson_uuid(user_id.as_uuid()),
                        "_id": { "$ne": bson_uuid(keep.as_uuid()) },
                        "revoked_at": null,
                    },
                    doc! { "$set": { "revoked_at": bson_time(now) } },
                )
                .await?;
            Ok(revoked.modified_count)
        })
        .await
    }

    async fn live_user_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Vec<Session>, StoreError> {
        run("listing a user's sessions", async {
            let mut filter = doc! {
                "user_id": bson_uuid(user_id.as_uuid()),
                "revoked_at": null,
                "expires_at": { "$gt": bson_time(now) },
            };
            // Binary UUIDs compare byte by byte, which for UUID v7 is creation order.
            if let Some(before) = page.before {
                filter.insert("_id", doc! { "$lt": bson_uuid(before) });
            }
            let mut cursor = self
                .sessions
                .find(filter)
                .sort(doc! { "_id": -1 })
                .limit(i64::try_from(page.fetch_limit())?)
                .await?;
            let mut sessions = Vec::new();
            while cursor.advance().await? {
                sessions.push(Session::try_from(cursor.deserialize_current()?)?);
            }
            Ok(sessions)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use mongodb::bson::Bson;

    use super::*;

    fn a_session() -> Session {
        let at = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();
        Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            refresh_generation: u32::MAX,
            rotated_at: Some(at + Duration::hours(2)),
            created_at: at,
            last_used_at: at + Duration::hours(2),
            expires_at: at + Duration::days(30),
            revoked_at: None,
            client: ClientInfo {
                ip: Some("203.0.113.7".to_owned()),
                user_agent: None,
            },
        }
    }

    #[test]
    fn a_session_at_the_last_generation_round_trips_through_its_bson_document() {
        let session = a_session();

        let stored = bson::to_document(&SessionDocument::from(&session)).unwrap();
        let read: SessionDocument = bson::from_document(stored.clone()).unwrap();

        assert_eq!(Session::try_from(read).unwrap(), session);
        assert_eq!(
            stored.get("refresh_generation"),
            Some(&Bson::Int64(i64::from(u32::MAX)))
        );
        assert_eq!(
            stored.get_document("client").unwrap(),
            &doc! { "ip": "203.0.113.7", "user_agent": null }
        );
    }

    #[test]
    fn a_generation_beyond_u32_is_corrupt() {
        let session = a_session();
        let mut document = SessionDocument::from(&session);
        document.refresh_generation = i64::from(u32::MAX) + 1;

        let error = Session::try_from(document).unwrap_err();

        let chain = format!("{error:#}");
        assert!(
            chain.contains(&format!("session document {}", session.id)),
            "{chain}"
        );
        assert!(chain.contains("field `refresh_generation`"), "{chain}");
    }
}
