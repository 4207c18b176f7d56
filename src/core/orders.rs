//! Core layer: the order use cases — clients place orders, managers run the kitchen and
//! assign couriers, couriers deliver. Talks to the world only through `crate::core::ports`.
//!
//! Visibility comes first: an order the caller may not see is "not found" (404), whatever
//! they asked to do with it. Then the transition table (`model::decide`) rules the move.
//! Every write is a compare-and-set on the version that was read, so two concurrent changes
//! of one order never both land.

use std::sync::Arc;

use thiserror::Error;

use anyhow::Context;

use super::model::{
    AccountStatus, Currency, DeliveryAddress, DeliveryCode, Mail, MailMessage, Manager, MoveReason,
    MoveRefusal, NotAManager, Order, OrderFilter, OrderId, OrderLine, OrderNote, OrderReceipt,
    OrderStatus, Page, PageRequest, Party, PlacedBetween, Principal, ProductId, Quantity,
    ReceiptLine, Role, StatusChange, UserId, ValidationErrors, decide, total_of,
};
use super::policy::OrderPolicy;
use super::ports::{Clock, Mailer, OrderStore, ProductStore, SecretGenerator, UserStore};
use super::unexpected::port_failures_are_unexpected;

/// How many lines one order may have.
pub const MAX_ORDER_LINES: usize = 50;

/// One requested line: which product, how many.
#[derive(Debug, Clone)]
pub struct OrderItemRequest {
    pub product_id: ProductId,
    pub quantity: i64,
}

/// A new order as the client sent it. No price: prices come from the catalogue.
#[derive(Debug, Clone)]
pub struct PlaceOrderRequest {
    pub items: Vec<OrderItemRequest>,
    pub delivery_address: String,
    pub note: Option<String>,
}

/// A list request as sent; parsed here so every error names its parameter.
#[derive(Debug, Clone, Default)]
pub struct ListOrdersRequest {
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A status change as sent.
#[derive(Debug, Clone)]
pub struct MoveOrderRequest {
    pub status: String,
    pub reason: Option<String>,
    pub delivery_code: Option<String>,
}

/// Managers' figures over the orders placed in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderStats {
    pub period: PlacedBetween,
    /// Every status, in workflow order, with its count (zero included).
    pub per_status: Vec<(OrderStatus, u64)>,
    /// Revenue of delivered orders per currency; the configured currency always appears.
    pub delivered_revenue: Vec<(Currency, i64)>,
    /// Couriers by deliveries, most first.
    pub deliveries_per_courier: Vec<CourierDeliveries>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CourierDeliveries {
    pub courier_id: UserId,
    /// `None` when the account was deleted since.
    pub name: Option<String>,
    pub deliveries: u64,
}

/// An order as one caller may see it: the delivery code only for the client who placed it,
/// and only from pick-up on. Adapters show `delivery_code`, never `order.delivery_code`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderView {
    pub order: Order,
    pub delivery_code: Option<DeliveryCode>,
}

#[derive(Debug, Error)]
pub enum OrderError {
    /// Absent, or not visible to the caller.
    #[error("order not found")]
    NotFound,
    /// The caller's role may never do this (the transition table's refusal, a non-client
    /// placing an order, a non-manager assigning one).
    #[error("not allowed")]
    Forbidden,
    /// The table has no such move from the order's current status.
    #[error("the order cannot move to this status now")]
    InvalidTransition,
    /// Couriers are assigned between confirmation and pick-up only.
    #[error("the order cannot be assigned in its current status")]
    NotAssignable,
    /// The delivery code does not match the order's.
    #[error("wrong delivery code")]
    InvalidDeliveryCode,
    /// The order has used all its delivery-code attempts; the courier reports it failed.
    #[error("no delivery-code attempts left")]
    DeliveryCodeLocked,
    /// The order changed since it was read (a concurrent change won); read it again.
    #[error("the order changed meanwhile")]
    Conflict,
    #[error("invalid order: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

port_failures_are_unexpected!(OrderError);

/// Assigning couriers is for managers; `assign` checks it after visibility, so a caller who
/// may not see the order learns nothing more than "not found".
impl From<NotAManager> for OrderError {
    fn from(_: NotAManager) -> Self {
        OrderError::Forbidden
    }
}

/// What the order service needs from the world.
#[derive(Clone)]
pub struct OrderPorts {
    pub orders: Arc<dyn OrderStore>,
    pub products: Arc<dyn ProductStore>,
    pub users: Arc<dyn UserStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<dyn SecretGenerator>,
}

#[derive(Clone)]
pub struct OrderService {
    ports: OrderPorts,
    currency: Currency,
    policy: OrderPolicy,
}

impl OrderService {
    pub fn new(ports: OrderPorts, currency: Currency, policy: OrderPolicy) -> Self {
        Self {
            ports,
            currency,
            policy,
        }
    }

