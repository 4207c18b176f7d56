//! Tests: the store contract of `OutboxStore`, run against every store adapter — queueing,
//! claims with a lease (disjoint under concurrency, invisible until the lease ends), the
//! outcomes of a claim (only the current claim may record one) and the purge. (The
//! per-recipient cap counts in the rate windows: tests/store_contract/rate_windows.rs.)

use std::collections::HashSet;

use allomedia::core::model::{ClaimedMail, OutboxMailId, QueuedMail, SealedMail};
use tokio::task::JoinSet;

use crate::builders::*;

fn a_mail(at: DateTime<Utc>) -> QueuedMail {
    QueuedMail {
        id: OutboxMailId::new(),
        kind: "login_code".to_owned(),
        body: SealedMail::from_bytes(vec![1, 2, 3, 255]),
        created_at: at,
    }
}

fn lease() -> DateTime<Utc> {
    t0() + Duration::minutes(5)
}

async fn claim_one<S: Store>(store: &S, now: DateTime<Utc>) -> Option<ClaimedMail> {
    let mut claimed = store
        .claim_mails(1, now, now + Duration::minutes(5))
        .await
        .unwrap();
    assert!(claimed.len() <= 1);
    claimed.pop()
}

store_contract! {
    pub async fn a_queued_mail_is_claimed_once_with_its_body_and_first_attempt<S: Store>(store: Arc<S>) {
        let mail = a_mail(t0());
        store.enqueue_mail(&mail).await.unwrap();

        let claimed = store.claim_mails(10, t0(), lease()).await.unwrap();

        assert_eq!(
            claimed,
            vec![ClaimedMail {
                id: mail.id,
                kind: "login_code".to_owned(),
                body: mail.body,
                attempt: 1,
                created_at: t0(),
                lease_until: lease(),
            }]
        );
        let status = store.outbox_status().await.unwrap();
        assert_eq!((status.queued, status.sent, status.abandoned), (1, 0, 0));
        assert_eq!(status.oldest_queued_at, Some(t0()));
    }

    pub async fn a_claimed_mail_is_invisible_until_its_lease_ends<S: Store>(store: Arc<S>) {
        let mail = a_mail(t0());
        store.enqueue_mail(&mail).await.unwrap();
        assert!(claim_one(&*store, t0()).await.is_some());

        let during = claim_one(&*store, lease() - Duration::milliseconds(1)).await;
        let after = claim_one(&*store, lease()).await.unwrap();

        assert_eq!(during, None);
        assert_eq!((after.id, after.attempt), (mail.id, 2));
    }

    pub async fn a_mail_not_yet_due_is_not_claimed<S: Store>(store: Arc<S>) {
        store.enqueue_mail(&a_mail(t0() + Duration::seconds(1))).await.unwrap();

        assert_eq!(claim_one(&*store, t0()).await, None);
        assert!(claim_one(&*store, t0() + Duration::seconds(1)).await.is_some());
    }

    pub async fn claims_take_the_longest_due_first_and_at_most_the_limit<S: Store>(store: Arc<S>) {
        let (old, middle, new) = (
            a_mail(t0() - Duration::seconds(3)),
            a_mail(t0() - Duration::seconds(2)),
            a_mail(t0() - Duration::seconds(1)),
        );
        for mail in [&new, &old, &middle] {
            store.enqueue_mail(mail).await.unwrap();
        }

        let first = store.claim_mails(2, t0(), lease()).await.unwrap();
        let rest = store.claim_mails(2, t0(), lease()).await.unwrap();

        let ids = |mails: &[ClaimedMail]| mails.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(&first), vec![old.id, middle.id]);
        assert_eq!(ids(&rest), vec![new.id]);
    }

    pub async fn concurrent_claimers_get_disjoint_sets_covering_every_mail<S: Store>(store: Arc<S>) {
        let mut queued = HashSet::new();
        for _ in 0..60 {
            let mail = a_mail(t0());
            queued.insert(mail.id);
            store.enqueue_mail(&mail).await.unwrap();
        }

        let mut claimers = JoinSet::new();
        for _ in 0..8 {
            let store = store.clone();
            claimers.spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_mails(3, t0(), lease()).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|mail| mail.id));
                }
            });
        }
        let mut claimed = Vec::new();
        while let Some(mine) = claimers.join_next().await {
            claimed.extend(mine.unwrap());
        }

        let distinct: HashSet<_> = claimed.iter().copied().collect();
        assert_eq!(claimed.len(), distinct.len(), "a mail was claimed twice");
        assert_eq!(distinct, queued);
    }

    pub async fn a_sent_mail_loses_its_body_and_is_never_claimed_again<S: Store>(store: Arc<S>) {
        let mail = a_mail(t0());
        store.enqueue_mail(&mail).await.unwrap();
        let claim = claim_one(&*store, t0()).await.unwrap();

        let marked = store.mark_mail_sent(mail.id, claim.attempt, t0()).await.unwrap();

        assert!(marked);
        assert_eq!(claim_one(&*store, lease() + Duration::days(1)).await, None);
        let status = store.outbox_status().await.unwrap();
        assert_eq!((status.queued, status.sent), (0, 1));
        assert_eq!(status.oldest_queued_at, None);
    }

    pub async fn only_the_current_claim_records_an_outcome<S: Store>(store: Arc<S>) {
        let mail = a_mail(t0());
        store.enqueue_mail(&mail).await.unwrap();
        let stale = claim_one(&*store, t0()).await.unwrap();
        let current = claim_one(&*store, lease()).await.unwrap();

        // The first sender's lease ran out and a second one holds the mail now.
        let stale_sent = store.mark_mail_sent(mail.id, stale.attempt, lease()).await.unwrap();
        let stale_retry = store.retry_mail_at(mail.id, stale.attempt, lease()).await.unwrap();
        let stale_abandon = store.abandon_mail(mail.id, stale.attempt, lease()).await.unwrap();
        let current_sent = store.mark_mail_sent(mail.id, current.attempt, lease()).await.unwrap();
        let twice = store.mark_mail_sent(mail.id, current.attempt, lease()).await.unwrap();

        assert_eq!((stale_sent, stale_retry, stale_abandon), (false, false, false));
        assert!(current_sent);
        assert!(!twice);
    }

    pub async fn a_failed_attempt_makes_the_mail_due_again_at_the_retry_time<S: Store>(store: Arc<S>) {
        let mail = a_mail(t0());
        store.enqueue_mail(&mail).await.unwrap();
        let first = claim_one(&*store, t0()).await.unwrap();
        let retry_at = t0() + Duration::seconds(10);

        assert!(store.retry_mail_at(mail.id, first.attempt, retry_at).await.unwrap());

        // The lease is over at once, but the mail waits for its retry time.
        assert_eq!(claim_one(&*store, retry_at - Duration::milliseconds(1)).await, None);
        let second = claim_one(&*store, retry_at).await.unwrap();
        assert_eq!((second.attempt, second.body), (2, mail.body));
    }

    pub async fn an_abandoned_mail_loses_its_body_and_is_never_claimed_again<S: Store>(store: Arc<S>) {
        let mail = a_mail(t0());
        store.enqueue_mail(&mail).await.unwrap();
        let claim = claim_one(&*store, t0()).await.unwrap();

        assert!(store.abandon_mail(mail.id, claim.attempt, t0()).await.unwrap());

        assert_eq!(claim_one(&*store, lease() + Duration::days(1)).await, None);
        let status = store.outbox_status().await.unwrap();
        assert_eq!((status.queued, status.sent, status.abandoned), (0, 0, 1));
    }

    pub async fn the_purge_deletes_finished_mails_before_the_retention_and_never_queued_ones<S: Store>(store: Arc<S>) {
        let (old_sent, recent_sent, old_queued) = (a_mail(t0()), a_mail(t0()), a_mail(t0()));
        for mail in [&old_sent, &recent_sent, &old_queued] {
            store.enqueue_mail(mail).await.unwrap();
        }
        for claim in store.claim_mails(3, t0(), lease()).await.unwrap() {
            let finished_at = if claim.id == old_sent.id {
                t0()
            } else if claim.id == recent_sent.id {
                t0() + Duration::days(2)
            } else {
                continue;
            };
            assert!(store.mark_mail_sent(claim.id, claim.attempt, finished_at).await.unwrap());
        }

        let purged = store.purge_mails(t0() + Duration::days(1)).await.unwrap();

        assert_eq!(purged, 1);
        let status = store.outbox_status().await.unwrap();
        assert_eq!((status.queued, status.sent), (1, 1));
    }
}
