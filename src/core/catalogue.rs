//! Core layer: the catalogue use cases — anyone browses products, managers edit them.
//! Talks to the world only through `crate::core::ports`.

use std::sync::Arc;

use thiserror::Error;

use super::model::{
    Currency, Manager, Page, PageRequest, PriceCents, Product, ProductChanges, ProductDescription,
    ProductFilter, ProductId, ProductName, ProductSearch, ValidationErrors,
};
use super::ports::{Clock, ProductStore};
use super::unexpected::port_failures_are_unexpected;

/// A list request as the client sent it; parsed here so every error names its parameter.
#[derive(Debug, Clone, Default)]
pub struct ListProductsRequest {
    pub available: Option<bool>,
    /// Searched in names; blank means no search.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A new product as submitted.
#[derive(Debug, Clone)]
pub struct CreateProductRequest {
    pub name: String,
    pub description: Option<String>,
    pub price_cents: i64,
    pub available: bool,
}

/// A product edit as submitted: `None` leaves a field alone, `Some(None)` clears the
/// description.
#[derive(Debug, Clone, Default)]
pub struct UpdateProductRequest {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub price_cents: Option<i64>,
    pub available: Option<bool>,
}

#[derive(Debug, Error)]
pub enum ProductError {
    #[error("product not found")]
    NotFound,
    #[error("invalid product: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(ProductError);

#[derive(Clone)]
pub struct CatalogueService {
    products: Arc<dyn ProductStore>,
    clock: Arc<dyn Clock>,
    currency: Currency,
}

impl CatalogueService {
    pub fn new(products: Arc<dyn ProductStore>, clock: Arc<dyn Clock>, currency: Currency) -> Self {
        Self {
            products,
            clock,
            currency,
        }
    }

    /// The currency of every amount (configuration).
    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// Products, newest first. Public.
    pub async fn list(&self, request: ListProductsRequest) -> Result<Page<Product>, ProductError> {
        let mut errors = ValidationErrors::new();
        let name_contains = match request.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => errors.check("q", ProductSearch::parse(raw)),
        };
        let page = errors.absorb(PageRequest::parse(request.limit, request.cursor.as_deref()));
        let (Some(page), true) = (page, errors.is_empty()) else {
            return Err(ProductError::Invalid(errors));
        };
        let filter = ProductFilter {
            available: request.available,
            name_contains,
        };
        let fetched = self.products.list_products(&filter, page).await?;
        Ok(Page::from_fetched(fetched, page, |product| {
            product.id.as_uuid()
        }))
    }

    /// One product. Public.
    pub async fn get(&self, id: ProductId) -> Result<Product, ProductError> {
        self.products
            .product(id)
            .await?
            .ok_or(ProductError::NotFound)
    }

    /// Adds a product to the catalogue (managers only).
    pub async fn create(
        &self,
        _manager: Manager,
        request: CreateProductRequest,
    ) -> Result<Product, ProductError> {
        let mut errors = ValidationErrors::new();
        let name = errors.check("name", ProductName::parse(&request.name));
        let description = match request.description.as_deref() {
            None => Some(None),
            Some(raw) => errors
                .check("description", ProductDescription::parse(raw))
                .map(Some),
        };
        let price = errors.check("price_cents", PriceCents::new(request.price_cents));
        let (Some(name), Some(description), Some(price)) = (name, description, price) else {
            return Err(ProductError::Invalid(errors));
        };
        let now = self.clock.now();
        let product = Product {
            id: ProductId::new(),
            name,
            description,
            price,
            available: request.available,
            created_at: now,
            updated_at: now,
        };
        self.products.insert_product(&product).await?;
        Ok(product)
    }

    /// Edits a product (managers only).
    pub async fn update(
        &self,
        _manager: Manager,
        id: ProductId,
        request: UpdateProductRequest,
    ) -> Result<Product, ProductError> {
        let changes = validate_changes(&request).map_err(ProductError::Invalid)?;
        if changes.is_empty() {
            return self.get(id).await;
        }
        self.products
            .update_product(id, &changes, self.clock.now())
            .await?
            .ok_or(ProductError::NotFound)
    }

    /// Deletes a product (managers only). Orders keep working: they copy name and unit price
    /// when placed.
    pub async fn delete(&self, _manager: Manager, id: ProductId) -> Result<(), ProductError> {
        let deleted = self.products.delete_product(id).await?;
        if deleted {
            Ok(())
        } else {
            Err(ProductError::NotFound)
        }
    }
}

fn validate_changes(request: &UpdateProductRequest) -> Result<ProductChanges, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let changes = ProductChanges {
        name: request
            .name
            .as_deref()
            .and_then(|raw| errors.check("name", ProductName::parse(raw))),
        description: match &request.description {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors
                .check("description", ProductDescription::parse(raw))
                .map(Some),
        },
        price: request
            .price_cents
            .and_then(|cents| errors.check("price_cents", PriceCents::new(cents))),
        available: request.available,
    };
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}