    /// A client orders products at the catalogue's current prices.
    pub async fn place(
        &self,
        actor: Principal,
        request: PlaceOrderRequest,
    ) -> Result<OrderView, OrderError> {
        if actor.role != Role::Client {
            return Err(OrderError::Forbidden);
        }
        let mut errors = ValidationErrors::new();
        let delivery_address = errors.check(
            "delivery_address",
            DeliveryAddress::parse(&request.delivery_address),
        );
        let note = match request.note.as_deref() {
            None => Some(None),
            Some(raw) => errors.check("note", OrderNote::parse(raw)).map(Some),
        };
        let lines = self.priced_lines(&request.items, &mut errors).await?;
        let total_cents = total_of(&lines).ok();
        if total_cents.is_none() {
            errors.add("items", "the total is too large");
        }
        let (Some(delivery_address), Some(note), Some(total_cents), true) =
            (delivery_address, note, total_cents, errors.is_empty())
        else {
            return Err(OrderError::Invalid(errors));
        };
        let delivery_code =
            DeliveryCode::parse(&self.ports.secrets.numeric_code(DeliveryCode::DIGITS))
                .context("the secret generator made a delivery code that does not parse")?;
        let now = self.ports.clock.now();
        let order = Order {
            id: OrderId::new(),
            client_id: actor.user_id,
            courier_id: None,
            status: OrderStatus::Pending,
            lines,
            total_cents,
            currency: self.currency.clone(),
            delivery_address,
            note,
            delivery_code,
            delivery_code_attempts: 0,
            version: 0,
            created_at: now,
            updated_at: now,
            history: Vec::new(),
        };
        self.ports.orders.insert_order(&order).await?;
        Ok(view_for(actor, order))
    }

    /// The lines of `items` priced from the catalogue; problems are added to `errors` under
    /// `items` or `items[i].<field>`.
    async fn priced_lines(
        &self,
        items: &[OrderItemRequest],
        errors: &mut ValidationErrors,
    ) -> Result<Vec<OrderLine>, OrderError> {
        if items.is_empty() || items.len() > MAX_ORDER_LINES {
            errors.add(
                "items",
                format!("must hold 1 to {MAX_ORDER_LINES} products"),
            );
            return Ok(Vec::new());
        }
        let mut lines = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let quantity = errors.check(
                &format!("items[{index}].quantity"),
                Quantity::new(item.quantity),
            );
            let product = self.ports.products.product(item.product_id).await?;
            let field = format!("items[{index}].product_id");
            let product = match product {
                None => {
                    errors.add(&field, "no such product");
                    None
                }
                Some(product) if !product.available => {
                    errors.add(&field, "this product is not available");
                    None
                }
                Some(product) => Some(product),
            };
            if let (Some(product), Some(quantity)) = (product, quantity) {
                match OrderLine::new(product.id, product.name, product.price, quantity) {
                    Ok(line) => lines.push(line),
                    Err(overflow) => errors.add(&field, overflow),
                }
            }
        }
        Ok(lines)
    }

    /// The orders the caller may see, newest first: a client their own, a courier those
    /// assigned to them, a manager all; optionally in one status.
    pub async fn list(
        &self,
        actor: Principal,
        request: ListOrdersRequest,
    ) -> Result<Page<OrderView>, OrderError> {
        let mut errors = ValidationErrors::new();
        let status = match request.status.as_deref() {
            None | Some("") => None,
            Some(raw) => errors.check("status", raw.parse::<OrderStatus>()),
        };
        let page = errors.absorb(PageRequest::parse(request.limit, request.cursor.as_deref()));
        let (Some(page), true) = (page, errors.is_empty()) else {
            return Err(OrderError::Invalid(errors));
        };
        let filter = OrderFilter {
            client_id: (actor.role == Role::Client).then_some(actor.user_id),
            courier_id: (actor.role == Role::Courier).then_some(actor.user_id),
            status,
        };
        let fetched = self.ports.orders.list_orders(&filter, page).await?;
        Ok(
            Page::from_fetched(fetched, page, |order| order.id.as_uuid())
                .map(|order| view_for(actor, order)),
        )
    }

    /// One order, if the caller may see it.
    pub async fn get(&self, actor: Principal, id: OrderId) -> Result<OrderView, OrderError> {
        let order = self.visible_order(actor, id).await?;
        Ok(view_for(actor, order))
    }

