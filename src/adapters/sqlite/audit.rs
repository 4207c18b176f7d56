//! Adapters layer (SQLite): the `audit_events` table behind `AuditLog`. Append-only: the
//! table has no foreign key, so deleting a user leaves their events in place.

use async_trait::async_trait;
use rusqlite::types::ToSql;
use rusqlite::{Row, named_params};

use super::SqliteStore;
use super::columns::{column, millis, optional_text_column, parsed_column, time_column};
use crate::core::model::{AuditEvent, AuditFilter, ClientInfo, PageRequest, UserId};
use crate::core::ports::{AuditLog, StoreError};

const AUDIT_COLUMNS: &str = "id, kind, at, user_id, actor_id, client_ip, client_user_agent, detail";

fn event_from_row(row: &Row<'_>) -> anyhow::Result<AuditEvent> {
    Ok(AuditEvent {
        id: parsed_column(row, "id")?,
        kind: parsed_column(row, "kind")?,
        at: time_column(row, "at")?,
        user_id: optional_text_column(row, "user_id", str::parse::<UserId>)?,
        actor_id: optional_text_column(row, "actor_id", str::parse::<UserId>)?,
        client: ClientInfo {
            ip: column(row, "client_ip")?,
            user_agent: column(row, "client_user_agent")?,
        },
        detail: column(row, "detail")?,
    })
}

/// The listing's query for the criteria actually present. `(:x IS NULL OR col = :x)` in one
/// statement would be shorter, but its plan is fixed when it is prepared, before the values
/// are known, so it could use neither index nor the cursor's range; one statement per shape
/// (at most eight, each prepared once per connection) lets every listing walk an index from
/// the cursor down and stop after the page.
fn listing_sql(filter: &AuditFilter, page: PageRequest) -> String {
    let mut conditions = Vec::new();
    if filter.user_id.is_some() {
        conditions.push("user_id = :user_id");
    }
    if filter.kind.is_some() {
        conditions.push("kind = :kind");
    }
    if page.before.is_some() {
        // Hyphenated lower-case UUID v7 text sorts like the UUIDs themselves.
        conditions.push("id < :before");
    }
    let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY id DESC LIMIT :limit");
    sql
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let event = event.clone();
        self.run("recording an audit event", move |connection| {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO audit_events ({AUDIT_COLUMNS})
                     VALUES (:id, :kind, :at, :user_id, :actor_id, :client_ip,
                             :client_user_agent, :detail)"
                ))?
                .execute(named_params! {
                    ":id": event.id.to_string(),
                    ":kind": event.kind.as_str(),
                    ":at": millis(event.at),
                    ":user_id": event.user_id.map(|id| id.to_string()),
                    ":actor_id": event.actor_id.map(|id| id.to_string()),
                    ":client_ip": event.client.ip,
                    ":client_user_agent": event.client.user_agent,
                    ":detail": event.detail,
                })?;
            Ok(())
        })
        .await
    }

    async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let filter = *filter;
        self.run("listing audit events", move |connection| {
            let user_id = filter.user_id.map(|id| id.to_string());
            let kind = filter.kind.map(|kind| kind.as_str());
            let before = page.before.map(|before| before.to_string());
            let limit = i64::try_from(page.fetch_limit())?;
            // Only the parameters the statement names: rusqlite refuses an unknown name.
            let mut params: Vec<(&str, &dyn ToSql)> = vec![(":limit", &limit)];
            if let Some(user_id) = &user_id {
                params.push((":user_id", user_id));
            }
            if let Some(kind) = &kind {
                params.push((":kind", kind));
            }
            if let Some(before) = &before {
                params.push((":before", before));
            }
            let mut statement = connection.prepare_cached(&listing_sql(&filter, page))?;
            let rows = statement.query_map(params.as_slice(), |row| Ok(event_from_row(row)))?;
            rows.map(|row| row?).collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::criteria::{migrated_connection, query_plan as plan};
    use super::*;
    use crate::core::model::AuditKind;

    #[test]
    fn every_listing_walks_an_index_from_the_cursor_without_sorting() {
        let connection = migrated_connection();
        let page = PageRequest {
            limit: 20,
            before: Some(uuid::Uuid::now_v7()),
        };
        let by_user = AuditFilter {
            user_id: Some(UserId::new()),
            kind: None,
        };
        let by_kind = AuditFilter {
            user_id: None,
            kind: Some(AuditKind::LoginFailed),
        };
        let by_both = AuditFilter {
            user_id: Some(UserId::new()),
            kind: Some(AuditKind::LoginFailed),
        };

        let all = plan(&connection, &listing_sql(&AuditFilter::default(), page));
        let users = plan(&connection, &listing_sql(&by_user, page));
        let kinds = plan(&connection, &listing_sql(&by_kind, page));
        let both = plan(&connection, &listing_sql(&by_both, page));

        // The primary key's automatic index serves the unfiltered listing.
        assert!(
            all.contains("USING INDEX sqlite_autoindex_audit_events"),
            "{all}"
        );
        assert!(
            users.contains("USING INDEX audit_events_user_id (user_id=? AND id<?)"),
            "{users}"
        );
        assert!(
            kinds.contains("USING INDEX audit_events_kind (kind=? AND id<?)"),
            "{kinds}"
        );
        assert!(both.contains("USING INDEX audit_events_"), "{both}");
        for plan in [&all, &users, &kinds, &both] {
            assert!(
                !plan.contains("TEMP B-TREE"),
                "sorts instead of walking: {plan}"
            );
        }
    }
}
