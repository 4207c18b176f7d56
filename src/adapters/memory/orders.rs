//! Adapters layer (memory): orders behind `OrderStore`.

use async_trait::async_trait;

use super::{MemoryStore, duplicate};
use crate::core::model::{Order, OrderFilter, OrderId, PageRequest};
use crate::core::ports::{OrderStore, StoreError};

#[async_trait]
impl OrderStore for MemoryStore {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.orders.contains_key(&order.id) {
            return Err(duplicate("an order with this id"));
        }
        state.orders.insert(order.id, order.clone());
        Ok(())
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.state()?.orders.get(&id).cloned())
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Vec<Order>, StoreError> {
        let state = self.state()?;
        let orders = state
            .orders
            .values()
            .rev()
            .filter(|order| page.before.is_none_or(|before| order.id.as_uuid() < before))
            .filter(|order| filter.admits(order))
            .take(page.fetch_limit())
            .cloned()
            .collect();
        Ok(orders)
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let Some(stored) = state
            .orders
            .get_mut(&order.id)
            .filter(|stored| stored.version == expected_version)
        else {
            return Ok(false);
        };
        stored.status = order.status;
        stored.courier_id = order.courier_id;
        stored.history = order.history.clone();
        stored.updated_at = order.updated_at;
        stored.version = order.version;
        Ok(true)
    }
}