    /// Moves an order to another status, as the transition table allows.
    pub async fn change_status(
        &self,
        actor: Principal,
        id: OrderId,
        request: MoveOrderRequest,
    ) -> Result<OrderView, OrderError> {
        let mut errors = ValidationErrors::new();
        let to = errors.check("status", request.status.parse::<OrderStatus>());
        let reason = match request.reason.as_deref() {
            None => Some(None),
            Some(raw) => errors.check("reason", MoveReason::parse(raw)).map(Some),
        };
        let (Some(to), Some(reason), true) = (to, reason, errors.is_empty()) else {
            return Err(OrderError::Invalid(errors));
        };
        let order = self.visible_order(actor, id).await?;
        let requirements =
            decide(order.status, to, party_of(actor, &order)).map_err(|refusal| match refusal {
                MoveRefusal::Forbidden => OrderError::Forbidden,
                MoveRefusal::InvalidTransition => OrderError::InvalidTransition,
            })?;
        if requirements.reason_required && reason.is_none() {
            errors.add("reason", "is required for this move");
        }
        let offered_code = request.delivery_code.as_deref();
        if requirements.delivery_code_required && offered_code.is_none() {
            errors.add("delivery_code", "is required to deliver");
        }
        if !errors.is_empty() {
            return Err(OrderError::Invalid(errors));
        }
        if let (true, Some(offered)) = (requirements.delivery_code_required, offered_code) {
            self.check_delivery_code(&order, offered).await?;
        }

        let now = self.ports.clock.now();
        let mut moved = order.clone();
        moved.history.push(StatusChange {
            at: now,
            actor_id: actor.user_id,
            actor_role: actor.role,
            from: order.status,
            to,
            reason,
        });
        moved.status = to;
        let moved = self.write(&order, moved, now).await?;
        if to == OrderStatus::Delivered {
            self.mail_receipt(&moved).await?;
        }
        Ok(view_for(actor, moved))
    }

    /// A manager gives the order to an active courier (or to another one): from confirmation
    /// until pick-up, and after pick-up when the courier holding it is no longer an active
    /// courier.
    pub async fn assign(
        &self,
        actor: Principal,
        id: OrderId,
        courier_id: UserId,
    ) -> Result<OrderView, OrderError> {
        let order = self.visible_order(actor, id).await?;
        let manager = actor.as_manager()?;
        // A picked-up order stays with its courier, unless that courier can no longer act
        // (suspended, deleted, no longer a courier): then nobody could deliver it or report
        // it failed, so a manager hands it to someone who can. An extension of API.md.
        let holder_gone = order.status == OrderStatus::PickedUp
            && match order.courier_id {
                Some(holder) => !self.is_active_courier(holder).await?,
                None => true,
            };
        if !order.status.accepts_assignment() && !holder_gone {
            return Err(OrderError::NotAssignable);
        }
        if !self.is_active_courier(courier_id).await? {
            let mut errors = ValidationErrors::new();
            errors.add("courier_id", "must be an active courier");
            return Err(OrderError::Invalid(errors));
        }
        let mut assigned = order.clone();
        assigned.courier_id = Some(courier_id);
        let assigned = self.write(&order, assigned, self.ports.clock.now()).await?;
        Ok(view_for(manager.principal(), assigned))
    }

    /// Figures over the orders placed from `from` until `to`. Managers only.
    pub async fn stats(
        &self,
        _manager: Manager,
        period: PlacedBetween,
    ) -> Result<OrderStats, OrderError> {
        if let (Some(from), Some(to)) = (period.from, period.to)
            && from > to
        {
            let mut errors = ValidationErrors::new();
            errors.add("from", "must not be after `to`");
            return Err(OrderError::Invalid(errors));
        }
        let totals = self.ports.orders.order_totals(period).await?;
        let per_status = OrderStatus::ALL
            .into_iter()
            .map(|status| {
                let count = totals
                    .per_status
                    .iter()
                    .find(|(counted, _)| *counted == status)
                    .map_or(0, |(_, n)| *n);
                (status, count)
            })
            .collect();
        let mut delivered_revenue = totals.delivered_revenue;
        if !delivered_revenue.iter().any(|(c, _)| *c == self.currency) {
            delivered_revenue.push((self.currency.clone(), 0));
        }
        delivered_revenue.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut deliveries_per_courier = Vec::with_capacity(totals.deliveries_per_courier.len());
        for (courier_id, deliveries) in totals.deliveries_per_courier {
            let name = self
                .ports
                .users
                .user_by_id(courier_id)
                .await?
                .map(|user| user.name.as_str().to_owned());
            deliveries_per_courier.push(CourierDeliveries {
                courier_id,
                name,
                deliveries,
            });
        }
        deliveries_per_courier.sort_by(|a, b| {
            b.deliveries
                .cmp(&a.deliveries)
                .then(a.courier_id.cmp(&b.courier_id))
        });
        Ok(OrderStats {
            period,
            per_status,
            delivered_revenue,
            deliveries_per_courier,
        })
    }

