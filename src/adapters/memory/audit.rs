//! Adapters layer (memory): the security-event log, implementing `core::ports::AuditLog`.
//! Each method is one critical section, hence atomic. Nothing removes an event: deleting a
//! user leaves the log alone.

use async_trait::async_trait;

use super::{MemoryStore, duplicate};
use crate::core::model::{AuditEvent, AuditEventId, AuditFilter, PageRequest};
use crate::core::ports::{AuditLog, StoreError};

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.audit_events.contains_key(&event.id) {
            return Err(duplicate("an audit event with this id"));
        }
        state.audit_events.insert(event.id, event.clone());
        Ok(())
    }

    async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.state()?;
        // The map is ordered by id, so by time: walking the part below the cursor backwards
        // is newest first, and the walk stops after one page (and one more).
        let below = match page.before {
            Some(before) => state.audit_events.range(..AuditEventId::from_uuid(before)),
            None => state.audit_events.range(..),
        };
        let events = below
            .rev()
            .map(|(_, event)| event)
            .filter(|event| filter.admits(event))
            .take(page.fetch_limit())
            .cloned()
            .collect();
        Ok(events)
    }
}
