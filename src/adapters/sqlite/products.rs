//! Adapters layer (SQLite): the `products` table behind `ProductStore`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, named_params};

use super::SqliteStore;
use super::columns::{
    column, millis, optional_text_column, parsed_column, text_column, time_column,
};
use super::criteria::Criteria;
use crate::core::model::{
    PageRequest, PriceCents, Product, ProductChanges, ProductDescription, ProductFilter, ProductId,
    ProductName,
};
use crate::core::ports::{ProductStore, StoreError};

const PRODUCT_COLUMNS: &str =
    "id, name, description, price_cents, available, created_at, updated_at";

fn product_from_row(row: &Row<'_>) -> anyhow::Result<Product> {
    Ok(Product {
        id: parsed_column(row, "id")?,
        name: text_column(row, "name", ProductName::parse)?,
        description: optional_text_column(row, "description", ProductDescription::parse)?,
        price: PriceCents::new(column(row, "price_cents")?)
            .map_err(|error| anyhow::anyhow!("column `price_cents`: {error}"))?,
        available: column(row, "available")?,
        created_at: time_column(row, "created_at")?,
        updated_at: time_column(row, "updated_at")?,
    })
}

fn query_product(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> anyhow::Result<Option<Product>> {
    connection
        .prepare_cached(sql)?
        .query_row(params, |row| Ok(product_from_row(row)))
        .optional()?
        .transpose()
}

/// A LIKE pattern matching `text` as a plain substring: `\`, `%` and `_` are escaped (with
/// `ESCAPE '\'` in the statement), so a search for `100%` does not match everything. SQLite's
/// LIKE ignores ASCII case, as the port asks.
fn substring_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The listing's statement for the criteria present (see `criteria.rs`): by availability it
/// walks `products_available_id`, otherwise the primary key. A name search is a substring
/// test, which no index serves: it reads down the chosen index until a page matches.
fn listing(filter: &ProductFilter, page: PageRequest) -> (String, Criteria) {
    let criteria = Criteria::new()
        .and_some("available = :available", ":available", filter.available)
        .and_some(
            "name LIKE :pattern ESCAPE '\\'",
            ":pattern",
            filter
                .name_contains
                .as_ref()
                .map(|search| substring_pattern(search.as_str())),
        )
        // Ids are lower-case hyphenated UUID v7 text, so text order is creation order.
        .and_some(
            "id < :before",
            ":before",
            page.before.map(|id| id.to_string()),
        );
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products{} ORDER BY id DESC LIMIT :limit",
        criteria.where_clause()
    );
    (sql, criteria)
}

#[async_trait]
impl ProductStore for SqliteStore {
    async fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        let product = product.clone();
        self.run("inserting a product", move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO products (id, name, description, price_cents, available,
                                           created_at, updated_at)
                     VALUES (:id, :name, :description, :price_cents, :available,
                             :created_at, :updated_at)",
                )?
                .execute(named_params! {
                    ":id": product.id.to_string(),
                    ":name": product.name.as_str(),
                    ":description": product.description.as_ref().map(ProductDescription::as_str),
                    ":price_cents": product.price.cents(),
                    ":available": product.available,
                    ":created_at": millis(product.created_at),
                    ":updated_at": millis(product.updated_at),
                })?;
            Ok(())
        })
        .await
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.read("reading a product", move |connection| {
            query_product(
                connection,
                &format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?1"),
                [id.to_string()],
            )
        })
        .await
    }

    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Vec<Product>, StoreError> {
        let (sql, criteria) = listing(filter, page);
        let limit = page.fetch_limit() as i64;
        self.run("listing products", move |connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement
                .query_map(criteria.params(&[(":limit", &limit)]).as_slice(), |row| {
                    Ok(product_from_row(row))
                })?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn update_product(
        &self,
        id: ProductId,
        changes: &ProductChanges,
        at: DateTime<Utc>,
    ) -> Result<Option<Product>, StoreError> {
        let changes = changes.clone();
        // One statement, so the returned product is exactly what this update left; `:set_*`
        // tells a present `None` (clear the description) from an absent field.
        self.run("updating a product", move |connection| {
            query_product(
                connection,
                &format!(
                    "UPDATE products SET
                         name = CASE WHEN :set_name THEN :name ELSE name END,
                         description = CASE WHEN :set_description THEN :description
                                            ELSE description END,
                         price_cents = COALESCE(:price_cents, price_cents),
                         available = COALESCE(:available, available),
                         updated_at = :updated_at
                     WHERE id = :id
                     RETURNING {PRODUCT_COLUMNS}"
                ),
                named_params! {
                    ":id": id.to_string(),
                    ":set_name": changes.name.is_some(),
                    ":name": changes.name.as_ref().map(ProductName::as_str),
                    ":set_description": changes.description.is_some(),
                    ":description": changes
                        .description
                        .as_ref()
                        .and_then(Option::as_ref)
                        .map(ProductDescription::as_str),
                    ":price_cents": changes.price.map(|price| price.cents()),
                    ":available": changes.available,
                    ":updated_at": millis(at),
                },
            )
        })
        .await
    }

    async fn delete_product(&self, id: ProductId) -> Result<bool, StoreError> {
        self.run("deleting a product", move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM products WHERE id = ?1")?
                .execute([id.to_string()])?;
            Ok(deleted == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::criteria::{migrated_connection, query_plan};
    use crate::core::model::ProductSearch;

    /// The catalogue's filters walk an index from the cursor down without sorting.
    #[test]
    fn every_listing_shape_walks_its_index_without_sorting() {
        let connection = migrated_connection();
        let search = Some(ProductSearch::parse("tajine").unwrap());
        let shapes = [
            (ProductFilter::default(), "sqlite_autoindex_products_1"),
            (
                ProductFilter {
                    available: Some(true),
                    name_contains: None,
                },
                "products_available_id",
            ),
            (
                ProductFilter {
                    available: Some(true),
                    name_contains: search,
                },
                "products_available_id",
            ),
        ];
        for (filter, index) in shapes {
            for before in [None, Some(uuid::Uuid::now_v7())] {
                let page = PageRequest { limit: 20, before };
                let plan = query_plan(&connection, &listing(&filter, page).0);

                assert!(
                    plan.contains(&format!("USING INDEX {index}")),
                    "{filter:?} {before:?}: {plan}"
                );
                assert!(
                    !plan.contains("TEMP B-TREE"),
                    "sorts instead of walking: {plan}"
                );
            }
        }
    }

    #[test]
    fn like_wildcards_in_a_search_are_escaped() {
        assert_eq!(substring_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
