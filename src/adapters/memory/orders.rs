//! Adapters layer (memory): orders behind `OrderStore`.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, duplicate};
use crate::core::model::{
    Order, OrderFilter, OrderId, OrderStatus, OrderTotals, PageRequest, PlacedBetween,
};
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

    async fn reserve_delivery_code_attempt(
        &self,
        id: OrderId,
        max: u32,
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        match state.orders.get_mut(&id) {
            Some(order) if order.delivery_code_attempts < max => {
                order.delivery_code_attempts += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn order_totals(&self, period: PlacedBetween) -> Result<OrderTotals, StoreError> {
        let state = self.state()?;
        let mut per_status = HashMap::new();
        let mut revenue = HashMap::new();
        let mut deliveries = HashMap::new();
        for order in state.orders.values().filter(|order| period.admits(order)) {
            *per_status.entry(order.status).or_insert(0u64) += 1;
            if order.status == OrderStatus::Delivered {
                let sum = revenue.entry(order.currency.clone()).or_insert(0i64);
                *sum = sum
                    .checked_add(order.total_cents)
                    .ok_or_else(|| StoreError::new(anyhow::anyhow!("revenue overflows i64")))?;
                if let Some(courier) = order.courier_id {
                    *deliveries.entry(courier).or_insert(0u64) += 1;
                }
            }
        }
        Ok(OrderTotals {
            per_status: per_status.into_iter().collect(),
            delivered_revenue: revenue.into_iter().collect(),
            deliveries_per_courier: deliveries.into_iter().collect(),
        })
    }
}
