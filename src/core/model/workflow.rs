//! Core layer: the delivery workflow — an order's statuses and who may move it between them.
//!
//! The transition table of the API contract is data (`MOVES`); `decide` is the one function
//! that reads it. Visibility (who may see an order at all, answered with 404) is decided
//! before this, by whoever loads the order.

use std::fmt;
use std::str::FromStr;

use super::Role;

/// Where an order is in its life. `Delivered`, `Failed` and `Cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Preparing,
    Ready,
    PickedUp,
    Delivered,
    Failed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::PickedUp,
        OrderStatus::Delivered,
        OrderStatus::Failed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Preparing => "preparing",
            OrderStatus::Ready => "ready",
            OrderStatus::PickedUp => "picked_up",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Failed => "failed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Whether a manager may (re)assign a courier: once the order is confirmed and until a
    /// courier has picked it up. Before confirmation the order may still be cancelled by its
    /// client; after pick-up the courier holds the goods.
    pub fn accepts_assignment(&self) -> bool {
        matches!(
            self,
            OrderStatus::Confirmed | OrderStatus::Preparing | OrderStatus::Ready
        )
    }

    /// Whether the client who placed the order may see its delivery code: from pick-up on,
    /// when they must hand it to the courier at the door.
    pub fn shows_delivery_code(&self) -> bool {
        matches!(
            self,
            OrderStatus::PickedUp | OrderStatus::Delivered | OrderStatus::Failed
        )
    }
}

impl FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown order status `{s}`"))
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the caller stands to one order: their role, and whether they are the client who
/// placed it or the courier assigned to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    pub role: Role,
    pub placed_it: bool,
    pub assigned_to_it: bool,
}

/// Who the table lets make a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Movers {
    Manager,
    PlacingClientOrManager,
    AssignedCourier,
}

impl Movers {
    fn include(self, party: Party) -> bool {
        let manager = party.role == Role::Manager;
        let placing_client = party.role == Role::Client && party.placed_it;
        let assigned_courier = party.role == Role::Courier && party.assigned_to_it;
        match self {
            Movers::Manager => manager,
            Movers::PlacingClientOrManager => placing_client || manager,
            Movers::AssignedCourier => assigned_courier,
        }
    }
}

/// One row of the transition table.
struct Move {
    from: OrderStatus,
    to: OrderStatus,
    by: Movers,
    reason_required: bool,
    delivery_code_required: bool,
}

const fn by(from: OrderStatus, to: OrderStatus, movers: Movers) -> Move {
    Move {
        from,
        to,
        by: movers,
        reason_required: false,
        delivery_code_required: false,
    }
}

const fn with_reason(mut row: Move) -> Move {
    row.reason_required = true;
    row
}

const fn with_delivery_code(mut row: Move) -> Move {
    row.delivery_code_required = true;
    row
}

use OrderStatus::{Cancelled, Confirmed, Delivered, Failed, Pending, PickedUp, Preparing, Ready};

/// The transition table of the API contract, row by row.
const MOVES: &[Move] = &[
    by(Pending, Confirmed, Movers::Manager),
    by(Confirmed, Preparing, Movers::Manager),
    by(Preparing, Ready, Movers::Manager),
    by(Pending, Cancelled, Movers::PlacingClientOrManager),
    with_reason(by(Confirmed, Cancelled, Movers::Manager)),
    with_reason(by(Preparing, Cancelled, Movers::Manager)),
    with_reason(by(Ready, Cancelled, Movers::Manager)),
    by(Ready, PickedUp, Movers::AssignedCourier),
    with_delivery_code(by(PickedUp, Delivered, Movers::AssignedCourier)),
    with_reason(by(PickedUp, Failed, Movers::AssignedCourier)),
];

/// What an allowed move demands besides the caller's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveRequirements {
    /// A non-empty `reason` must come with the move.
    pub reason_required: bool,
    /// The order's delivery code must come with the move.
    pub delivery_code_required: bool,
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveRefusal {
    /// The caller may never move an order this way: no row of the table to `to` includes
    /// them, or the row from the current status does not (HTTP 403).
    Forbidden,
    /// The caller may move orders to `to`, but the table has no move from the current
    /// status (HTTP 409 `invalid_transition`).
    InvalidTransition,
}

/// Decides whether `party` may move an order from `from` to `to`, and what the move needs.
pub fn decide(
    from: OrderStatus,
    to: OrderStatus,
    party: Party,
) -> Result<MoveRequirements, MoveRefusal> {
    let may_ever_reach = MOVES
        .iter()
        .any(|row| row.to == to && row.by.include(party));
    if !may_ever_reach {
        return Err(MoveRefusal::Forbidden);
    }
    let row = MOVES
        .iter()
        .find(|row| row.from == from && row.to == to)
        .ok_or(MoveRefusal::InvalidTransition)?;
    if !row.by.include(party) {
        return Err(MoveRefusal::Forbidden);
    }
    Ok(MoveRequirements {
        reason_required: row.reason_required,
        delivery_code_required: row.delivery_code_required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
        assert!("shipped".parse::<OrderStatus>().is_err());
    }
}
