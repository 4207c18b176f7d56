//! Adapters layer (SQLite): the `orders` table behind `OrderStore`. Lines and history are
//! JSON arrays in their columns, read back through the domain's parsers.

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use rusqlite::{
    Connection, OptionalExtension, Row, Transaction, TransactionBehavior, named_params,
};
use serde::{Deserialize, Serialize};

use super::SqliteStore;
use super::columns::{
    column, millis, optional_text_column, parsed_column, text_column, time_column,
};
use super::criteria::Criteria;
use super::order_tallies::{TallyKey, Totals, totals_queries};
use crate::core::model::{
    Currency, DeliveryAddress, DeliveryCode, MoveReason, Order, OrderFilter, OrderId, OrderLine,
    OrderNote, OrderTotals, PageRequest, PlacedBetween, PriceCents, ProductName, Quantity,
    StatusChange,
};
use crate::core::ports::{OrderStore, StoreError};

const ORDER_COLUMNS: &str = "id, client_id, courier_id, status, lines, total_cents, currency,
     delivery_address, note, delivery_code, delivery_code_attempts, version, created_at, updated_at, history";

/// One element of the `lines` column.
#[derive(Serialize, Deserialize)]
struct StoredLine {
    product_id: String,
    name: String,
    unit_price_cents: i64,
    quantity: i64,
    line_total_cents: i64,
}

/// One element of the `history` column; `at` in unix milliseconds like every time column.
#[derive(Serialize, Deserialize)]
struct StoredChange {
    at: i64,
    actor_id: String,
    actor_role: String,
    from: String,
    to: String,
    reason: Option<String>,
}

fn lines_json(lines: &[OrderLine]) -> anyhow::Result<String> {
    let stored: Vec<StoredLine> = lines
        .iter()
        .map(|line| StoredLine {
            product_id: line.product_id.to_string(),
            name: line.name.as_str().to_owned(),
            unit_price_cents: line.unit_price.cents(),
            quantity: i64::from(line.quantity.get()),
            line_total_cents: line.line_total_cents,
        })
        .collect();
    Ok(serde_json::to_string(&stored)?)
}

fn history_json(history: &[StatusChange]) -> anyhow::Result<String> {
    let stored: Vec<StoredChange> = history
        .iter()
        .map(|change| StoredChange {
            at: millis(change.at),
            actor_id: change.actor_id.to_string(),
            actor_role: change.actor_role.as_str().to_owned(),
            from: change.from.as_str().to_owned(),
            to: change.to.as_str().to_owned(),
            reason: change.reason.as_ref().map(|r| r.as_str().to_owned()),
        })
        .collect();
    Ok(serde_json::to_string(&stored)?)
}

fn lines_from(json: &str) -> anyhow::Result<Vec<OrderLine>> {
    let stored: Vec<StoredLine> = serde_json::from_str(json)?;
    stored
        .into_iter()
        .map(|line| {
            Ok(OrderLine {
                product_id: line.product_id.parse()?,
                name: ProductName::parse(&line.name).map_err(|e| anyhow!("name: {e}"))?,
                unit_price: PriceCents::new(line.unit_price_cents)
                    .map_err(|e| anyhow!("unit_price_cents: {e}"))?,
                quantity: Quantity::new(line.quantity).map_err(|e| anyhow!("quantity: {e}"))?,
                line_total_cents: line.line_total_cents,
            })
        })
        .collect()
}

fn history_from(json: &str) -> anyhow::Result<Vec<StatusChange>> {
    let stored: Vec<StoredChange> = serde_json::from_str(json)?;
    stored
        .into_iter()
        .map(|change| {
            Ok(StatusChange {
                at: chrono::DateTime::from_timestamp_millis(change.at)
                    .ok_or_else(|| anyhow!("at: {} ms is not a time", change.at))?,
                actor_id: change.actor_id.parse()?,
                actor_role: change.actor_role.parse().map_err(|e: String| anyhow!(e))?,
                from: change.from.parse().map_err(|e: String| anyhow!(e))?,
                to: change.to.parse().map_err(|e: String| anyhow!(e))?,
                reason: change
                    .reason
                    .as_deref()
                    .map(MoveReason::parse)
                    .transpose()
                    .map_err(|e| anyhow!("reason: {e}"))?,
            })
        })
        .collect()
}

