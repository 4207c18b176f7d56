//! Adapters layer (memory): the catalogue behind `ProductStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, duplicate};
use crate::core::model::{PageRequest, Product, ProductChanges, ProductFilter, ProductId};
use crate::core::ports::{ProductStore, StoreError};

#[async_trait]
impl ProductStore for MemoryStore {
    async fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.products.contains_key(&product.id) {
            return Err(duplicate("a product with this id"));
        }
        state.products.insert(product.id, product.clone());
        Ok(())
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.state()?.products.get(&id).cloned())
    }

    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Vec<Product>, StoreError> {
        let state = self.state()?;
        let products = state
            .products
            .values()
            .rev()
            .filter(|product| {
                page.before
                    .is_none_or(|before| product.id.as_uuid() < before)
            })
            .filter(|product| filter.admits(product))
            .take(page.fetch_limit())
            .cloned()
            .collect();
        Ok(products)
    }

    async fn update_product(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<Product>, StoreError> {
        let mut state = self.state()?;
        let Some(product) = state.products.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(name) = &changes.name {
            product.name = name.clone();
        }
        if let Some(description) = &changes.description {
            product.description = description.clone();
        }
        if let Some(price) = changes.price {
            product.price = price;
        }
        if let Some(available) = changes.available {
            product.available = available;
        }
        product.updated_at = at;
        Ok(Some(product.clone()))
    }

    async fn delete_product(&self, id: ProductId) -> Result<bool, StoreError> {
        Ok(self.state()?.products.remove(&id).is_some())
    }
}
