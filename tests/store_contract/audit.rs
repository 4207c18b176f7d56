//! Tests: the store contract of `AuditLog`, run against every store adapter.

use crate::builders::*;

/// An event of `kind` about `user` (none for an unknown email), at `t0`, with every other
/// detail filled in and each distinct, so that a swapped column shows.
fn event_about(user: Option<&User>, kind: AuditKind) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        kind,
        at: t0(),
        user_id: user.map(|user| user.id),
        actor_id: Some(UserId::new()),
        client: ClientInfo {
            ip: Some("198.51.100.23".into()),
            user_agent: Some("curl/8.5".into()),
        },
        detail: Some("method=totp".into()),
    }
}

async fn a_recorded_event<S: Store>(store: &S, user: Option<&User>, kind: AuditKind) -> AuditEvent {
    let event = event_about(user, kind);
    store.record(&event).await.unwrap();
    event
}

/// The ids of `events`, newest first — the order the log promises.
fn newest_events_first(events: &[&AuditEvent]) -> Vec<AuditEventId> {
    let mut ids: Vec<AuditEventId> = events.iter().map(|event| event.id).collect();
    ids.sort_by_key(|id| std::cmp::Reverse(*id));
    ids
}

fn event_ids(events: &[AuditEvent]) -> Vec<AuditEventId> {
    events.iter().map(|event| event.id).collect()
}

async fn listed_events<S: Store>(
    store: &S,
    user_id: Option<UserId>,
    kind: Option<AuditKind>,
) -> Vec<AuditEventId> {
    let filter = AuditFilter { user_id, kind };
    let events = store
        .audit_events(&filter, PageRequest::first(100))
        .await
        .unwrap();
    event_ids(&events)
}

