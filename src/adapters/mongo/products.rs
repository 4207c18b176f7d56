//! Adapters layer (MongoDB): the `products` collection behind `ProductStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Document, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::values::{
    bson_time, bson_uuid, domain_time, domain_uuid, literal_regex, optional_parsed_field,
    parsed_field,
};
use super::{MongoStore, run};
use crate::core::model::{
    PageRequest, PriceCents, Product, ProductChanges, ProductDescription, ProductFilter, ProductId,
    ProductName,
};
use crate::core::ports::{ProductStore, StoreError};

pub(super) const COLLECTION: &str = "products";

/// A product as stored. Lists sort on `_id` (a UUID v7, so by creation time); no other
/// index is needed for a catalogue of this size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ProductDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    name: String,
    description: Option<String>,
    price_cents: i64,
    available: bool,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<&Product> for ProductDocument {
    fn from(product: &Product) -> Self {
        Self {
            id: bson_uuid(product.id.as_uuid()),
            name: product.name.as_str().to_owned(),
            description: product
                .description
                .as_ref()
                .map(|description| description.as_str().to_owned()),
            price_cents: product.price.cents(),
            available: product.available,
            created_at: bson_time(product.created_at),
            updated_at: bson_time(product.updated_at),
        }
    }
}

impl TryFrom<ProductDocument> for Product {
    type Error = anyhow::Error;

    fn try_from(document: ProductDocument) -> anyhow::Result<Self> {
        let id = ProductId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<Product> {
            Ok(Product {
                id,
                name: parsed_field("name", &document.name, ProductName::parse)?,
                description: optional_parsed_field(
                    "description",
                    document.description.as_deref(),
                    ProductDescription::parse,
                )?,
                price: PriceCents::new(document.price_cents)
                    .map_err(|error| anyhow::anyhow!("field `price_cents`: {error}"))?,
                available: document.available,
                created_at: domain_time("created_at", document.created_at)?,
                updated_at: domain_time("updated_at", document.updated_at)?,
            })
        };
        read().map_err(|error| error.context(format!("product document {id}")))
    }
}

fn by_id(id: ProductId) -> Document {
    doc! { "_id": bson_uuid(id.as_uuid()) }
}

/// The filter of a list: the page's upper bound on `_id`, availability and name search.
fn list_filter(filter: &ProductFilter, page: PageRequest) -> Document {
    let mut query = Document::new();
    if let Some(before) = page.before {
        query.insert("_id", doc! { "$lt": bson_uuid(before) });
    }
    if let Some(available) = filter.available {
        query.insert("available", available);
    }
    if let Some(search) = &filter.name_contains {
        // `i` ignores case; the pattern itself is the escaped text, never the client's regex.
        query.insert(
            "name",
            doc! { "$regex": literal_regex(search.as_str()), "$options": "i" },
        );
    }
    query
}

#[async_trait]
impl ProductStore for MongoStore {
    async fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        run("inserting a product", async {
            self.products
                .insert_one(ProductDocument::from(product))
                .await?;
            Ok(())
        })
        .await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        run("reading a product", async {
            self.products
                .find_one(by_id(id))
                .await?
                .map(Product::try_from)
                .transpose()
        })
        .await
    }

    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Vec<Product>, StoreError> {
        run("listing products", async {
            let mut cursor = self
                .products
                .find(list_filter(filter, page))
                .sort(doc! { "_id": -1 })
                .limit(page.fetch_limit() as i64)
                .await?;
            let mut products = Vec::new();
            while cursor.advance().await? {
                products.push(Product::try_from(cursor.deserialize_current()?)?);
            }
            Ok(products)
        })
        .await
    }

    async fn update_product(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<Product>, StoreError> {
        // One `find_one_and_update`, so the returned product is exactly what this update left.
        let mut set = doc! { "updated_at": bson_time(at) };
        if let Some(name) = &changes.name {
            set.insert("name", name.as_str());
        }
        if let Some(description) = &changes.description {
            set.insert(
                "description",
                description.as_ref().map(ProductDescription::as_str),
            );
        }
        if let Some(price) = changes.price {
            set.insert("price_cents", price.cents());
        }
        if let Some(available) = changes.available {
            set.insert("available", available);
        }
        run("updating a product", async {
            self.products
                .find_one_and_update(by_id(id), doc! { "$set": set })
                .return_document(ReturnDocument::After)
                .await?
                .map(Product::try_from)
                .transpose()
        })
        .await
    }

    async fn delete_product(&self, id: ProductId) -> Result<bool, StoreError> {
        run("deleting a product", async {
            let result = self.products.delete_one(by_id(id)).await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::ProductSearch;

    #[test]
    fn regex_metacharacters_in_a_search_are_escaped() {
        assert_eq!(literal_regex("a.*(b)?"), "a\\.\\*\\(b\\)\\?");
    }

    #[test]
    fn a_list_filter_bounds_the_page_and_searches_the_escaped_name() {
        let before = uuid::Uuid::now_v7();
        let filter = ProductFilter {
            available: Some(true),
            name_contains: Some(ProductSearch::parse("1+1").unwrap()),
        };
        let page = PageRequest {
            limit: 5,
            before: Some(before),
        };

        let query = list_filter(&filter, page);

        assert_eq!(
            query,
            doc! {
                "_id": { "$lt": bson_uuid(before) },
                "available": true,
                "name": { "$regex": "1\\+1", "$options": "i" },
            }
        );
    }
}
