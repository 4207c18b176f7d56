//! Adapters layer (SQLite): the `orders` table behind `OrderStore`. Lines and history are
//! JSON arrays in their columns, read back through the domain's parsers.

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, named_params};
use serde::{Deserialize, Serialize};

use super::SqliteStore;
use super::columns::{
    column, millis, optional_text_column, parsed_column, text_column, time_column,
};
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

#[async_trait]
impl OrderStore for SqliteStore {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        let order = order.clone();
        self.run("inserting an order", move |connection| {
            connection
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
            Ok(())
        })
        .await
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.run("reading an order", move |connection| {
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
        let filter = filter.clone();
        self.run("listing orders", move |connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders
                 WHERE (:before IS NULL OR id < :before)
                   AND (:client_id IS NULL OR client_id = :client_id)
                   AND (:courier_id IS NULL OR courier_id = :courier_id)
                   AND (:status IS NULL OR status = :status)
                 ORDER BY id DESC
                 LIMIT :limit"
            ))?;
            let rows = statement.query_map(
                named_params! {
                    ":before": page.before.map(|id| id.to_string()),
                    ":client_id": filter.client_id.map(|id| id.to_string()),
                    ":courier_id": filter.courier_id.map(|id| id.to_string()),
                    ":status": filter.status.map(|status| status.as_str()),
                    ":limit": page.fetch_limit() as i64,
                },
                |row| Ok(order_from_row(row)),
            )?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<bool, StoreError> {
        let order = order.clone();
        // One UPDATE with the version in its WHERE: SQLite serialises writers, so of two
        // writers that read one version the second finds it moved and changes nothing.
        self.run("updating an order", move |connection| {
            let updated = connection
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
            Ok(updated == 1)
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
            // One read transaction, so the three totals describe the same orders.
            let transaction = connection.unchecked_transaction()?;
            let period = named_params! { ":from": from, ":to": to };
            const IN_PERIOD: &str =
                "(:from IS NULL OR created_at >= :from) AND (:to IS NULL OR created_at < :to)";
            let per_status = transaction
                .prepare_cached(&format!(
                    "SELECT status, COUNT(*) FROM orders WHERE {IN_PERIOD} GROUP BY status"
                ))?
                .query_map(period, |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .map(|row| {
                    let (status, count) = row?;
                    Ok((
                        status.parse().map_err(|e: String| anyhow!(e))?,
                        u64::try_from(count)?,
                    ))
                })
                .collect::<anyhow::Result<_>>()?;
            let delivered_revenue = transaction
                .prepare_cached(&format!(
                    "SELECT currency, SUM(total_cents) FROM orders
                     WHERE {IN_PERIOD} AND status = 'delivered' GROUP BY currency"
                ))?
                .query_map(period, |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .map(|row| {
                    let (currency, sum) = row?;
                    Ok((
                        Currency::parse(&currency).map_err(|e| anyhow!("currency: {e}"))?,
                        sum,
                    ))
                })
                .collect::<anyhow::Result<_>>()?;
            let deliveries_per_courier = transaction
                .prepare_cached(&format!(
                    "SELECT courier_id, COUNT(*) FROM orders
                     WHERE {IN_PERIOD} AND status = 'delivered' AND courier_id IS NOT NULL
                     GROUP BY courier_id"
                ))?
                .query_map(period, |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .map(|row| {
                    let (courier, count) = row?;
                    Ok((courier.parse()?, u64::try_from(count)?))
                })
                .collect::<anyhow::Result<_>>()?;
            transaction.finish()?;
            Ok(OrderTotals {
                per_status,
                delivered_revenue,
                deliveries_per_courier,
            })
        })
        .await
    }
}
