//! Tests: the store contract of `OrderStore`, run against every store adapter.

use crate::builders::*;

/// `order` placed at `at`, in `status`, delivered by `courier` when given.
fn placed(at: DateTime<Utc>, status: OrderStatus, courier: Option<UserId>) -> Order {
    Order {
        created_at: at,
        updated_at: at,
        status,
        courier_id: courier,
        ..order_of(UserId::new())
    }
}

fn sorted<T: Ord, N: Ord>(mut pairs: Vec<(T, N)>) -> Vec<(T, N)> {
    pairs.sort();
    pairs
}

fn status_counts(totals: &OrderTotals) -> Vec<(&'static str, u64)> {
    sorted(
        totals
            .per_status
            .iter()
            .map(|(status, n)| (status.as_str(), *n))
            .collect(),
    )
}

store_contract! {
    pub async fn an_inserted_order_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let mut order = moved(&order_of(UserId::new()), OrderStatus::Confirmed);
        order.courier_id = Some(UserId::new());
        order.note = Some(OrderNote::parse("Sans oignons").unwrap());

        store.insert_order(&order).await.unwrap();

        assert_eq!(store.order(order.id).await.unwrap(), Some(order));
    }

    pub async fn an_order_without_courier_note_or_history_reads_back_without_them<S: Store>(
        store: Arc<S>,
    ) {
        let order = order_of(UserId::new());

        store.insert_order(&order).await.unwrap();

        assert_eq!(store.order(order.id).await.unwrap(), Some(order));
    }

    pub async fn unknown_orders_are_absent<S: Store>(store: Arc<S>) {
        assert_eq!(store.order(OrderId::new()).await.unwrap(), None);
    }

    pub async fn orders_are_listed_newest_first_a_page_at_a_time<S: Store>(store: Arc<S>) {
        let client = UserId::new();
        let first = a_stored_order(&*store, client).await;
        let second = a_stored_order(&*store, client).await;
        let third = a_stored_order(&*store, client).await;
        let all = OrderFilter::default();

        let page_one = store
            .list_orders(&all, PageRequest::first(1))
            .await
            .unwrap();
        let page_two = store
            .list_orders(
                &all,
                PageRequest {
                    limit: 1,
                    before: Some(second.id.as_uuid()),
                },
            )
            .await
            .unwrap();

        assert_eq!(order_ids(&page_one), [third.id, second.id]);
        assert_eq!(order_ids(&page_two), [first.id]);
    }

    pub async fn orders_are_filtered_by_client_courier_and_status<S: Store>(store: Arc<S>) {
        let (amina, karim, courier) = (UserId::new(), UserId::new(), UserId::new());
        let aminas = a_stored_order(&*store, amina).await;
        let mut assigned = moved(&order_of(karim), OrderStatus::Confirmed);
        assigned.courier_id = Some(courier);
        store.insert_order(&assigned).await.unwrap();
        let list = |filter: OrderFilter| {
            let store = Arc::clone(&store);
            async move {
                order_ids(
                    &store
                        .list_orders(&filter, PageRequest::first(10))
                        .await
                        .unwrap(),
                )
            }
        };

        let of_amina = list(OrderFilter {
            client_id: Some(amina),
            ..OrderFilter::default()
        })
        .await;
        let of_courier = list(OrderFilter {
            courier_id: Some(courier),
            ..OrderFilter::default()
        })
        .await;
        let pending = list(OrderFilter {
            status: Some(OrderStatus::Pending),
            ..OrderFilter::default()
        })
        .await;
        let karims_pending = list(OrderFilter {
            client_id: Some(karim),
            status: Some(OrderStatus::Pending),
            ..OrderFilter::default()
        })
        .await;

        assert_eq!(of_amina, [aminas.id]);
        assert_eq!(of_courier, [assigned.id]);
        assert_eq!(pending, [aminas.id]);
        assert_eq!(karims_pending, []);
    }

    pub async fn updating_an_order_needs_the_version_it_was_read_at<S: Store>(store: Arc<S>) {
        let order = a_stored_order(&*store, UserId::new()).await;
        let confirmed = moved(&order, OrderStatus::Confirmed);
        let cancelled = moved(&order, OrderStatus::Cancelled);

        let first = store.update_order(&confirmed, 0).await.unwrap();
        let stale = store.update_order(&cancelled, 0).await.unwrap();

        assert!(first);
        assert!(!stale);
        assert_eq!(store.order(order.id).await.unwrap(), Some(confirmed));
    }

    pub async fn updating_an_order_writes_only_the_workflow_fields<S: Store>(store: Arc<S>) {
        let order = a_stored_order(&*store, UserId::new()).await;
        let mut next = moved(&order, OrderStatus::Confirmed);
        next.courier_id = Some(UserId::new());
        let mut tampered = next.clone();
        tampered.total_cents = 1;
        tampered.delivery_code = DeliveryCode::parse("999999").unwrap();
        tampered.lines.clear();

        let updated = store.update_order(&tampered, 0).await.unwrap();

        assert!(updated);
        assert_eq!(store.order(order.id).await.unwrap(), Some(next));
    }

    pub async fn updating_an_unknown_order_fails<S: Store>(store: Arc<S>) {
        let order = moved(&order_of(UserId::new()), OrderStatus::Confirmed);

        let updated = store.update_order(&order, 0).await.unwrap();

        assert!(!updated);
        assert_eq!(store.order(order.id).await.unwrap(), None);
    }

    pub async fn of_sixteen_concurrent_updates_from_one_version_exactly_one_wins<S: Store>(
        store: Arc<S>,
    ) {
        let order = a_stored_order(&*store, UserId::new()).await;
        let contender = order.clone();

        let outcomes = race(&store, 16, move |store, index| {
            let mut next = moved(&contender, OrderStatus::Confirmed);
            next.courier_id = Some(UserId::from_uuid(uuid::Uuid::from_u128(index as u128 + 1)));
            async move { store.update_order(&next, 0).await.unwrap() }
        })
        .await;

        let winners = outcomes.iter().filter(|won| **won).count();
        assert_eq!(winners, 1, "{outcomes:?}");
        let stored = store.order(order.id).await.unwrap().unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(stored.history.len(), 1);
    }

    pub async fn order_totals_count_statuses_revenue_and_deliveries_per_courier<S: Store>(
        store: Arc<S>,
    ) {
        let (karim, omar) = (UserId::new(), UserId::new());
        for order in [
            placed(t0(), OrderStatus::Delivered, Some(karim)),
            placed(t0(), OrderStatus::Delivered, Some(karim)),
            placed(t0(), OrderStatus::Delivered, Some(omar)),
            placed(t0(), OrderStatus::PickedUp, Some(omar)),
            placed(t0(), OrderStatus::Pending, None),
        ] {
            store.insert_order(&order).await.unwrap();
        }

        let totals = store.order_totals(PlacedBetween::default()).await.unwrap();

        assert_eq!(
            status_counts(&totals),
            [("delivered", 3), ("pending", 1), ("picked_up", 1)]
        );
        let each = order_of(UserId::new()).total_cents;
        assert_eq!(
            totals.delivered_revenue,
            [(Currency::parse("MAD").unwrap(), 3 * each)]
        );
        assert_eq!(
            sorted(totals.deliveries_per_courier),
            sorted(vec![(karim, 2), (omar, 1)])
        );
    }

    pub async fn order_totals_cover_only_orders_placed_within_the_period<S: Store>(store: Arc<S>) {
        let (before, inside, at_the_end) = (
            t0() - Duration::milliseconds(1),
            t0() + Duration::hours(1),
            t0() + Duration::days(1),
        );
        for at in [before, t0(), inside, at_the_end] {
            store
                .insert_order(&placed(at, OrderStatus::Pending, None))
                .await
                .unwrap();
        }

        let totals = store
            .order_totals(PlacedBetween {
                from: Some(t0()),
                to: Some(at_the_end),
            })
            .await
            .unwrap();
        let from_only = store
            .order_totals(PlacedBetween {
                from: Some(t0()),
                to: None,
            })
            .await
            .unwrap();

        assert_eq!(status_counts(&totals), [("pending", 2)]);
        assert_eq!(status_counts(&from_only), [("pending", 3)]);
    }

    pub async fn delivery_code_attempts_are_reserved_up_to_the_maximum<S: Store>(store: Arc<S>) {
        let order = a_stored_order(&*store, UserId::new()).await;

        let first = store
            .reserve_delivery_code_attempt(order.id, 2)
            .await
            .unwrap();
        let second = store
            .reserve_delivery_code_attempt(order.id, 2)
            .await
            .unwrap();
        let third = store
            .reserve_delivery_code_attempt(order.id, 2)
            .await
            .unwrap();
        let unknown = store
            .reserve_delivery_code_attempt(OrderId::new(), 2)
            .await
            .unwrap();

        assert_eq!((first, second, third, unknown), (true, true, false, false));
        let stored = store.order(order.id).await.unwrap().unwrap();
        assert_eq!(stored.delivery_code_attempts, 2);
        assert_eq!(stored.version, order.version);
    }

    pub async fn of_sixteen_concurrent_delivery_code_attempts_with_five_allowed_exactly_five_are_reserved<
        S: Store,
    >(
        store: Arc<S>,
    ) {
        let id = a_stored_order(&*store, UserId::new()).await.id;

        let outcomes = race(&store, 16, move |store, _| async move {
            store.reserve_delivery_code_attempt(id, 5).await.unwrap()
        })
        .await;

        assert_eq!(outcomes.iter().filter(|reserved| **reserved).count(), 5);
        let stored = store.order(id).await.unwrap().unwrap();
        assert_eq!(stored.delivery_code_attempts, 5);
    }

    /// Orders spread over a week, moved through the workflow after they are placed (some
    /// concurrently, from one version): the totals of any period, on day boundaries or not,
    /// open or not, are what counting the orders themselves gives.
    pub async fn order_totals_follow_orders_moved_after_they_were_placed<S: Store>(
        store: Arc<S>,
    ) {
        let (karim, omar) = (UserId::new(), UserId::new());
        let midnight = t0().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let mut orders = Vec::new();
        for hour in (0..7 * 24).step_by(5) {
            let order = placed(midnight + Duration::hours(hour), OrderStatus::Pending, None);
            store.insert_order(&order).await.unwrap();
            orders.push(order);
        }
        for (index, order) in orders.iter_mut().enumerate() {
            let (status, courier) = match index % 4 {
                0 => (OrderStatus::Delivered, Some(karim)),
                1 => (OrderStatus::Delivered, Some(omar)),
                2 => (OrderStatus::Cancelled, None),
                _ => continue,
            };
            let mut next = moved(order, status);
            next.courier_id = courier;
            assert!(store.update_order(&next, order.version).await.unwrap());
            *order = next;
        }
        // Eight movers from one version: one wins, the others move nothing.
        let contested = orders[3].clone();
        let outcomes = race(&store, 8, move |store, _| {
            let contested = contested.clone();
            async move {
                let next = moved(&contested, OrderStatus::Confirmed);
                store.update_order(&next, contested.version).await.unwrap()
            }
        })
        .await;
        assert_eq!(outcomes.iter().filter(|won| **won).count(), 1);
        orders[3] = moved(&orders[3], OrderStatus::Confirmed);

        let at = |days: i64, hours: i64| Some(midnight + Duration::days(days) + Duration::hours(hours));
        for (from, to) in [
            (None, None),
            (at(1, 0), at(4, 0)),
            (at(1, 3), at(5, 2)),
            (at(2, 1), at(2, 11)),
            (None, at(3, 7)),
            (at(3, 7), None),
            (at(6, 23), at(6, 23)),
        ] {
            let period = PlacedBetween { from, to };
            let within: Vec<&Order> = orders.iter().filter(|o| period.admits(o)).collect();
            let mut expected_statuses: Vec<(&str, u64)> = Vec::new();
            for order in &within {
                match expected_statuses.iter_mut().find(|(s, _)| *s == order.status.as_str()) {
                    Some((_, n)) => *n += 1,
                    None => expected_statuses.push((order.status.as_str(), 1)),
                }
            }
            let delivered: Vec<&&Order> = within
                .iter()
                .filter(|o| o.status == OrderStatus::Delivered)
                .collect();
            let by = |courier| delivered.iter().filter(|o| o.courier_id == Some(courier)).count() as u64;
            let mut expected_couriers: Vec<(UserId, u64)> = [(karim, by(karim)), (omar, by(omar))]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect();
            expected_couriers.sort();

            let totals = store.order_totals(period).await.unwrap();

            assert_eq!(status_counts(&totals), sorted(expected_statuses), "{period:?}");
            let revenue: i64 = delivered.iter().map(|o| o.total_cents).sum();
            let expected_revenue = if delivered.is_empty() {
                vec![]
            } else {
                vec![(Currency::parse("MAD").unwrap(), revenue)]
            };
            assert_eq!(totals.delivered_revenue, expected_revenue, "{period:?}");
            assert_eq!(sorted(totals.deliveries_per_courier), expected_couriers, "{period:?}");
        }
    }

    pub async fn order_totals_of_no_orders_are_empty<S: Store>(store: Arc<S>) {
        let totals = store.order_totals(PlacedBetween::default()).await.unwrap();

        assert_eq!(totals, OrderTotals::default());
    }
}