store_contract! {
    pub async fn an_audit_event_reads_back_with_every_field_and_every_absent_one<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let manager = an_active_manager(&*store, "manager@example.com").await;
        let full = AuditEvent {
            actor_id: Some(manager.id),
            at: t0() + Duration::milliseconds(417),
            ..event_about(Some(&amina), AuditKind::RoleChanged)
        };
        let bare = AuditEvent {
            id: AuditEventId::new(),
            kind: AuditKind::LoginFailed,
            at: t0(),
            user_id: None,
            actor_id: None,
            client: ClientInfo {
                ip: None,
                user_agent: None,
            },
            detail: None,
        };
        let half_known_client = AuditEvent {
            client: ClientInfo {
                ip: None,
                user_agent: Some("Firefox/140".into()),
            },
            detail: None,
            ..event_about(Some(&amina), AuditKind::SessionEnded)
        };
        for event in [&full, &bare, &half_known_client] {
            store.record(event).await.unwrap();
        }

        let read = store
            .audit_events(&AuditFilter::default(), PageRequest::first(20))
            .await
            .unwrap();

        assert_eq!(read, vec![half_known_client, bare, full]);
    }

    pub async fn every_kind_of_audit_event_reads_back_as_itself<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let mut recorded = Vec::new();
        for kind in AuditKind::ALL {
            recorded.push(a_recorded_event(&*store, Some(&amina), kind).await);
        }

        let mut read = store
            .audit_events(&AuditFilter::default(), PageRequest::first(100))
            .await
            .unwrap();

        read.reverse();
        assert_eq!(read, recorded);
    }

    pub async fn recording_an_event_id_twice_fails_and_keeps_the_first<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let first = a_recorded_event(&*store, Some(&amina), AuditKind::LoginFailed).await;
        let rewrite = AuditEvent {
            kind: AuditKind::LoginSucceeded,
            detail: None,
            ..first.clone()
        };

        let outcome = store.record(&rewrite).await;

        assert!(outcome.is_err(), "an event must never be overwritten");
        let read = store
            .audit_events(&AuditFilter::default(), PageRequest::first(20))
            .await
            .unwrap();
        assert_eq!(read, vec![first]);
    }

    pub async fn audit_events_are_listed_newest_first_by_id_one_page_after_another<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let mut events = Vec::new();
        for minutes in 0..5 {
            // Each event an earlier `at` than the one before: the order is the id's, never
            // the time's, so a store sorting by `at` would list them backwards.
            let event = AuditEvent {
                at: t0() - Duration::minutes(minutes),
                ..event_about(Some(&amina), AuditKind::LoginFailed)
            };
            store.record(&event).await.unwrap();
            events.push(event);
        }
        let expected = newest_events_first(&events.iter().collect::<Vec<_>>());
        let all = AuditFilter::default();
        let page_after = |last: AuditEventId| PageRequest {
            limit: 2,
            before: Some(last.as_uuid()),
        };

        let first = store.audit_events(&all, PageRequest::first(2)).await;
        let second = store.audit_events(&all, page_after(expected[1])).await;
        let third = store.audit_events(&all, page_after(expected[3])).await;
        let beyond = store.audit_events(&all, page_after(expected[4])).await;

        // Each page fetches one more than its limit, to tell whether another follows.
        assert_eq!(event_ids(&first.unwrap()), expected[0..3]);
        assert_eq!(event_ids(&second.unwrap()), expected[2..5]);
        assert_eq!(event_ids(&third.unwrap()), expected[4..5]);
        assert!(beyond.unwrap().is_empty());
    }

    pub async fn audit_events_are_filtered_by_user_by_kind_by_both_or_not_at_all<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let aminas_failure = a_recorded_event(&*store, Some(&amina), AuditKind::LoginFailed).await;
        let aminas_login = a_recorded_event(&*store, Some(&amina), AuditKind::LoginSucceeded).await;
        let omars_failure = a_recorded_event(&*store, Some(&omar), AuditKind::LoginFailed).await;
        let strangers_failure = a_recorded_event(&*store, None, AuditKind::LoginFailed).await;
        // Omar acts on Amina's account: the event is about her, not him.
        let omar_promotes_amina = AuditEvent {
            actor_id: Some(omar.id),
            ..event_about(Some(&amina), AuditKind::RoleChanged)
        };
        store.record(&omar_promotes_amina).await.unwrap();
        let failed = Some(AuditKind::LoginFailed);

        let aminas = listed_events(&*store, Some(amina.id), None).await;
        let omars = listed_events(&*store, Some(omar.id), None).await;
        let failures = listed_events(&*store, None, failed).await;
        let aminas_failures = listed_events(&*store, Some(amina.id), failed).await;
        let omars_promotions = listed_events(&*store, Some(omar.id), Some(AuditKind::RoleChanged));
        let everything = listed_events(&*store, None, None).await;

        assert_eq!(
            aminas,
            newest_events_first(&[&aminas_failure, &aminas_login, &omar_promotes_amina])
        );
        assert_eq!(omars, vec![omars_failure.id]);
        assert_eq!(
            failures,
            newest_events_first(&[&aminas_failure, &omars_failure, &strangers_failure])
        );
        assert_eq!(aminas_failures, vec![aminas_failure.id]);
        assert!(omars_promotions.await.is_empty());
        assert_eq!(
            everything,
            newest_events_first(&[
                &aminas_failure,
                &aminas_login,
                &omars_failure,
                &strangers_failure,
                &omar_promotes_amina,
            ])
        );
    }

    pub async fn filtered_audit_events_are_paged_below_the_cursor<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let omar = a_stored_user(&*store, "omar@example.com").await;
        let mut aminas_failures = Vec::new();
        for _ in 0..3 {
            aminas_failures
                .push(a_recorded_event(&*store, Some(&amina), AuditKind::LoginFailed).await);
            // Interleaved: other users' and other kinds' events sit between hers.
            a_recorded_event(&*store, Some(&omar), AuditKind::LoginFailed).await;
            a_recorded_event(&*store, Some(&amina), AuditKind::LoginSucceeded).await;
        }
        let expected = newest_events_first(&aminas_failures.iter().collect::<Vec<_>>());
        let filter = AuditFilter {
            user_id: Some(amina.id),
            kind: Some(AuditKind::LoginFailed),
        };
        let by_user = AuditFilter {
            user_id: Some(amina.id),
            kind: None,
        };
        let after_newest = PageRequest {
            limit: 1,
            before: Some(expected[0].as_uuid()),
        };

        let first = store.audit_events(&filter, PageRequest::first(1)).await;
        let rest = store.audit_events(&filter, after_newest).await;
        let hers_after_newest = store.audit_events(&by_user, after_newest).await;

        assert_eq!(event_ids(&first.unwrap()), expected[0..2]);
        assert_eq!(event_ids(&rest.unwrap()), expected[1..3]);
        let hers = hers_after_newest.unwrap();
        assert_eq!(hers.len(), 2);
        assert!(
            hers.iter().all(|event| event.user_id == Some(amina.id)
                && event.id.as_uuid() < expected[0].as_uuid())
        );
    }

    pub async fn events_about_no_account_are_listed_only_without_a_user_filter<S: Store>(
        store: Arc<S>,
    ) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let strangers = a_recorded_event(&*store, None, AuditKind::LoginFailed).await;

        let unfiltered = listed_events(&*store, None, None).await;
        let by_kind = listed_events(&*store, None, Some(AuditKind::LoginFailed)).await;
        let by_a_user = listed_events(&*store, Some(amina.id), None).await;
        let by_a_user_and_kind =
            listed_events(&*store, Some(amina.id), Some(AuditKind::LoginFailed)).await;
        let by_nobody_known = listed_events(&*store, Some(UserId::new()), None).await;

        assert_eq!(unfiltered, vec![strangers.id]);
        assert_eq!(by_kind, vec![strangers.id]);
        assert!(by_a_user.is_empty());
        assert!(by_a_user_and_kind.is_empty());
        assert!(by_nobody_known.is_empty());
    }

    pub async fn deleting_a_user_keeps_their_audit_events<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let manager = an_active_manager(&*store, "manager@example.com").await;
        let registered = a_recorded_event(&*store, Some(&amina), AuditKind::Registered).await;
        let deleted = AuditEvent {
            actor_id: Some(manager.id),
            ..event_about(Some(&amina), AuditKind::AccountDeleted)
        };
        store.record(&deleted).await.unwrap();
        // Amina as the actor on someone else's account: kept too.
        let her_act = AuditEvent {
            actor_id: Some(amina.id),
            ..event_about(Some(&manager), AuditKind::StatusChanged)
        };
        store.record(&her_act).await.unwrap();

        let outcome = store.delete_user(amina.id).await.unwrap();

        assert_eq!(outcome, DeleteUserOutcome::Deleted);
        let hers = store
            .audit_events(
                &AuditFilter {
                    user_id: Some(amina.id),
                    kind: None,
                },
                PageRequest::first(20),
            )
            .await
            .unwrap();
        assert_eq!(hers, vec![deleted, registered]);
        assert_eq!(
            listed_events(&*store, Some(manager.id), None).await,
            vec![her_act.id]
        );
    }

    pub async fn of_thirty_two_concurrent_records_every_one_is_listed<S: Store>(store: Arc<S>) {
        let amina = a_stored_user(&*store, "amina@example.com").await;
        let events: Vec<AuditEvent> = (0..32)
            .map(|_| event_about(Some(&amina), AuditKind::LoginFailed))
            .collect();
        let shared = Arc::new(events.clone());

        let outcomes = race(&store, 32, move |store, index| {
            let event = shared[index].clone();
            async move { store.record(&event).await }
        })
        .await;

        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let listed = store
            .audit_events(&AuditFilter::default(), PageRequest::first(100))
            .await
            .unwrap();
        let mut expected = events;
        expected.sort_by_key(|event| std::cmp::Reverse(event.id));
        assert_eq!(listed, expected);
    }
}
