//! Core layer: orders — what a client asked for, at which prices, where, and the story of
//! every status change.
//!
//! An order copies each product's name and price when it is placed: later catalogue edits
//! never change what the client agreed to pay.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::profile::{TextError, clean_text};
use super::secret::secrets_match;
use super::{Currency, OrderId, OrderStatus, PriceCents, ProductId, ProductName, Role, UserId};

/// How many of one product a line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("must be between 1 and {}", Quantity::MAX)]
pub struct QuantityError;

impl Quantity {
    pub const MAX: u32 = 100;

    pub fn new(count: i64) -> Result<Self, QuantityError> {
        u32::try_from(count)
            .ok()
            .filter(|count| (1..=Self::MAX).contains(count))
            .map(Self)
            .ok_or(QuantityError)
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

/// One line of an order: a product as it was in the catalogue when the order was placed.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub name: ProductName,
    pub unit_price: PriceCents,
    pub quantity: Quantity,
    /// `unit_price × quantity`, computed once with checked arithmetic.
    pub line_total_cents: i64,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("the amount does not fit in the money type")]
pub struct AmountOverflow;

impl OrderLine {
    pub fn new(
        product_id: ProductId,
        name: ProductName,
        unit_price: PriceCents,
        quantity: Quantity,
    ) -> Result<Self, AmountOverflow> {
        let line_total_cents = unit_price
            .cents()
            .checked_mul(i64::from(quantity.get()))
            .ok_or(AmountOverflow)?;
        Ok(Self {
            product_id,
            name,
            unit_price,
            quantity,
            line_total_cents,
        })
    }
}

/// The sum of the lines' totals, or `AmountOverflow`.
pub fn total_of(lines: &[OrderLine]) -> Result<i64, AmountOverflow> {
    lines.iter().try_fold(0i64, |total, line| {
        total
            .checked_add(line.line_total_cents)
            .ok_or(AmountOverflow)
    })
}

/// Where the courier brings the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAddress(String);

impl DeliveryAddress {
    pub const MAX_CHARS: usize = 300;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean_text(raw, Self::MAX_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text for the kitchen or the courier ("no onions", "third floor").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNote(String);

impl OrderNote {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean_text(raw, Self::MAX_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an order was cancelled or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveReason(String);

impl MoveReason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean_text(raw, Self::MAX_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The code the client hands to the courier at the door, proving the goods reached them.
///
/// Kept as is, not as a digest: the client must be able to read it again until delivery.
/// It only guards one hand-over, is shown to nobody but the placing client, and is compared
/// in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct DeliveryCode(String);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("must be {} digits", DeliveryCode::DIGITS)]
pub struct DeliveryCodeError;

impl DeliveryCode {
    pub const DIGITS: u32 = 6;

    pub fn parse(raw: &str) -> Result<Self, DeliveryCodeError> {
        if raw.len() == Self::DIGITS as usize && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DeliveryCodeError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `offered` is this code, in time independent of where they differ.
    pub fn matches(&self, offered: &str) -> bool {
        secrets_match(&self.0, offered)
    }
}

impl std::fmt::Debug for DeliveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never in logs.
        f.write_str("DeliveryCode(***)")
    }
}

/// One status change, as the order's history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub actor_id: UserId,
    pub actor_role: Role,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub reason: Option<MoveReason>,
}

/// An order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub client_id: UserId,
    pub courier_id: Option<UserId>,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total_cents: i64,
    pub currency: Currency,
    pub delivery_address: DeliveryAddress,
    pub note: Option<OrderNote>,
    pub delivery_code: DeliveryCode,
    /// Delivery attempts made with a code, right or wrong; counted atomically by the store
    /// before each comparison, so guesses are bounded however many run at once.
    pub delivery_code_attempts: u32,
    /// Grows by one with every write after the insert: writes name the version they read,
    /// so of two concurrent changes only one lands.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first.
    pub history: Vec<StatusChange>,
}

/// Which orders a list shows; every present field must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub client_id: Option<UserId>,
    pub courier_id: Option<UserId>,
    pub status: Option<OrderStatus>,
}

impl OrderFilter {
    pub fn admits(&self, order: &Order) -> bool {
        self.client_id.is_none_or(|id| id == order.client_id)
            && self
                .courier_id
                .is_none_or(|id| order.courier_id == Some(id))
            && self.status.is_none_or(|status| status == order.status)
    }
}

/// Which orders statistics cover: those placed from `from` (inclusive) until `to`
/// (exclusive); an absent bound is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlacedBetween {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl PlacedBetween {
    pub fn admits(&self, order: &Order) -> bool {
        self.from.is_none_or(|from| order.created_at >= from)
            && self.to.is_none_or(|to| order.created_at < to)
    }
}

/// Totals over the orders of a period, as a store computes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderTotals {
    /// How many orders are in each status; statuses without orders are absent.
    pub per_status: Vec<(OrderStatus, u64)>,
    /// The sum of delivered orders' totals, per currency (one unless the configured
    /// currency changed).
    pub delivered_revenue: Vec<(Currency, i64)>,
    /// How many orders each courier delivered.
    pub deliveries_per_courier: Vec<(UserId, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_between_one_and_a_hundred() {
        assert_eq!(Quantity::new(0), Err(QuantityError));
        assert_eq!(Quantity::new(101), Err(QuantityError));
        assert_eq!(Quantity::new(-1), Err(QuantityError));
        assert_eq!(Quantity::new(i64::MAX), Err(QuantityError));
        assert_eq!(Quantity::new(100).unwrap().get(), 100);
    }

    #[test]
    fn a_line_total_is_price_times_quantity_and_overflow_is_refused() {
        let line = OrderLine::new(
            ProductId::new(),
            ProductName::parse("Tajine").unwrap(),
            PriceCents::new(1250).unwrap(),
            Quantity::new(3).unwrap(),
        )
        .unwrap();
        assert_eq!(line.line_total_cents, 3750);

        let huge = OrderLine {
            line_total_cents: i64::MAX,
            ..line.clone()
        };
        assert_eq!(total_of(&[huge, line]), Err(AmountOverflow));
    }

    #[test]
    fn delivery_codes_are_six_digits_and_match_only_themselves() {
        let code = DeliveryCode::parse("012345").unwrap();

        assert!(code.matches("012345"));
        assert!(!code.matches("012346"));
        assert!(!code.matches("12345"));
        for wrong in ["12345", "1234567", "12a456", ""] {
            assert_eq!(
                DeliveryCode::parse(wrong),
                Err(DeliveryCodeError),
                "{wrong}"
            );
        }
        assert_eq!(format!("{code:?}"), "DeliveryCode(***)");
    }
}
