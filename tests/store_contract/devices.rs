//! Tests: the store contract of `DeviceStore`, run against every store adapter.

use crate::builders::*;

async fn listed<S: Store>(store: &S, user: &User, page: PageRequest) -> Vec<DeviceId> {
    let devices = store.devices_of(user.id, page, t0()).await.unwrap();
    devices.iter().map(|device| device.id).collect()
}

store_contract! {
    pub async fn a_remembered_device_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let device = a_stored_device(&*store, &user, 1).await;

        let read = store
            .devices_of(user.id, PageRequest::first(20), t0())
            .await
            .unwrap();

        assert_eq!(read, vec![device]);
    }

    pub async fn a_device_is_used_only_before_its_expiry<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let device = a_stored_device(&*store, &user, 1).await;
        let just_before = device.expires_at - Duration::milliseconds(1);

        let before = store.use_device(user.id, &digest(1), just_before).await;
        let at_expiry = store
            .use_device(user.id, &digest(1), device.expires_at)
            .await;
        let unknown = store.use_device(user.id, &digest(9), t0()).await;

        assert!(before.unwrap());
        assert!(!at_expiry.unwrap());
        assert!(!unknown.unwrap());
        let read = store
            .devices_of(user.id, PageRequest::first(20), t0())
            .await
            .unwrap();
        assert_eq!(read[0].last_used_at, Some(just_before));
    }

    pub async fn a_device_is_not_used_for_another_user<S: Store>(store: Arc<S>) {
        let owner = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        a_stored_device(&*store, &owner, 1).await;

        let used = store.use_device(other.id, &digest(1), t0()).await;

        assert!(!used.unwrap());
        let read = store
            .devices_of(owner.id, PageRequest::first(20), t0())
            .await
            .unwrap();
        assert_eq!(read[0].last_used_at, None);
    }

    pub async fn devices_are_listed_newest_first_page_by_page_without_expired_ones<S: Store>(
        store: Arc<S>,
    ) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        let oldest = a_stored_device(&*store, &user, 1).await;
        let middle = a_stored_device(&*store, &user, 2).await;
        let newest = a_stored_device(&*store, &user, 3).await;
        let mut expired = device_for(&user, 4);
        expired.expires_at = t0();
        store.insert_device(&expired).await.unwrap();
        a_stored_device(&*store, &other, 5).await;

        let first = listed(&*store, &user, PageRequest::first(2)).await;
        let after_newest = PageRequest {
            limit: 2,
            before: Some(newest.id.as_uuid()),
        };
        let rest = listed(&*store, &user, after_newest).await;

        // `first(2)` fetches one more than the page, to tell whether another follows.
        assert_eq!(first, vec![newest.id, middle.id, oldest.id]);
        assert_eq!(rest, vec![middle.id, oldest.id]);
    }

    pub async fn a_device_is_deleted_only_by_its_user<S: Store>(store: Arc<S>) {
        let owner = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        let device = a_stored_device(&*store, &owner, 1).await;

        let by_other = store.delete_device(other.id, device.id).await.unwrap();
        let by_owner = store.delete_device(owner.id, device.id).await.unwrap();
        let again = store.delete_device(owner.id, device.id).await.unwrap();

        assert!(!by_other);
        assert!(by_owner);
        assert!(!again);
        assert!(!store.use_device(owner.id, &digest(1), t0()).await.unwrap());
    }

    pub async fn forgetting_devices_counts_them_and_spares_other_users<S: Store>(store: Arc<S>) {
        let user = a_stored_user(&*store, "amina@example.com").await;
        let other = a_stored_user(&*store, "youssef@example.com").await;
        a_stored_device(&*store, &user, 1).await;
        a_stored_device(&*store, &user, 2).await;
        let spared = a_stored_device(&*store, &other, 3).await;

        let forgotten = store.forget_devices(user.id).await.unwrap();

        assert_eq!(forgotten, 2);
        assert!(
            listed(&*store, &user, PageRequest::first(20))
                .await
                .is_empty()
        );
        assert!(!store.use_device(user.id, &digest(1), t0()).await.unwrap());
        assert_eq!(
            listed(&*store, &other, PageRequest::first(20)).await,
            vec![spared.id]
        );
        assert_eq!(store.forget_devices(user.id).await.unwrap(), 0);
    }
}