fn order_from_row(row: &Row<'_>) -> anyhow::Result<Order> {
    let lines: String = column(row, "lines")?;
    let history: String = column(row, "history")?;
    let version: i64 = column(row, "version")?;
    Ok(Order {
        id: parsed_column(row, "id")?,
        client_id: parsed_column(row, "client_id")?,
        courier_id: optional_text_column(
            row,
            "courier_id",
            str::parse::<crate::core::model::UserId>,
        )?,
        status: parsed_column(row, "status")?,
        lines: lines_from(&lines).context("column `lines`")?,
        total_cents: column(row, "total_cents")?,
        currency: text_column(row, "currency", Currency::parse)?,
        delivery_address: text_column(row, "delivery_address", DeliveryAddress::parse)?,
        note: optional_text_column(row, "note", OrderNote::parse)?,
        delivery_code: text_column(row, "delivery_code", DeliveryCode::parse)?,
        delivery_code_attempts: column(row, "delivery_code_attempts")?,
        version: u64::try_from(version).context("column `version`")?,
        created_at: time_column(row, "created_at")?,
        updated_at: time_column(row, "updated_at")?,
        history: history_from(&history).context("column `history`")?,
    })
}

fn query_order(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> anyhow::Result<Option<Order>> {
    connection
        .prepare_cached(sql)?
        .query_row(params, |row| Ok(order_from_row(row)))
        .optional()?
        .transpose()
}

fn version_column(version: u64) -> anyhow::Result<i64> {
    i64::try_from(version).context("order version beyond SQLite's integers")
}

/// The listing's statement for the criteria present (see `criteria.rs`). Each shape has an
/// index that starts with its equalities and ends with `id`, so the page is a walk down that
/// index from the cursor: `orders_client_status`, `orders_courier_status`, `orders_status`,
/// `orders_client_id`, `orders_courier_id`, or the primary key.
fn listing(filter: &OrderFilter, page: PageRequest) -> (String, Criteria) {
    let criteria = Criteria::new()
        .and_some(
            "client_id = :client_id",
            ":client_id",
            filter.client_id.map(|id| id.to_string()),
        )
        .and_some(
            "courier_id = :courier_id",
            ":courier_id",
            filter.courier_id.map(|id| id.to_string()),
        )
        .and_some(
            "status = :status",
            ":status",
            filter.status.map(|status| status.as_str()),
        )
        // Ids are lower-case hyphenated UUID v7 text, so text order is creation order.
        .and_some(
            "id < :before",
            ":before",
            page.before.map(|id| id.to_string()),
        );
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders{} ORDER BY id DESC LIMIT :limit",
        criteria.where_clause()
    );
    (sql, criteria)
}

