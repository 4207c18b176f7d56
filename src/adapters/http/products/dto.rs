//! Adapters layer (HTTP): the JSON bodies of the `Products` operations. Write bodies refuse
//! unknown fields; every amount goes out with the deployment's currency.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::adapters::http::fields::Optional;
use crate::adapters::http::fields::Text;
use crate::core::catalogue::{CreateProductRequest, UpdateProductRequest};
use crate::core::model::{Currency, Page, Product};

/// A product of the catalogue.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "Product")]
pub struct ProductView {
    pub id: Uuid,
    pub name: String,
    pub description: Nullable<String>,
    /// Unit price in minor units of `currency` (1250 = 12.50).
    pub price_cents: i64,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Whether it can be ordered now.
    pub available: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductView {
    pub fn new(product: Product, currency: &Currency) -> Self {
        ProductView {
            id: product.id.as_uuid(),
            name: product.name.as_str().to_owned(),
            description: product
                .description
                .map(|description| description.as_str().to_owned())
                .into(),
            price_cents: product.price.cents(),
            currency: currency.to_string(),
            available: product.available,
            created_at: product.created_at,
            updated_at: product.updated_at,
        }
    }
}

/// One page of products, newest first.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "ProductPage")]
pub struct ProductPageView {
    pub items: Vec<ProductView>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Nullable<String>,
}

impl ProductPageView {
    pub fn new(page: Page<Product>, currency: &Currency) -> Self {
        ProductPageView {
            items: page
                .items
                .into_iter()
                .map(|product| ProductView::new(product, currency))
                .collect(),
            next_cursor: page.next_cursor.into(),
        }
    }
}

/// A new product.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CreateProductBody {
    /// 1 to 120 characters.
    pub name: Text,
    /// Up to 2000 characters, possibly on several lines.
    pub description: Optional<Text>,
    /// Unit price in minor units of the deployment's currency, greater than 0.
    pub price_cents: i64,
    /// Whether it can be ordered now.
    pub available: bool,
}

impl From<CreateProductBody> for CreateProductRequest {
    fn from(body: CreateProductBody) -> Self {
        CreateProductRequest {
            name: body.name.into(),
            description: body.description.into_option().map(String::from),
            price_cents: body.price_cents,
            available: body.available,
        }
    }
}

/// Changes to a product. An absent field is left as it is.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateProductBody {
    /// 1 to 120 characters.
    pub name: Optional<Text>,
    /// Up to 2000 characters; `null` removes it.
    pub description: Nullable<Text>,
    /// Greater than 0.
    pub price_cents: Optional<i64>,
    pub available: Optional<bool>,
}

impl From<UpdateProductBody> for UpdateProductRequest {
    fn from(body: UpdateProductBody) -> Self {
        UpdateProductRequest {
            name: body.name.into_option().map(String::from),
            description: body
                .description
                .into_change()
                .map(|value| value.map(String::from)),
            price_cents: body.price_cents.into_option(),
            available: body.available.into_option(),
        }
    }
}