    /// Compares `offered` with the order's code, after reserving one of its attempts in the
    /// store: the reservation is atomic, so concurrent guesses never exceed the limit.
    async fn check_delivery_code(&self, order: &Order, offered: &str) -> Result<(), OrderError> {
        let reserved = self
            .ports
            .orders
            .reserve_delivery_code_attempt(order.id, self.policy.delivery_code_max_attempts)
            .await?;
        if !reserved {
            return Err(OrderError::DeliveryCodeLocked);
        }
        if order.delivery_code.matches(offered) {
            Ok(())
        } else {
            tracing::warn!(order_id = %order.id, "wrong delivery code");
            Err(OrderError::InvalidDeliveryCode)
        }
    }

    /// Whether `id` is an active courier's account, who may be given orders and move them.
    async fn is_active_courier(&self, id: UserId) -> Result<bool, OrderError> {
        let user = self.ports.users.user_by_id(id).await?;
        Ok(user
            .is_some_and(|user| user.role == Role::Courier && user.status == AccountStatus::Active))
    }

    /// Writes `next` over `read` if the order is still at `read`'s version, and returns it
    /// as written.
    async fn write(
        &self,
        read: &Order,
        mut next: Order,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Order, OrderError> {
        next.version = read
            .version
            .checked_add(1)
            .ok_or_else(|| anyhow::anyhow!("order {} has run out of versions", read.id))?;
        next.updated_at = now;
        let written = self.ports.orders.update_order(&next, read.version).await?;
        if written {
            Ok(next)
        } else {
            Err(OrderError::Conflict)
        }
    }

    /// The order if `actor` may see it; `NotFound` otherwise.
    async fn visible_order(&self, actor: Principal, id: OrderId) -> Result<Order, OrderError> {
        let order = self
            .ports
            .orders
            .order(id)
            .await?
            .ok_or(OrderError::NotFound)?;
        let party = party_of(actor, &order);
        let visible = match actor.role {
            Role::Manager => true,
            Role::Client => party.placed_it,
            Role::Courier => party.assigned_to_it,
        };
        if visible {
            Ok(order)
        } else {
            Err(OrderError::NotFound)
        }
    }

    /// Mails the receipt to the client who placed the order. The delivery is already
    /// recorded: a mail that cannot be sent is logged, not turned into a failed request.
    async fn mail_receipt(&self, order: &Order) -> Result<(), OrderError> {
        let Some(client) = self.ports.users.user_by_id(order.client_id).await? else {
            // The client deleted their account meanwhile: nobody to mail.
            return Ok(());
        };
        let receipt = OrderReceipt {
            order_id: order.id.to_string(),
            lines: order
                .lines
                .iter()
                .map(|line| ReceiptLine {
                    name: line.name.as_str().to_owned(),
                    quantity: line.quantity.get(),
                    unit_price_cents: line.unit_price.cents(),
                    line_total_cents: line.line_total_cents,
                })
                .collect(),
            total_cents: order.total_cents,
            currency: order.currency.as_str().to_owned(),
            delivered_at: order.updated_at,
        };
        let mail = Mail::to_user(&client, MailMessage::OrderReceipt(receipt));
        if let Err(error) = self.ports.mailer.send(mail).await {
            let error = anyhow::Error::new(error);
            tracing::warn!(
                mail_kind = "order_receipt",
                order_id = %order.id,
                error = format!("{error:#}"),
                "mail could not be sent"
            );
        }
        Ok(())
    }
}

fn party_of(actor: Principal, order: &Order) -> Party {
    Party {
        role: actor.role,
        placed_it: order.client_id == actor.user_id,
        assigned_to_it: order.courier_id == Some(actor.user_id),
    }
}

fn view_for(actor: Principal, order: Order) -> OrderView {
    let shown = actor.role == Role::Client
        && order.client_id == actor.user_id
        && order.status.shows_delivery_code();
    OrderView {
        delivery_code: shown.then(|| order.delivery_code.clone()),
        order,
    }
}