#[async_trait]
impl OrderStore for SqliteStore {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        let order = order.clone();
        self.run("inserting an order", move |connection| {
            let transaction =
                Transaction::new_unchecked(connection, TransactionBehavior::Immediate)?;
            transaction
                .prepare_cached(&format!(
                    "INSERT INTO orders ({ORDER_COLUMNS})
                     VALUES (:id, :client_id, :courier_id, :status, :lines, :total_cents,
                             :currency, :delivery_address, :note, :delivery_code,
                             :delivery_code_attempts, :version,
                             :created_at, :updated_at, :history)"
                ))?
                .execute(named_params! {
                    ":id": order.id.to_string(),
                    ":client_id": order.client_id.to_string(),
                    ":courier_id": order.courier_id.map(|id| id.to_string()),
                    ":status": order.status.as_str(),
                    ":lines": lines_json(&order.lines)?,
                    ":total_cents": order.total_cents,
                    ":currency": order.currency.as_str(),
                    ":delivery_address": order.delivery_address.as_str(),
                    ":note": order.note.as_ref().map(OrderNote::as_str),
                    ":delivery_code": order.delivery_code.as_str(),
                    ":delivery_code_attempts": order.delivery_code_attempts,
                    ":version": version_column(order.version)?,
                    ":created_at": millis(order.created_at),
                    ":updated_at": millis(order.updated_at),
                    ":history": history_json(&order.history)?,
                })?;
            TallyKey::new(
                millis(order.created_at),
                order.status.as_str(),
                order.currency.as_str(),
                order.courier_id.map(|id| id.to_string()),
            )
            .count_in(&transaction, order.total_cents)?;
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.read("reading an order", move |connection| {
            query_order(
                connection,
                &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
                [id.to_string()],
            )
        })
        .await
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Vec<Order>, StoreError> {
        let (sql, criteria) = listing(filter, page);
        let limit = page.fetch_limit() as i64;
        self.run("listing orders", move |connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement
                .query_map(criteria.params(&[(":limit", &limit)]).as_slice(), |row| {
                    Ok(order_from_row(row))
                })?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<bool, StoreError> {
        let order = order.clone();
        // The version in the UPDATE's WHERE is the compare-and-set; the transaction takes the
        // write lock first (IMMEDIATE), so the tally moved is the one of the row replaced.
        self.run("updating an order", move |connection| {
            let transaction =
                Transaction::new_unchecked(connection, TransactionBehavior::Immediate)?;
            let Some((before, total_cents)) = transaction
                .prepare_cached(
                    "SELECT created_at, status, currency, courier_id, total_cents FROM orders
                     WHERE id = :id AND version = :expected_version",
                )?
                .query_row(
                    named_params! {
                        ":id": order.id.to_string(),
                        ":expected_version": version_column(expected_version)?,
                    },
                    |row| {
                        Ok((
                            TallyKey::new(
                                row.get(0)?,
                                &row.get::<_, String>(1)?,
                                &row.get::<_, String>(2)?,
                                row.get(3)?,
                            ),
                            row.get::<_, i64>(4)?,
                        ))
                    },
                )
                .optional()?
            else {
                return Ok(false);
            };
            transaction
                .prepare_cached(
                    "UPDATE orders SET status = :status, courier_id = :courier_id,
                            history = :history, updated_at = :updated_at, version = :version
                     WHERE id = :id AND version = :expected_version",
                )?
                .execute(named_params! {
                    ":id": order.id.to_string(),
                    ":expected_version": version_column(expected_version)?,
                    ":status": order.status.as_str(),
                    ":courier_id": order.courier_id.map(|id| id.to_string()),
                    ":history": history_json(&order.history)?,
                    ":updated_at": millis(order.updated_at),
                    ":version": version_column(order.version)?,
                })?;
            let after = TallyKey {
                status: order.status.as_str().to_owned(),
                courier_id: order
                    .courier_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                ..before.clone()
            };
            if after != before {
                before.count_out(&transaction, total_cents)?;
                after.count_in(&transaction, total_cents)?;
            }
            transaction.commit()?;
            Ok(true)
        })
        .await
    }

    async fn reserve_delivery_code_attempt(
        &self,
        id: OrderId,
        max: u32,
    ) -> Result<bool, StoreError> {
        self.run("reserving a delivery-code attempt", move |connection| {
            let updated = connection
                .prepare_cached(
                    "UPDATE orders SET delivery_code_attempts = delivery_code_attempts + 1
                     WHERE id = ?1 AND delivery_code_attempts < ?2",
                )?
                .execute(rusqlite::params![id.to_string(), max])?;
            Ok(updated == 1)
        })
        .await
    }

    async fn order_totals(&self, period: PlacedBetween) -> Result<OrderTotals, StoreError> {
        let from = period.from.map(millis);
        let to = period.to.map(millis);
        self.run("totalling orders", move |connection| {
            // One read transaction, so the tallies and the orders counted describe one state.
            let transaction = connection.unchecked_transaction()?;
            let mut totals = Totals::default();
            for (sql, criteria) in totals_queries(from, to) {
                let mut statement = transaction.prepare_cached(&sql)?;
                let mut rows = statement.query(criteria.params(&[]).as_slice())?;
                while let Some(row) = rows.next()? {
                    totals.add(
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    )?;
                }
            }
            transaction.finish()?;
            totals.into_order_totals()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::criteria::{migrated_connection, query_plan};
    use super::*;
    use crate::core::model::{OrderStatus, UserId};

    /// Every shape of listing the core asks for (a client's, a courier's, a manager's, each
    /// with or without a status, each first page or by cursor) walks the index named, from
    /// the cursor down, without sorting: a page costs the same whatever the table holds and
    /// however little matches.
    #[test]
    fn every_listing_shape_walks_its_index_without_sorting() {
        let connection = migrated_connection();
        let someone = Some(UserId::new());
        let status = Some(OrderStatus::Delivered);
        let shapes = [
            (OrderFilter::default(), "sqlite_autoindex_orders_1"),
            (
                OrderFilter {
                    status,
                    ..OrderFilter::default()
                },
                "orders_status",
            ),
            (
                OrderFilter {
                    client_id: someone,
                    ..OrderFilter::default()
                },
                "orders_client_id",
            ),
            (
                OrderFilter {
                    client_id: someone,
                    status,
                    ..OrderFilter::default()
                },
                "orders_client_status",
            ),
            (
                OrderFilter {
                    courier_id: someone,
                    ..OrderFilter::default()
                },
                "orders_courier_id",
            ),
            (
                OrderFilter {
                    courier_id: someone,
                    status,
                    ..OrderFilter::default()
                },
                "orders_courier_status",
            ),
        ];
        for (filter, index) in shapes {
            for before in [None, Some(uuid::Uuid::now_v7())] {
                let page = PageRequest { limit: 20, before };
                let plan = query_plan(&connection, &listing(&filter, page).0);

                assert!(
                    plan.contains(&format!("USING INDEX {index} ("))
                        || (before.is_none() && plan.contains(&format!("USING INDEX {index}"))),
                    "{filter:?} {before:?}: {plan}"
                );
                assert!(
                    !plan.contains("TEMP B-TREE"),
                    "sorts instead of walking: {plan}"
                );
            }
        }
    }
}
