//! Adapters layer (HTTP): the JSON bodies of the `Orders` operations. Write bodies refuse
//! unknown fields, so a client can never send a price, a total or a status history.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::adapters::http::fields::Optional;
use crate::adapters::http::fields::Text;
use crate::adapters::http::me::dto::RoleView;
use crate::core::model::{OrderLine, OrderStatus, Page, ProductId, StatusChange};
use crate::core::orders::{MoveOrderRequest, OrderItemRequest, OrderView, PlaceOrderRequest};

/// Where an order is in its workflow. Published as an enum so that clients get a closed type;
/// request bodies and filters still take text, and an unknown status there is a 422.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "OrderStatus", rename_all = "snake_case")]
pub enum OrderStatusView {
    Pending,
    Confirmed,
    Preparing,
    Ready,
    PickedUp,
    Delivered,
    Failed,
    Cancelled,
}

impl From<OrderStatus> for OrderStatusView {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Pending => OrderStatusView::Pending,
            OrderStatus::Confirmed => OrderStatusView::Confirmed,
            OrderStatus::Preparing => OrderStatusView::Preparing,
            OrderStatus::Ready => OrderStatusView::Ready,
            OrderStatus::PickedUp => OrderStatusView::PickedUp,
            OrderStatus::Delivered => OrderStatusView::Delivered,
            OrderStatus::Failed => OrderStatusView::Failed,
            OrderStatus::Cancelled => OrderStatusView::Cancelled,
        }
    }
}

/// One line of an order, at the price of the moment it was placed.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "OrderLine")]
pub struct OrderLineView {
    pub product_id: Uuid,
    /// The product's name when the order was placed.
    pub name: String,
    /// Unit price in minor units when the order was placed.
    pub unit_price_cents: i64,
    pub quantity: u32,
    /// `unit_price_cents × quantity`.
    pub line_total_cents: i64,
}

impl From<OrderLine> for OrderLineView {
    fn from(line: OrderLine) -> Self {
        OrderLineView {
            product_id: line.product_id.as_uuid(),
            name: line.name.as_str().to_owned(),
            unit_price_cents: line.unit_price.cents(),
            quantity: line.quantity.get(),
            line_total_cents: line.line_total_cents,
        }
    }
}

/// One status change of an order.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "OrderStatusChange")]
pub struct StatusChangeView {
    pub at: DateTime<Utc>,
    /// Who made the change.
    pub actor_id: Uuid,
    /// Their role at the time.
    pub actor_role: RoleView,
    pub from: OrderStatusView,
    pub to: OrderStatusView,
    /// Why it was cancelled or failed, when given.
    pub reason: Nullable<String>,
}

impl From<StatusChange> for StatusChangeView {
    fn from(change: StatusChange) -> Self {
        StatusChangeView {
            at: change.at,
            actor_id: change.actor_id.as_uuid(),
            actor_role: change.actor_role.into(),
            from: change.from.into(),
            to: change.to.into(),
            reason: change.reason.map(|r| r.as_str().to_owned()).into(),
        }
    }
}

/// An order, as the caller may see it.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "Order")]
pub struct OrderBody {
    pub id: Uuid,
    pub client_id: Uuid,
    /// The assigned courier, once a manager assigned one.
    pub courier_id: Nullable<Uuid>,
    pub status: OrderStatusView,
    pub items: Vec<OrderLineView>,
    /// Sum of the lines, in minor units of `currency`.
    pub total_cents: i64,
    /// ISO 4217 code of every amount.
    pub currency: String,
    pub delivery_address: String,
    pub note: Nullable<String>,
    /// Six digits the client gives the courier at the door. Shown only to the client who
    /// placed the order, from `picked_up` on; `null` otherwise.
    pub delivery_code: Nullable<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChangeView>,
}

impl From<OrderView> for OrderBody {
    fn from(view: OrderView) -> Self {
        // The code comes from the view's decision, never from the order itself.
        let OrderView {
            order,
            delivery_code,
        } = view;
        OrderBody {
            id: order.id.as_uuid(),
            client_id: order.client_id.as_uuid(),
            courier_id: order.courier_id.map(|id| id.as_uuid()).into(),
            status: order.status.into(),
            items: order.lines.into_iter().map(OrderLineView::from).collect(),
            total_cents: order.total_cents,
            currency: order.currency.as_str().to_owned(),
            delivery_address: order.delivery_address.as_str().to_owned(),
            note: order.note.map(|note| note.as_str().to_owned()).into(),
            delivery_code: delivery_code.map(|code| code.as_str().to_owned()).into(),
            created_at: order.created_at,
            updated_at: order.updated_at,
            history: order
                .history
                .into_iter()
                .map(StatusChangeView::from)
                .collect(),
        }
    }
}

/// One page of orders, newest first.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "OrderPage")]
pub struct OrderPageBody {
    pub items: Vec<OrderBody>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Nullable<String>,
}

impl From<Page<OrderView>> for OrderPageBody {
    fn from(page: Page<OrderView>) -> Self {
        OrderPageBody {
            items: page.items.into_iter().map(OrderBody::from).collect(),
            next_cursor: page.next_cursor.into(),
        }
    }
}

/// One product to order.
#[derive(Object)]
#[oai(deny_unknown_fields, rename = "OrderItem")]
pub struct OrderItemBody {
    pub product_id: Uuid,
    /// 1 to 100.
    pub quantity: i64,
}

/// A new order. Prices and the total come from the catalogue, never from the client.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PlaceOrderBody {
    /// 1 to 50 products, each available in the catalogue.
    pub items: Vec<OrderItemBody>,
    /// Where to deliver, up to 300 characters, possibly on several lines.
    pub delivery_address: Text,
    /// For the kitchen or the courier, up to 500 characters.
    pub note: Optional<Text>,
}

impl From<PlaceOrderBody> for PlaceOrderRequest {
    fn from(body: PlaceOrderBody) -> Self {
        PlaceOrderRequest {
            items: body
                .items
                .into_iter()
                .map(|item| OrderItemRequest {
                    product_id: ProductId::from_uuid(item.product_id),
                    quantity: item.quantity,
                })
                .collect(),
            delivery_address: body.delivery_address.into(),
            note: body.note.into_option().map(String::from),
        }
    }
}

/// A move of an order to another status.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct MoveOrderBody {
    /// The status to move to.
    pub status: Text,
    /// Required to cancel a confirmed, preparing or ready order and to report a failed
    /// delivery; up to 500 characters.
    pub reason: Optional<Text>,
    /// Required to deliver: the six digits the client shows the courier.
    pub delivery_code: Optional<Text>,
}

impl From<MoveOrderBody> for MoveOrderRequest {
    fn from(body: MoveOrderBody) -> Self {
        MoveOrderRequest {
            status: body.status.into(),
            reason: body.reason.into_option().map(String::from),
            delivery_code: body.delivery_code.into_option().map(String::from),
        }
    }
}

/// The courier to give the order to.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AssignOrderBody {
    /// An active courier.
    pub courier_id: Uuid,
}
