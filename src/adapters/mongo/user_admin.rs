//! Adapters layer (MongoDB): managers' listing of users and the guarded changes of role,
//! status and existence behind `UserStore`.
//!
//! The last-active-manager guard spans documents — "this manager may be demoted because
//! *another* one is active" — which no single-document update can check. So these writes run
//! in a multi-document transaction, and therefore NEED A REPLICA SET (any Atlas cluster, or a
//! one-node replica set in development); on a standalone server they fail with a store error.
//! Snapshot isolation alone would let two managers demote each other (each transaction reads
//! the other as active, and they write different documents), so every guarded transaction
//! first writes one shared guard document: two of them conflict, the server aborts one with a
//! transient error, and the driver reruns it on a fresh snapshot, where it sees the other's
//! outcome.

use chrono::{DateTime, Utc};
use mongodb::ClientSession;
use mongodb::bson::{Document, doc};
use mongodb::options::{ReadConcern, TransactionOptions, WriteConcern};

use super::MongoStore;
use super::users::user_from;
use super::values::{bson_time, bson_uuid, literal_regex};
use crate::core::model::{PageRequest, User, UserId};
use crate::core::ports::{AccessChange, AccessChangeOutcome, DeleteUserOutcome, UserFilter};

pub(super) const GUARDS_COLLECTION: &str = "guards";

/// The guard document every transaction that may remove an active manager writes first.
const ACTIVE_MANAGERS_GUARD: &str = "active_managers";

