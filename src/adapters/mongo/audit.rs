//! Adapters layer (MongoDB): the `audit_events` collection behind `AuditLog`.
//!
//! One document per event (`_id` = event id), only ever inserted: no update, no TTL index —
//! deleting a user leaves their events; housekeeping deletes events older than
//! `AUDIT_RETENTION_DAYS` (`expired.rs`; see docs/mongodb.md).

use async_trait::async_trait;
use mongodb::bson::{self, Document, doc};
use serde::{Deserialize, Serialize};

use super::values::{bson_time, bson_uuid, domain_time, domain_uuid, parsed_field};
use super::{MongoStore, run};
use crate::core::model::{
    AuditEvent, AuditEventId, AuditFilter, AuditKind, ClientInfo, PageRequest, UserId,
};
use crate::core::ports::{AuditLog, StoreError};

pub(super) const COLLECTION: &str = "audit_events";

/// A security event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct AuditEventDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    /// The API's name of the kind (`login_failed`…); with `_id`, an index.
    kind: String,
    at: bson::DateTime,
    /// `null` for an event about no account (a login on an unknown email); with `_id`, an
    /// index. Never a reference that deleting the user would clear.
    user_id: Option<bson::Uuid>,
    actor_id: Option<bson::Uuid>,
    client: AuditClientDocument,
    detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AuditClientDocument {
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<&AuditEvent> for AuditEventDocument {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: bson_uuid(event.id.as_uuid()),
            kind: event.kind.as_str().to_owned(),
            at: bson_time(event.at),
            user_id: event.user_id.map(|id| bson_uuid(id.as_uuid())),
            actor_id: event.actor_id.map(|id| bson_uuid(id.as_uuid())),
            client: AuditClientDocument {
                ip: event.client.ip.clone(),
                user_agent: event.client.user_agent.clone(),
            },
            detail: event.detail.clone(),
        }
    }
}

impl TryFrom<AuditEventDocument> for AuditEvent {
    type Error = anyhow::Error;

    fn try_from(document: AuditEventDocument) -> anyhow::Result<Self> {
        let id = AuditEventId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<AuditEvent> {
            Ok(AuditEvent {
                id,
                kind: parsed_field("kind", &document.kind, str::parse::<AuditKind>)?,
                at: domain_time("at", document.at)?,
                user_id: document
                    .user_id
                    .map(|id| UserId::from_uuid(domain_uuid(id))),
                actor_id: document
                    .actor_id
                    .map(|id| UserId::from_uuid(domain_uuid(id))),
                client: ClientInfo {
                    ip: document.client.ip.clone(),
                    user_agent: document.client.user_agent.clone(),
                },
                detail: document.detail.clone(),
            })
        };
        read().map_err(|error| error.context(format!("audit event document {id}")))
    }
}

/// The filter of a listing: the present criteria and the page's upper bound on `_id`.
/// Binary UUIDs compare byte by byte, which for UUID v7 is creation order. A user filter
/// matches only that user's id, never the `null` of events about no account.
fn list_filter(filter: &AuditFilter, page: PageRequest) -> Document {
    let mut query = Document::new();
    if let Some(user_id) = filter.user_id {
        query.insert("user_id", bson_uuid(user_id.as_uuid()));
    }
    if let Some(kind) = filter.kind {
        query.insert("kind", kind.as_str());
    }
    if let Some(before) = page.before {
        query.insert("_id", doc! { "$lt": bson_uuid(before) });
    }
    query
}

