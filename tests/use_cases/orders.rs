//! Core use cases of orders — placing, seeing, moving and assigning them — against the
//! in-memory store, a manual clock and a capturing mailer.

use std::sync::Arc;

use allomedia::core::catalogue::CreateProductRequest;
use allomedia::core::model::{
    AccountStatus, Currency, Email, MailMessage, Name, OrderId, OrderStatus, PasswordHash,
    PlacedBetween, ProductId, Role, SessionId, User, UserId,
};
use allomedia::core::model::{Manager, NotAManager, Principal};
use allomedia::core::orders::{
    ListOrdersRequest, MoveOrderRequest, OrderError, OrderItemRequest, OrderView, PlaceOrderRequest,
};
use allomedia::core::policy::OrderPolicy;
use allomedia::core::ports::{AccessChange, Clock, UserStore};
use chrono::Duration;
use testkit::World;

/// An account stored directly, active and verified, and the principal it signs in as.
async fn someone(world: &World, role: Role, email: &str) -> Principal {
    someone_in(world, role, AccountStatus::Active, email).await
}

async fn someone_in(world: &World, role: Role, status: AccountStatus, email: &str) -> Principal {
    let now = world.clock.now();
    let user = User {
        id: UserId::new(),
        name: Name::parse("Amina Alaoui").unwrap(),
        email: Email::parse(email).unwrap(),
        phone: None,
        address: None,
        role,
        status,
        password_hash: PasswordHash::from_phc("not used by these tests".into()),
        email_verified_at: Some(now),
        locale: Default::default(),
        created_at: now,
        updated_at: now,
    };
    world.store.insert_user(&user).await.unwrap();
    Principal {
        user_id: user.id,
        session_id: SessionId::new(),
        role,
    }
}

/// A manager's capability, for stocking the catalogue: which manager does not matter here.
fn any_manager() -> Manager {
    let principal = Principal {
        user_id: UserId::new(),
        session_id: SessionId::new(),
        role: Role::Manager,
    };
    principal.as_manager().expect("a manager principal")
}

async fn a_product(world: &World, name: &str, price_cents: i64, available: bool) -> ProductId {
    let manager = any_manager();
    world
        .catalogue
        .create(
            manager,
            CreateProductRequest {
                name: name.into(),
                description: None,
                price_cents,
                available,
            },
        )
        .await
        .unwrap()
        .id
}

fn items(lines: &[(ProductId, i64)]) -> PlaceOrderRequest {
    PlaceOrderRequest {
        items: lines
            .iter()
            .map(|&(product_id, quantity)| OrderItemRequest {
                product_id,
                quantity,
            })
            .collect(),
        delivery_address: "12 rue Atlas, Casablanca".into(),
        note: Some("Third floor".into()),
    }
}

fn to(status: &str) -> MoveOrderRequest {
    MoveOrderRequest {
        status: status.into(),
        reason: None,
        delivery_code: None,
    }
}

/// The people of an order's life and one placed order of two tajines and a tea.
struct Scene {
    world: World,
    client: Principal,
    manager: Principal,
    courier: Principal,
    order: OrderView,
}

async fn scene() -> Scene {
    let world = World::new();
    let client = someone(&world, Role::Client, "amina@example.com").await;
    let manager = someone(&world, Role::Manager, "salma@example.com").await;
    let courier = someone(&world, Role::Courier, "karim@example.com").await;
    let tajine = a_product(&world, "Tajine", 4500, true).await;
    let tea = a_product(&world, "Thé", 1200, true).await;
    let order = world
        .orders
        .place(client, items(&[(tajine, 2), (tea, 1)]))
        .await
        .unwrap();
    Scene {
        world,
        client,
        manager,
        courier,
        order,
    }
}

impl Scene {
    fn id(&self) -> OrderId {
        self.order.order.id
    }

    async fn moves(
        &self,
        who: Principal,
        request: MoveOrderRequest,
    ) -> Result<OrderView, OrderError> {
        self.world
            .orders
            .change_status(who, self.id(), request)
            .await
    }

