//! Adapters layer (MongoDB): the `orders` collection behind `OrderStore`. Lines and history
//! are embedded arrays: an order is always read and written whole, and the workflow's
//! compare-and-set is one `update_one` with the version in its filter.

use anyhow::Context;
use async_trait::async_trait;
use mongodb::bson::{self, Bson, Document, doc};
use serde::{Deserialize, Serialize};

use super::values::{
    bson_time, bson_uuid, domain_count, domain_time, domain_uuid, optional_parsed_field,
    parsed_field,
};
use super::{MongoStore, run};
use crate::core::model::{
    Currency, DeliveryAddress, DeliveryCode, MoveReason, Order, OrderFilter, OrderId, OrderLine,
    OrderNote, OrderTotals, PageRequest, PlacedBetween, PriceCents, ProductId, ProductName,
    Quantity, StatusChange, UserId,
};
use crate::core::ports::{OrderStore, StoreError};

pub(super) const COLLECTION: &str = "orders";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LineDocument {
    product_id: bson::Uuid,
    name: String,
    unit_price_cents: i64,
    quantity: i64,
    line_total_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ChangeDocument {
    at: bson::DateTime,
    actor_id: bson::Uuid,
    actor_role: String,
    from: String,
    to: String,
    reason: Option<String>,
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct OrderDocument {
    #[serde(rename = "_id")]
    id: bson::Uuid,
    client_id: bson::Uuid,
    courier_id: Option<bson::Uuid>,
    status: String,
    lines: Vec<LineDocument>,
    total_cents: i64,
    currency: String,
    delivery_address: String,
    note: Option<String>,
    delivery_code: String,
    delivery_code_attempts: i64,
    version: i64,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
    history: Vec<ChangeDocument>,
}

fn stored_version(version: u64) -> anyhow::Result<i64> {
    i64::try_from(version).context("order version beyond BSON's integers")
}

fn history_documents(history: &[StatusChange]) -> Vec<ChangeDocument> {
    history
        .iter()
        .map(|change| ChangeDocument {
            at: bson_time(change.at),
            actor_id: bson_uuid(change.actor_id.as_uuid()),
            actor_role: change.actor_role.as_str().to_owned(),
            from: change.from.as_str().to_owned(),
            to: change.to.as_str().to_owned(),
            reason: change.reason.as_ref().map(|r| r.as_str().to_owned()),
        })
        .collect()
}

impl TryFrom<&Order> for OrderDocument {
    type Error = anyhow::Error;

    fn try_from(order: &Order) -> anyhow::Result<Self> {
        Ok(Self {
            id: bson_uuid(order.id.as_uuid()),
            client_id: bson_uuid(order.client_id.as_uuid()),
            courier_id: order.courier_id.map(|id| bson_uuid(id.as_uuid())),
            status: order.status.as_str().to_owned(),
            lines: order
                .lines
                .iter()
                .map(|line| LineDocument {
                    product_id: bson_uuid(line.product_id.as_uuid()),
                    name: line.name.as_str().to_owned(),
                    unit_price_cents: line.unit_price.cents(),
                    quantity: i64::from(line.quantity.get()),
                    line_total_cents: line.line_total_cents,
                })
                .collect(),
            total_cents: order.total_cents,
            currency: order.currency.as_str().to_owned(),
            delivery_address: order.delivery_address.as_str().to_owned(),
            note: order.note.as_ref().map(|note| note.as_str().to_owned()),
            delivery_code: order.delivery_code.as_str().to_owned(),
            delivery_code_attempts: i64::from(order.delivery_code_attempts),
            version: stored_version(order.version)?,
            created_at: bson_time(order.created_at),
            updated_at: bson_time(order.updated_at),
            history: history_documents(&order.history),
        })
    }
}

fn line_from(line: LineDocument) -> anyhow::Result<OrderLine> {
    Ok(OrderLine {
        product_id: ProductId::from_uuid(domain_uuid(line.product_id)),
        name: parsed_field("lines.name", &line.name, ProductName::parse)?,
        unit_price: PriceCents::new(line.unit_price_cents)
            .map_err(|e| anyhow::anyhow!("field `lines.unit_price_cents`: {e}"))?,
        quantity: Quantity::new(line.quantity)
            .map_err(|e| anyhow::anyhow!("field `lines.quantity`: {e}"))?,
        line_total_cents: line.line_total_cents,
    })
}

fn change_from(change: ChangeDocument) -> anyhow::Result<StatusChange> {
    Ok(StatusChange {
        at: domain_time("history.at", change.at)?,
        actor_id: UserId::from_uuid(domain_uuid(change.actor_id)),
        actor_role: parsed_field("history.actor_role", &change.actor_role, str::parse)?,
        from: parsed_field("history.from", &change.from, str::parse)?,
        to: parsed_field("history.to", &change.to, str::parse)?,
        reason: optional_parsed_field(
            "history.reason",
            change.reason.as_deref(),
            MoveReason::parse,
        )?,
    })
}

impl TryFrom<OrderDocument> for Order {
    type Error = anyhow::Error;

    fn try_from(document: OrderDocument) -> anyhow::Result<Self> {
        let id = OrderId::from_uuid(domain_uuid(document.id));
        let read = || -> anyhow::Result<Order> {
            Ok(Order {
                id,
                client_id: UserId::from_uuid(domain_uuid(document.client_id)),
                courier_id: document
                    .courier_id
                    .map(|id| UserId::from_uuid(domain_uuid(id))),
                status: parsed_field("status", &document.status, str::parse)?,
                lines: document
                    .lines
                    .into_iter()
                    .map(line_from)
                    .collect::<anyhow::Result<_>>()?,
                total_cents: document.total_cents,
                currency: parsed_field("currency", &document.currency, Currency::parse)?,
                delivery_address: parsed_field(
                    "delivery_address",
                    &document.delivery_address,
                    DeliveryAddress::parse,
                )?,
                note: optional_parsed_field("note", document.note.as_deref(), OrderNote::parse)?,
                delivery_code: parsed_field(
                    "delivery_code",
                    &document.delivery_code,
                    DeliveryCode::parse,
                )?,
                delivery_code_attempts: domain_count(
                    "delivery_code_attempts",
                    document.delivery_code_attempts,
                )?,
                version: u64::try_from(document.version).context("field `version`")?,
                created_at: domain_time("created_at", document.created_at)?,
                updated_at: domain_time("updated_at", document.updated_at)?,
                history: document
                    .history
                    .into_iter()
                    .map(change_from)
                    .collect::<anyhow::Result<_>>()?,
            })
        };
        read().map_err(|error| error.context(format!("order document {id}")))
    }
}

/// The filter of a list: the page's upper bound on `_id` and the present filter fields.
/// The query of a page of orders (sorted by `_id` descending); public so that a test can ask
/// the server how it plans it.
pub fn order_listing_filter(filter: &OrderFilter, page: PageRequest) -> Document {
    let mut query = Document::new();
    if let Some(before) = page.before {
        query.insert("_id", doc! { "$lt": bson_uuid(before) });
    }
    if let Some(client_id) = filter.client_id {
        query.insert("client_id", bson_uuid(client_id.as_uuid()));
    }
    if let Some(courier_id) = filter.courier_id {
        query.insert("courier_id", bson_uuid(courier_id.as_uuid()));
    }
    if let Some(status) = filter.status {
        query.insert("status", status.as_str());
    }
    query
}

/// The `$match` stage of totals: orders placed within `period`; public so that a test can
/// ask the server how it plans it.
pub fn placed_within(period: PlacedBetween) -> Document {
    let mut created_at = Document::new();
    if let Some(from) = period.from {
        created_at.insert("$gte", bson_time(from));
    }
    if let Some(to) = period.to {
        created_at.insert("$lt", bson_time(to));
    }
    if created_at.is_empty() {
        Document::new()
    } else {
        doc! { "created_at": created_at }
    }
}

/// A `$sum` result: the server answers `int` or `long` depending on the magnitude.
fn whole_number(field: &str, value: Option<&Bson>) -> anyhow::Result<i64> {
    match value {
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(Bson::Int64(n)) => Ok(*n),
        other => Err(anyhow::anyhow!(
            "field `{field}`: {other:?} is not a whole number"
        )),
    }
}

/// The `{_id, n}` groups of one facet.
fn groups<'a>(facets: &'a Document, facet: &str) -> anyhow::Result<Vec<(&'a Bson, i64)>> {
    facets
        .get_array(facet)
        .with_context(|| format!("facet `{facet}`"))?
        .iter()
        .map(|group| {
            let group = group
                .as_document()
                .with_context(|| format!("facet `{facet}`: a group is not a document"))?;
            let key = group
                .get("_id")
                .with_context(|| format!("facet `{facet}`: a group has no `_id`"))?;
            Ok((key, whole_number("n", group.get("n"))?))
        })
        .collect()
}

fn text_key<'a>(facet: &str, key: &'a Bson) -> anyhow::Result<&'a str> {
    key.as_str()
        .with_context(|| format!("facet `{facet}`: {key:?} is not text"))
}