#[async_trait]
impl AuditLog for MongoStore {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        // A reused id is refused by `_id` (duplicate key) and reported as a store error like
        // any other failed write: ids are fresh UUID v7s, so it can only be a bug. A retried
        // write after a network error is applied at most once (retryable writes).
        run("recording an audit event", async {
            self.audit_events
                .insert_one(AuditEventDocument::from(event))
                .await?;
            Ok(())
        })
        .await
    }

    async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        run("listing audit events", async {
            let mut cursor = self
                .audit_events
                .find(list_filter(filter, page))
                .sort(doc! { "_id": -1 })
                .limit(i64::try_from(page.fetch_limit())?)
                .await?;
            let mut events = Vec::new();
            while cursor.advance().await? {
                events.push(AuditEvent::try_from(cursor.deserialize_current()?)?);
            }
            Ok(events)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use mongodb::bson::Bson;
    use mongodb::bson::spec::BinarySubtype;

    use super::*;

    fn an_event() -> AuditEvent {
        AuditEvent {
            id: AuditEventId::new(),
            kind: AuditKind::RoleChanged,
            at: Utc.timestamp_millis_opt(1_767_225_600_123).unwrap(),
            user_id: Some(UserId::new()),
            actor_id: Some(UserId::new()),
            client: ClientInfo {
                ip: Some("203.0.113.7".to_owned()),
                user_agent: Some("Firefox/140".to_owned()),
            },
            detail: Some("role=client->courier".to_owned()),
        }
    }

    #[test]
    fn an_event_round_trips_through_its_bson_document_with_bson_types() {
        let event = an_event();

        let stored = bson::to_document(&AuditEventDocument::from(&event)).unwrap();
        let read: AuditEventDocument = bson::from_document(stored.clone()).unwrap();

        assert_eq!(AuditEvent::try_from(read).unwrap(), event);
        assert_eq!(stored.get_str("kind").unwrap(), "role_changed");
        assert_eq!(
            stored.get("at"),
            Some(&Bson::DateTime(bson::DateTime::from_millis(
                1_767_225_600_123
            )))
        );
        for field in ["_id", "user_id", "actor_id"] {
            match stored.get(field) {
                Some(Bson::Binary(binary)) => assert_eq!(binary.subtype, BinarySubtype::Uuid),
                other => panic!("{field} should be a binary UUID, is {other:?}"),
            }
        }
        assert_eq!(
            stored.get_document("client").unwrap(),
            &doc! { "ip": "203.0.113.7", "user_agent": "Firefox/140" }
        );
    }

    #[test]
    fn an_event_about_no_account_keeps_every_field_as_null() {
        let event = AuditEvent {
            kind: AuditKind::LoginFailed,
            user_id: None,
            actor_id: None,
            client: ClientInfo::default(),
            detail: None,
            ..an_event()
        };

        let stored = bson::to_document(&AuditEventDocument::from(&event)).unwrap();
        let read: AuditEventDocument = bson::from_document(stored.clone()).unwrap();

        assert_eq!(AuditEvent::try_from(read).unwrap(), event);
        for field in ["user_id", "actor_id", "detail"] {
            assert_eq!(stored.get(field), Some(&Bson::Null), "{field}");
        }
        assert_eq!(
            stored.get_document("client").unwrap(),
            &doc! { "ip": null, "user_agent": null }
        );
    }

    #[test]
    fn an_unknown_kind_is_corrupt() {
        let event = an_event();
        let mut document = AuditEventDocument::from(&event);
        document.kind = "logged_in".to_owned();

        let error = AuditEvent::try_from(document).unwrap_err();

        let chain = format!("{error:#}");
        assert!(
            chain.contains(&format!("audit event document {}", event.id)),
            "{chain}"
        );
        assert!(chain.contains("field `kind`"), "{chain}");
    }

    #[test]
    fn a_document_missing_a_field_does_not_read() {
        let mut stored = bson::to_document(&AuditEventDocument::from(&an_event())).unwrap();
        stored.remove("at");

        let read = bson::from_document::<AuditEventDocument>(stored);

        let error = read.expect_err("a document without `at` must not read");
        assert!(error.to_string().contains("at"), "{error}");
    }

    #[test]
    fn a_listing_filters_on_the_present_criteria_below_the_cursor() {
        let user = UserId::new();
        let before = uuid::Uuid::now_v7();
        let both = AuditFilter {
            user_id: Some(user),
            kind: Some(AuditKind::Throttled),
        };
        let page = PageRequest {
            limit: 5,
            before: Some(before),
        };

        let filtered = list_filter(&both, page);
        let unfiltered = list_filter(&AuditFilter::default(), PageRequest::first(5));

        assert_eq!(
            filtered,
            doc! {
                "user_id": bson_uuid(user.as_uuid()),
                "kind": "throttled",
                "_id": { "$lt": bson_uuid(before) },
            }
        );
        assert_eq!(unfiltered, doc! {});
    }
}