impl MongoStore {
    /// Creates the guard document if it is missing (idempotent): a transaction then only
    /// updates it, never creates a collection.
    pub(super) async fn ensure_guard(&self) -> anyhow::Result<()> {
        self.guards
            .update_one(
                doc! { "_id": ACTIVE_MANAGERS_GUARD },
                doc! { "$setOnInsert": { "writes": 0_i64 } },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    pub(super) async fn find_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> anyhow::Result<Vec<User>> {
        let mut query = Document::new();
        if let Some(role) = filter.role {
            query.insert("role", role.as_str());
        }
        if let Some(status) = filter.status {
            query.insert("status", status.as_str());
        }
        if let Some(before) = page.before {
            query.insert("_id", doc! { "$lt": bson_uuid(before) });
        }
        if let Some(search) = filter.search.as_deref() {
            // The search is plain text: escaped, so a `.` or `*` matches itself only.
            let pattern = literal_regex(search);
            query.insert(
                "$or",
                vec![
                    doc! { "email": { "$regex": &pattern } },
                    doc! { "name": { "$regex": &pattern, "$options": "i" } },
                ],
            );
        }
        let limit = i64::try_from(page.fetch_limit())?;
        // Served by `{role, status, _id}`, `{status, _id}` or `_id` itself, newest first.
        let mut cursor = self
            .users
            .find(query)
            .sort(doc! { "_id": -1 })
            .limit(limit)
            .await?;
        let mut users = Vec::new();
        while cursor.advance().await? {
            users.push(User::try_from(cursor.deserialize_current()?)?);
        }
        Ok(users)
    }

    pub(super) async fn guarded_change_access(
        &self,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> anyhow::Result<AccessChangeOutcome> {
        let mut session = self.users.client().start_session().await?;
        let outcome = session
            .start_transaction()
            .with_options(transaction_options(self.write_concern()))
            .and_run((self, id, change, at), |session, context| {
                let (store, id, change, at) = *context;
                Box::pin(async move {
                    store
                        .change_access_in(session, id, change, at)
                        .await
                        .map_err(into_driver_error)
                })
            })
            .await?;
        Ok(outcome)
    }

    pub(super) async fn guarded_delete_user(
        &self,
        id: UserId,
    ) -> anyhow::Result<DeleteUserOutcome> {
        let mut session = self.users.client().start_session().await?;
        let outcome = session
            .start_transaction()
            .with_options(transaction_options(self.write_concern()))
            .and_run((self, id), |session, context| {
                let (store, id) = *context;
                Box::pin(async move {
                    store
                        .delete_user_in(session, id)
                        .await
                        .map_err(into_driver_error)
                })
            })
            .await?;
        Ok(outcome)
    }

    async fn change_access_in(
        &self,
        session: &mut ClientSession,
        id: UserId,
        change: AccessChange,
        at: DateTime<Utc>,
    ) -> anyhow::Result<AccessChangeOutcome> {
        self.take_guard(session).await?;
        let Some(user) = user_from(
            self.users
                .find_one(by_id(id))
                .session(&mut *session)
                .await?,
        )?
        else {
            return Ok(AccessChangeOutcome::NotFound);
        };
        let changed = change.applied_to(&user);
        if user.is_active_manager()
            && !changed.is_active_manager()
            && !self.another_active_manager(session, id).await?
        {
            return Ok(AccessChangeOutcome::LastActiveManager);
        }
        let set = doc! {
            "role": changed.role.as_str(),
            "status": changed.status.as_str(),
            "updated_at": bson_time(at),
        };
        self.users
            .update_one(by_id(id), doc! { "$set": set })
            .session(&mut *session)
            .await?;
        Ok(AccessChangeOutcome::Changed(User {
            updated_at: at,
            ..changed
        }))
    }

    async fn delete_user_in(
        &self,
        session: &mut ClientSession,
        id: UserId,
    ) -> anyhow::Result<DeleteUserOutcome> {
        self.take_guard(session).await?;
        let Some(user) = user_from(
            self.users
                .find_one(by_id(id))
                .session(&mut *session)
                .await?,
        )?
        else {
            return Ok(DeleteUserOutcome::NotFound);
        };
        if user.is_active_manager() && !self.another_active_manager(session, id).await? {
            return Ok(DeleteUserOutcome::LastActiveManager);
        }
        // What SQLite's `ON DELETE CASCADE` does, in the same transaction: nothing of the
        // user outlives them, and their sessions stop at once — except their orders and
        // audit events, records that outlive an account by design (and have no cascade).
        let owned = doc! { "user_id": bson_uuid(id.as_uuid()) };
        self.users
            .delete_one(by_id(id))
            .session(&mut *session)
            .await?;
        self.sessions
            .delete_many(owned.clone())
            .session(&mut *session)
            .await?;
        self.tokens
            .delete_many(owned.clone())
            .session(&mut *session)
            .await?;
        self.challenges
            .delete_many(owned.clone())
            .session(&mut *session)
            .await?;
        self.devices
            .delete_many(owned)
            .session(&mut *session)
            .await?;
        // The user's TOTP enrolment and recovery codes: one document, keyed by the user.
        self.second_factors
            .delete_one(by_id(id))
            .session(&mut *session)
            .await?;
        Ok(DeleteUserOutcome::Deleted)
    }

    /// Writes the guard document, so that two guarded transactions cannot both commit.
    ///
    /// An update that matches nothing writes nothing, and two transactions that write nothing
    /// in common both commit: so a guard document that went missing (a restore without it,
    /// an operator's cleanup) is created here, inside the transaction — two transactions
    /// creating it conflict like two updating it — and a write that neither matched nor
    /// created it fails rather than let the guarded change through unguarded.
    async fn take_guard(&self, session: &mut ClientSession) -> anyhow::Result<()> {
        let written = self
            .guards
            .update_one(
                doc! { "_id": ACTIVE_MANAGERS_GUARD },
                doc! { "$inc": { "writes": 1_i64 } },
            )
            .upsert(true)
            .session(session)
            .await?;
        if written.matched_count == 0 && written.upserted_id.is_none() {
            anyhow::bail!("the active-managers guard document was neither updated nor created");
        }
        Ok(())
    }

    async fn another_active_manager(
        &self,
        session: &mut ClientSession,
        id: UserId,
    ) -> mongodb::error::Result<bool> {
        let others = self
            .users
            .count_documents(doc! {
                "role": "manager",
                "status": "active",
                "_id": { "$ne": bson_uuid(id.as_uuid()) },
            })
            .limit(1)
            .session(session)
            .await?;
        Ok(others > 0)
    }
}

fn by_id(id: UserId) -> Document {
    doc! { "_id": bson_uuid(id.as_uuid()) }
}

/// Snapshot reads, majority writes (within the store's time limit): what the guard needs to
/// hold across a failover.
fn transaction_options(write_concern: WriteConcern) -> TransactionOptions {
    TransactionOptions::builder()
        .read_concern(ReadConcern::snapshot())
        .write_concern(write_concern)
        .build()
}

/// The transaction runner retries on the driver's own transient errors, so those pass through
/// untouched; anything else (a document the domain refuses) travels as a custom error.
fn into_driver_error(error: anyhow::Error) -> mongodb::error::Error {
    match error.downcast::<mongodb::error::Error>() {
        Ok(driver) => driver,
        Err(other) => mongodb::error::Error::custom(std::sync::Arc::new(other)),
    }
}