#[async_trait]
impl OrderStore for MongoStore {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        run("inserting an order", async {
            self.orders
                .insert_one(OrderDocument::try_from(order)?)
                .await?;
            Ok(())
        })
        .await
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        run("reading an order", async {
            self.orders
                .find_one(doc! { "_id": bson_uuid(id.as_uuid()) })
                .await?
                .map(Order::try_from)
                .transpose()
        })
        .await
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Vec<Order>, StoreError> {
        run("listing orders", async {
            let mut cursor = self
                .orders
                .find(order_listing_filter(filter, page))
                .sort(doc! { "_id": -1 })
                .limit(page.fetch_limit() as i64)
                .await?;
            let mut orders = Vec::new();
            while cursor.advance().await? {
                orders.push(Order::try_from(cursor.deserialize_current()?)?);
            }
            Ok(orders)
        })
        .await
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<bool, StoreError> {
        run("updating an order", async {
            let history = bson::to_bson(&history_documents(&order.history))?;
            // The version in the filter makes this a compare-and-set: a single-document
            // update is atomic, so of two writers that read one version only one matches.
            let result = self
                .orders
                .update_one(
                    doc! {
                        "_id": bson_uuid(order.id.as_uuid()),
                        "version": stored_version(expected_version)?,
                    },
                    doc! { "$set": {
                        "status": order.status.as_str(),
                        "courier_id": order.courier_id.map(|id| bson_uuid(id.as_uuid())),
                        "history": history,
                        "updated_at": bson_time(order.updated_at),
                        "version": stored_version(order.version)?,
                    } },
                )
                .await?;
            Ok(result.modified_count == 1)
        })
        .await
    }

    async fn reserve_delivery_code_attempt(
        &self,
        id: OrderId,
        max: u32,
    ) -> Result<bool, StoreError> {
        run("reserving a delivery-code attempt", async {
            // The bound in the filter makes the increment conditional and atomic.
            let result = self
                .orders
                .update_one(
                    doc! {
                        "_id": bson_uuid(id.as_uuid()),
                        "delivery_code_attempts": { "$lt": i64::from(max) },
                    },
                    doc! { "$inc": { "delivery_code_attempts": 1_i64 } },
                )
                .await?;
            Ok(result.modified_count == 1)
        })
        .await
    }

    async fn order_totals(&self, period: PlacedBetween) -> Result<OrderTotals, StoreError> {
        run("totalling orders", async {
            // One aggregation with three facets: the server reads the matching orders once,
            // so the three totals describe the same orders.
            let delivered = doc! { "$match": { "status": "delivered" } };
            let pipeline = vec![
                doc! { "$match": placed_within(period) },
                doc! { "$facet": {
                    "per_status": [
                        { "$group": { "_id": "$status", "n": { "$sum": 1 } } },
                    ],
                    "revenue": [
                        delivered.clone(),
                        { "$group": { "_id": "$currency", "n": { "$sum": "$total_cents" } } },
                    ],
                    "couriers": [
                        delivered,
                        { "$match": { "courier_id": { "$ne": null } } },
                        { "$group": { "_id": "$courier_id", "n": { "$sum": 1 } } },
                    ],
                } },
            ];
            let mut cursor = self.orders.aggregate(pipeline).await?;
            let facets = if cursor.advance().await? {
                cursor.deserialize_current()?
            } else {
                return Err(anyhow::anyhow!("the totals aggregation returned nothing"));
            };
            let per_status = groups(&facets, "per_status")?
                .into_iter()
                .map(|(key, n)| {
                    let status = parsed_field("status", text_key("per_status", key)?, str::parse)?;
                    Ok((status, u64::try_from(n)?))
                })
                .collect::<anyhow::Result<_>>()?;
            let delivered_revenue = groups(&facets, "revenue")?
                .into_iter()
                .map(|(key, n)| {
                    let currency =
                        parsed_field("currency", text_key("revenue", key)?, Currency::parse)?;
                    Ok((currency, n))
                })
                .collect::<anyhow::Result<_>>()?;
            let deliveries_per_courier = groups(&facets, "couriers")?
                .into_iter()
                .map(|(key, n)| {
                    let courier: bson::Uuid = bson::from_bson(key.clone())?;
                    Ok((UserId::from_uuid(domain_uuid(courier)), u64::try_from(n)?))
                })
                .collect::<anyhow::Result<_>>()?;
            Ok(OrderTotals {
                per_status,
                delivered_revenue,
                deliveries_per_courier,
            })
        })
        .await
    }
}