    /// Confirmed, assigned to the courier, prepared and ready.
    async fn ready_for_the_courier(&self) {
        self.moves(self.manager, to("confirmed")).await.unwrap();
        self.world
            .orders
            .assign(self.manager, self.id(), self.courier.user_id)
            .await
            .unwrap();
        self.moves(self.manager, to("preparing")).await.unwrap();
        self.moves(self.manager, to("ready")).await.unwrap();
    }

    async fn picked_up(&self) -> OrderView {
        self.ready_for_the_courier().await;
        self.moves(self.courier, to("picked_up")).await.unwrap()
    }

    async fn delivery_code(&self) -> String {
        let seen = self.world.orders.get(self.client, self.id()).await.unwrap();
        seen.delivery_code.unwrap().as_str().to_owned()
    }
}

fn invalid_fields(error: OrderError) -> Vec<String> {
    match error {
        OrderError::Invalid(errors) => errors.fields().iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_orders_at_the_catalogues_prices_and_the_order_waits_pending() {
    let scene = scene().await;

    let order = &scene.order.order;

    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.client_id, scene.client.user_id);
    let totals: Vec<i64> = order.lines.iter().map(|l| l.line_total_cents).collect();
    assert_eq!(totals, [9000, 1200]);
    assert_eq!(order.total_cents, 10_200);
    assert_eq!(order.currency.as_str(), "MAD");
    assert_eq!(order.delivery_code.as_str().len(), 6);
    assert_eq!(scene.order.delivery_code, None);
}

#[tokio::test]
async fn later_price_changes_do_not_change_a_placed_order() {
    let scene = scene().await;
    let tajine = scene.order.order.lines[0].product_id;

    scene
        .world
        .catalogue
        .update(
            any_manager(),
            tajine,
            allomedia::core::catalogue::UpdateProductRequest {
                price_cents: Some(9999),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let seen = scene
        .world
        .orders
        .get(scene.client, scene.id())
        .await
        .unwrap();
    assert_eq!(seen.order.total_cents, 10_200);
}

#[tokio::test]
async fn unknown_and_unavailable_products_and_bad_quantities_are_named_item_by_item() {
    let world = World::new();
    let client = someone(&world, Role::Client, "amina@example.com").await;
    let sold_out = a_product(&world, "Pastilla", 6000, false).await;
    let tea = a_product(&world, "Thé", 1200, true).await;

    let error = world
        .orders
        .place(
            client,
            items(&[(ProductId::new(), 1), (sold_out, 1), (tea, 0), (tea, 101)]),
        )
        .await
        .unwrap_err();

    assert_eq!(
        invalid_fields(error),
        [
            "items[0].product_id",
            "items[1].product_id",
            "items[2].quantity",
            "items[3].quantity"
        ]
    );
}

#[tokio::test]
async fn an_order_needs_one_to_fifty_lines_and_an_address() {
    let world = World::new();
    let client = someone(&world, Role::Client, "amina@example.com").await;
    let tea = a_product(&world, "Thé", 1200, true).await;
    let mut empty = items(&[]);
    empty.delivery_address = "  ".into();

    let none = world.orders.place(client, empty).await.unwrap_err();
    let too_many = world
        .orders
        .place(client, items(&vec![(tea, 1); 51]))
        .await
        .unwrap_err();

    assert_eq!(invalid_fields(none), ["delivery_address", "items"]);
    assert_eq!(invalid_fields(too_many), ["items"]);
}

#[tokio::test]
async fn only_clients_place_orders() {
    let scene = scene().await;
    let tea = scene.order.order.lines[1].product_id;

    for who in [scene.manager, scene.courier] {
        let refused = scene.world.orders.place(who, items(&[(tea, 1)])).await;
        assert!(matches!(refused, Err(OrderError::Forbidden)));
    }
}

#[tokio::test]
async fn each_role_lists_what_it_may_see() {
    let scene = scene().await;
    let other_client = someone(&scene.world, Role::Client, "nadia@example.com").await;
    let tea = scene.order.order.lines[1].product_id;
    let others = scene
        .world
        .orders
        .place(other_client, items(&[(tea, 1)]))
        .await
        .unwrap();
    scene.ready_for_the_courier().await;
    let list = |who: Principal| {
        let orders = scene.world.orders.clone();
        async move {
            let page = orders
                .list(who, ListOrdersRequest::default())
                .await
                .unwrap();
            page.items.iter().map(|v| v.order.id).collect::<Vec<_>>()
        }
    };

    assert_eq!(list(scene.client).await, [scene.id()]);
    assert_eq!(list(other_client).await, [others.order.id]);
    assert_eq!(list(scene.courier).await, [scene.id()]);
    assert_eq!(list(scene.manager).await, [others.order.id, scene.id()]);
}

#[tokio::test]
async fn lists_filter_by_status_and_refuse_an_unknown_one() {
    let scene = scene().await;

    let ready = scene
        .world
        .orders
        .list(
            scene.manager,
            ListOrdersRequest {
                status: Some("ready".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let unknown = scene
        .world
        .orders
        .list(
            scene.manager,
            ListOrdersRequest {
                status: Some("lost".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();

    assert!(ready.items.is_empty());
    assert_eq!(invalid_fields(unknown), ["status"]);
}

#[tokio::test]
async fn another_client_and_an_unassigned_courier_find_no_such_order() {
    let scene = scene().await;
    let other_client = someone(&scene.world, Role::Client, "nadia@example.com").await;

    for who in [other_client, scene.courier] {
        let seen = scene.world.orders.get(who, scene.id()).await;
        let moved = scene.moves(who, to("cancelled")).await;
        assert!(matches!(seen, Err(OrderError::NotFound)));
        assert!(matches!(moved, Err(OrderError::NotFound)));
    }
}

#[tokio::test]
async fn a_courier_finds_no_order_assigned_to_another_courier() {
    let scene = scene().await;
    scene.ready_for_the_courier().await;
    let other_courier = someone(&scene.world, Role::Courier, "youssef@example.com").await;

    let seen = scene.world.orders.get(other_courier, scene.id()).await;
    let picked = scene.moves(other_courier, to("picked_up")).await;

    assert!(matches!(seen, Err(OrderError::NotFound)), "{seen:?}");
    assert!(matches!(picked, Err(OrderError::NotFound)), "{picked:?}");
    let unchanged = scene.world.orders.get(scene.manager, scene.id()).await;
    assert_eq!(unchanged.unwrap().order.status, OrderStatus::Ready);
}

#[tokio::test]
async fn the_placing_client_may_cancel_a_pending_order() {
    let scene = scene().await;

    let cancelled = scene.moves(scene.client, to("cancelled")).await.unwrap();

    assert_eq!(cancelled.order.status, OrderStatus::Cancelled);
    let change = &cancelled.order.history[0];
    assert_eq!(change.actor_id, scene.client.user_id);
    assert_eq!(change.actor_role, Role::Client);
    assert_eq!(
        (change.from, change.to),
        (OrderStatus::Pending, OrderStatus::Cancelled)
    );
}

#[tokio::test]
async fn a_role_that_may_never_make_a_move_is_forbidden_and_a_move_out_of_turn_is_invalid() {
    let scene = scene().await;

    let client_confirms = scene.moves(scene.client, to("confirmed")).await;
    let manager_skips_ahead = scene.moves(scene.manager, to("ready")).await;

    assert!(matches!(client_confirms, Err(OrderError::Forbidden)));
    assert!(matches!(
        manager_skips_ahead,
        Err(OrderError::InvalidTransition)
    ));
}

#[tokio::test]
async fn cancelling_a_confirmed_order_needs_a_reason_which_history_keeps() {
    let scene = scene().await;
    scene.moves(scene.manager, to("confirmed")).await.unwrap();

    let without = scene
        .moves(scene.manager, to("cancelled"))
        .await
        .unwrap_err();
    let with = scene
        .moves(
            scene.manager,
            MoveOrderRequest {
                reason: Some("Kitchen closed".into()),
                ..to("cancelled")
            },
        )
        .await
        .unwrap();

    assert_eq!(invalid_fields(without), ["reason"]);
    let reason = with.order.history.last().unwrap().reason.clone().unwrap();
    assert_eq!(reason.as_str(), "Kitchen closed");
}

#[tokio::test]
async fn the_delivery_code_is_shown_only_to_the_placing_client_from_pick_up_on() {
    let scene = scene().await;
    scene.ready_for_the_courier().await;
    let before = scene
        .world
        .orders
        .get(scene.client, scene.id())
        .await
        .unwrap();

    let for_the_courier = scene.moves(scene.courier, to("picked_up")).await.unwrap();
    let for_the_client = scene
        .world
        .orders
        .get(scene.client, scene.id())
        .await
        .unwrap();
    let for_the_manager = scene
        .world
        .orders
        .get(scene.manager, scene.id())
        .await
        .unwrap();

    assert_eq!(before.delivery_code, None);
    assert_eq!(for_the_courier.delivery_code, None);
    assert_eq!(for_the_manager.delivery_code, None);
    assert_eq!(
        for_the_client.delivery_code,
        Some(for_the_client.order.delivery_code.clone())
    );
}

#[tokio::test]
async fn the_courier_delivers_with_the_clients_code_and_the_client_gets_a_receipt() {
    let scene = scene().await;
    scene.picked_up().await;
    let code = scene.delivery_code().await;
    scene.world.clock.advance(Duration::minutes(20));

    let delivered = scene
        .moves(
            scene.courier,
            MoveOrderRequest {
                delivery_code: Some(code),
                ..to("delivered")
            },
        )
        .await
        .unwrap();

    assert_eq!(delivered.order.status, OrderStatus::Delivered);
    let statuses: Vec<&str> = delivered
        .order
        .history
        .iter()
        .map(|c| c.to.as_str())
        .collect();
    assert_eq!(
        statuses,
        ["confirmed", "preparing", "ready", "picked_up", "delivered"]
    );
    let receipts: Vec<_> = scene
        .world
        .mailer
        .sent_to("amina@example.com")
        .into_iter()
        .filter_map(|message| match message {
            MailMessage::OrderReceipt(receipt) => Some(receipt),
            _ => None,
        })
        .collect();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].total_cents, 10_200);
    assert_eq!(receipts[0].lines.len(), 2);
    assert_eq!(receipts[0].delivered_at, delivered.order.updated_at);
}

#[tokio::test]
async fn a_wrong_or_missing_delivery_code_does_not_deliver() {
    let scene = scene().await;
    scene.picked_up().await;
    let right = scene.delivery_code().await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };

    let with_wrong = scene
        .moves(
            scene.courier,
            MoveOrderRequest {
                delivery_code: Some(wrong.into()),
                ..to("delivered")
            },
        )
        .await;
    let without = scene
        .moves(scene.courier, to("delivered"))
        .await
        .unwrap_err();

    assert!(matches!(with_wrong, Err(OrderError::InvalidDeliveryCode)));
    assert_eq!(invalid_fields(without), ["delivery_code"]);
    let seen = scene
        .world
        .orders
        .get(scene.manager, scene.id())
        .await
        .unwrap();
    assert_eq!(seen.order.status, OrderStatus::PickedUp);
    assert!(scene.world.mailer.sent_to("amina@example.com").is_empty());
}

#[tokio::test]
async fn a_courier_reports_a_failed_delivery_with_a_reason() {
    let scene = scene().await;
    scene.picked_up().await;

    let failed = scene
        .moves(
            scene.courier,
            MoveOrderRequest {
                reason: Some("Nobody at the door".into()),
                ..to("failed")
            },
        )
        .await
        .unwrap();

    assert_eq!(failed.order.status, OrderStatus::Failed);
}

#[tokio::test]
async fn only_managers_assign_and_only_to_an_active_courier_between_confirmation_and_pick_up() {
    let scene = scene().await;
    let pending_courier = someone_in(
        &scene.world,
        Role::Courier,
        AccountStatus::PendingApproval,
        "omar@example.com",
    )
    .await;
    let assign = |who: Principal, courier: UserId| {
        let orders = scene.world.orders.clone();
        let id = scene.id();
        async move { orders.assign(who, id, courier).await }
    };

    let while_pending = assign(scene.manager, scene.courier.user_id).await;
    scene.moves(scene.manager, to("confirmed")).await.unwrap();
    let by_the_client = assign(scene.client, scene.courier.user_id).await;
    let to_a_client = assign(scene.manager, scene.client.user_id)
        .await
        .unwrap_err();
    let to_an_unapproved_courier = assign(scene.manager, pending_courier.user_id)
        .await
        .unwrap_err();
    let assigned = assign(scene.manager, scene.courier.user_id).await.unwrap();

    assert!(matches!(while_pending, Err(OrderError::NotAssignable)));
    assert!(matches!(by_the_client, Err(OrderError::Forbidden)));
    assert_eq!(invalid_fields(to_a_client), ["courier_id"]);
    assert_eq!(invalid_fields(to_an_unapproved_courier), ["courier_id"]);
    assert_eq!(assigned.order.courier_id, Some(scene.courier.user_id));
}

#[tokio::test]
async fn a_picked_up_order_stays_with_its_courier_while_they_are_active() {
    let scene = scene().await;
    let other = someone(&scene.world, Role::Courier, "omar@example.com").await;
    scene.picked_up().await;

    let reassigned = scene
        .world
        .orders
        .assign(scene.manager, scene.id(), other.user_id)
        .await;

    assert!(matches!(reassigned, Err(OrderError::NotAssignable)));
}

/// A picked-up order whose courier `leaves`, handed by the manager to another courier who
/// then delivers it: no order is stuck with someone who can no longer move it.
async fn a_picked_up_order_outlives_its_courier(leaves: impl AsyncFnOnce(&Scene)) {
    let scene = scene().await;
    let other = someone(&scene.world, Role::Courier, "omar@example.com").await;
    scene.picked_up().await;
    leaves(&scene).await;

    let reassigned = scene
        .world
        .orders
        .assign(scene.manager, scene.id(), other.user_id)
        .await
        .unwrap();
    let code = scene.delivery_code().await;
    let delivered = scene
        .moves(
            other,
            MoveOrderRequest {
                delivery_code: Some(code),
                ..to("delivered")
            },
        )
        .await
        .unwrap();

    assert_eq!(reassigned.order.status, OrderStatus::PickedUp);
    assert_eq!(reassigned.order.courier_id, Some(other.user_id));
    assert_eq!(delivered.order.status, OrderStatus::Delivered);
}

#[tokio::test]
async fn a_picked_up_order_of_a_suspended_courier_goes_to_another_courier() {
    a_picked_up_order_outlives_its_courier(async |scene: &Scene| {
        let suspend = AccessChange {
            role: None,
            status: Some(AccountStatus::Suspended),
        };
        let now = scene.world.clock.now();
        scene
            .world
            .store
            .change_access(scene.courier.user_id, suspend, now)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_picked_up_order_of_a_deleted_courier_goes_to_another_courier() {
    a_picked_up_order_outlives_its_courier(async |scene: &Scene| {
        scene
            .world
            .store
            .delete_user(scene.courier.user_id)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_moves_from_one_status_exactly_one_lands() {
    let scene = Arc::new(scene().await);
    let start = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (scene, start) = (Arc::clone(&scene), Arc::clone(&start));
        tasks.spawn(async move {
            start.wait().await;
            scene.moves(scene.manager, to("confirmed")).await
        });
    }

    let outcomes = tasks.join_all().await;

    let landed = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(landed, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|outcome| matches!(
        outcome,
        Ok(_) | Err(OrderError::Conflict | OrderError::InvalidTransition)
    )));
    let seen = scene
        .world
        .orders
        .get(scene.manager, scene.id())
        .await
        .unwrap();
    assert_eq!(seen.order.history.len(), 1);
    assert_eq!(seen.order.version, 1);
}

#[tokio::test]
async fn managers_see_counts_per_status_revenue_and_deliveries_per_courier() {
    let scene = scene().await;
    scene.picked_up().await;
    let code = scene.delivery_code().await;
    scene
        .moves(
            scene.courier,
            MoveOrderRequest {
                delivery_code: Some(code),
                ..to("delivered")
            },
        )
        .await
        .unwrap();

    let stats = scene
        .world
        .orders
        .stats(
            scene.manager.as_manager().unwrap(),
            PlacedBetween::default(),
        )
        .await
        .unwrap();

    let delivered = stats
        .per_status
        .iter()
        .find(|(status, _)| *status == OrderStatus::Delivered);
    assert_eq!(delivered, Some(&(OrderStatus::Delivered, 1)));
    assert_eq!(stats.per_status.len(), OrderStatus::ALL.len());
    assert_eq!(
        stats.delivered_revenue,
        [(Currency::parse("MAD").unwrap(), 10_200)]
    );
    assert_eq!(stats.deliveries_per_courier.len(), 1);
    let courier = &stats.deliveries_per_courier[0];
    assert_eq!(courier.courier_id, scene.courier.user_id);
    assert_eq!(courier.name.as_deref(), Some("Amina Alaoui"));
    assert_eq!(courier.deliveries, 1);
}

#[tokio::test]
async fn stats_are_for_managers_over_a_period_that_ends_after_it_starts() {
    let scene = scene().await;
    let now = scene.world.clock.now();

    // Stats take a `Manager`, which a client's principal cannot become.
    let by_a_client = scene.client.as_manager();
    let manager = scene.manager.as_manager().unwrap();
    let backwards = scene
        .world
        .orders
        .stats(
            manager,
            PlacedBetween {
                from: Some(now),
                to: Some(now - Duration::days(1)),
            },
        )
        .await
        .unwrap_err();
    let before_the_order = scene
        .world
        .orders
        .stats(
            manager,
            PlacedBetween {
                from: None,
                to: Some(now - Duration::days(1)),
            },
        )
        .await
        .unwrap();

    assert_eq!(by_a_client, Err(NotAManager));
    assert_eq!(invalid_fields(backwards), ["from"]);
    assert!(before_the_order.per_status.iter().all(|(_, n)| *n == 0));
    assert_eq!(
        before_the_order.delivered_revenue,
        [(Currency::parse("MAD").unwrap(), 0)]
    );
}

#[tokio::test]
async fn after_five_delivery_attempts_even_the_right_code_is_refused() {
    let scene = scene().await;
    scene.picked_up().await;
    let right = scene.delivery_code().await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let deliver_with = |code: String| {
        scene.moves(
            scene.courier,
            MoveOrderRequest {
                delivery_code: Some(code),
                ..to("delivered")
            },
        )
    };
    for _ in 0..OrderPolicy::default().delivery_code_max_attempts {
        let refused = deliver_with(wrong.to_owned()).await;
        assert!(matches!(refused, Err(OrderError::InvalidDeliveryCode)));
    }

    let with_the_right_code = deliver_with(right).await;
    let failed = scene
        .moves(
            scene.courier,
            MoveOrderRequest {
                reason: Some("Code locked".into()),
                ..to("failed")
            },
        )
        .await;

    assert!(matches!(
        with_the_right_code,
        Err(OrderError::DeliveryCodeLocked)
    ));
    assert_eq!(failed.unwrap().order.status, OrderStatus::Failed);
}
