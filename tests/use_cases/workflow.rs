//! Tests: the transition table, every (from, to, caller) combination — 8 × 8 statuses × the
//! five ways a caller can stand to an order — against the contract's table written out here.

use OrderStatus::{Cancelled, Confirmed, Delivered, Failed, Pending, PickedUp, Preparing, Ready};
use allomedia::core::model::{MoveRefusal, MoveRequirements, OrderStatus, Party, Role, decide};

/// The five ways to stand to one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    PlacingClient,
    OtherClient,
    AssignedCourier,
    OtherCourier,
    Manager,
}

const CALLERS: [Caller; 5] = [
    Caller::PlacingClient,
    Caller::OtherClient,
    Caller::AssignedCourier,
    Caller::OtherCourier,
    Caller::Manager,
];

impl Caller {
    fn party(self) -> Party {
        let (role, placed_it, assigned_to_it) = match self {
            Caller::PlacingClient => (Role::Client, true, false),
            Caller::OtherClient => (Role::Client, false, false),
            Caller::AssignedCourier => (Role::Courier, false, true),
            Caller::OtherCourier => (Role::Courier, false, false),
            Caller::Manager => (Role::Manager, false, false),
        };
        Party {
            role,
            placed_it,
            assigned_to_it,
        }
    }

    /// The statuses the contract lets this caller move some order to.
    fn reachable(self) -> &'static [OrderStatus] {
        match self {
            Caller::PlacingClient => &[Cancelled],
            Caller::AssignedCourier => &[PickedUp, Delivered, Failed],
            Caller::Manager => &[Confirmed, Preparing, Ready, Cancelled],
            Caller::OtherClient | Caller::OtherCourier => &[],
        }
    }
}

const NOTHING: MoveRequirements = MoveRequirements {
    reason_required: false,
    delivery_code_required: false,
};
const REASON: MoveRequirements = MoveRequirements {
    reason_required: true,
    delivery_code_required: false,
};
const CODE: MoveRequirements = MoveRequirements {
    reason_required: false,
    delivery_code_required: true,
};

/// The contract's table: every allowed (from, to, caller) and what the move needs.
const ALLOWED: &[(OrderStatus, OrderStatus, Caller, MoveRequirements)] = &[
    (Pending, Confirmed, Caller::Manager, NOTHING),
    (Confirmed, Preparing, Caller::Manager, NOTHING),
    (Preparing, Ready, Caller::Manager, NOTHING),
    (Pending, Cancelled, Caller::PlacingClient, NOTHING),
    (Pending, Cancelled, Caller::Manager, NOTHING),
    (Confirmed, Cancelled, Caller::Manager, REASON),
    (Preparing, Cancelled, Caller::Manager, REASON),
    (Ready, Cancelled, Caller::Manager, REASON),
    (Ready, PickedUp, Caller::AssignedCourier, NOTHING),
    (PickedUp, Delivered, Caller::AssignedCourier, CODE),
    (PickedUp, Failed, Caller::AssignedCourier, REASON),
];

/// What the contract answers: the allowed move, else 403 for a caller who may never make
/// it (no move to `to` at all, or the table's move from `from` is someone else's), else 409.
fn expected(
    from: OrderStatus,
    to: OrderStatus,
    caller: Caller,
) -> Result<MoveRequirements, MoveRefusal> {
    if let Some(&(.., needs)) = ALLOWED
        .iter()
        .find(|(f, t, c, _)| (*f, *t, *c) == (from, to, caller))
    {
        return Ok(needs);
    }
    let row_exists = ALLOWED.iter().any(|(f, t, ..)| (*f, *t) == (from, to));
    if !caller.reachable().contains(&to) || row_exists {
        Err(MoveRefusal::Forbidden)
    } else {
        Err(MoveRefusal::InvalidTransition)
    }
}

#[test]
fn every_combination_of_statuses_and_callers_follows_the_contracts_table() {
    let mut checked = 0;
    for from in OrderStatus::ALL {
        for to in OrderStatus::ALL {
            for caller in CALLERS {
                assert_eq!(
                    decide(from, to, caller.party()),
                    expected(from, to, caller),
                    "{from} → {to} by {caller:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * 8 * 5);
}

#[test]
fn final_statuses_allow_no_move_at_all() {
    for from in [Delivered, Failed, Cancelled] {
        for to in OrderStatus::ALL {
            for caller in CALLERS {
                assert!(decide(from, to, caller.party()).is_err(), "{from} → {to}");
            }
        }
    }
}

#[test]
fn a_manager_skipping_a_step_is_an_invalid_transition_not_a_forbidden_one() {
    assert_eq!(
        decide(Pending, Ready, Caller::Manager.party()),
        Err(MoveRefusal::InvalidTransition)
    );
    assert_eq!(
        decide(Delivered, Cancelled, Caller::Manager.party()),
        Err(MoveRefusal::InvalidTransition)
    );
}

#[test]
fn a_client_cancelling_a_confirmed_order_is_forbidden() {
    assert_eq!(
        decide(Confirmed, Cancelled, Caller::PlacingClient.party()),
        Err(MoveRefusal::Forbidden)
    );
}

#[test]
fn a_courier_not_assigned_to_the_order_may_not_pick_it_up() {
    assert_eq!(
        decide(Ready, PickedUp, Caller::OtherCourier.party()),
        Err(MoveRefusal::Forbidden)
    );
    assert_eq!(
        decide(Ready, PickedUp, Caller::AssignedCourier.party()),
        Ok(NOTHING)
    );
}

#[test]
fn couriers_are_assigned_between_confirmation_and_pick_up() {
    let accepting: Vec<OrderStatus> = OrderStatus::ALL
        .into_iter()
        .filter(OrderStatus::accepts_assignment)
        .collect();

    assert_eq!(accepting, [Confirmed, Preparing, Ready]);
}

#[test]
fn the_delivery_code_shows_from_pick_up_on() {
    let showing: Vec<OrderStatus> = OrderStatus::ALL
        .into_iter()
        .filter(OrderStatus::shows_delivery_code)
        .collect();

    assert_eq!(showing, [PickedUp, Delivered, Failed]);
}
