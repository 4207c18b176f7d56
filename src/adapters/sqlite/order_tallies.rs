//! Adapters layer (SQLite): running totals of the orders placed each UTC day
//! (`order_tallies`), moved by every order write in its own transaction, and the stats read
//! that adds them up. A period's stats add its whole days' tallies and count only the orders
//! of its partial first and last days, so they cost the same on a thousand orders as on a
//! million.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use rusqlite::{Connection, named_params};

use super::criteria::Criteria;
use crate::core::model::{Currency, OrderStatus, OrderTotals};

const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since 1970-01-01) of a time in unix milliseconds.
pub(super) fn day_of(millis: i64) -> i64 {
    millis.div_euclid(DAY_MS)
}

/// Which tally an order counts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TallyKey {
    pub(super) day: i64,
    pub(super) status: String,
    pub(super) currency: String,
    /// `''` for an order without a courier: a primary-key column cannot hold NULL.
    pub(super) courier_id: String,
}

impl TallyKey {
    pub(super) fn new(
        created_at_millis: i64,
        status: &str,
        currency: &str,
        courier_id: Option<String>,
    ) -> Self {
        Self {
            day: day_of(created_at_millis),
            status: status.to_owned(),
            currency: currency.to_owned(),
            courier_id: courier_id.unwrap_or_default(),
        }
    }

    /// Counts one more order of `total_cents` in this tally.
    pub(super) fn count_in(&self, connection: &Connection, total_cents: i64) -> anyhow::Result<()> {
        connection
            .prepare_cached(
                "INSERT INTO order_tallies (day, status, currency, courier_id, orders, total_cents)
                 VALUES (:day, :status, :currency, :courier_id, 1, :total_cents)
                 ON CONFLICT (day, status, currency, courier_id) DO UPDATE
                 SET orders = orders + 1, total_cents = total_cents + excluded.total_cents",
            )?
            .execute(named_params! {
                ":day": self.day,
                ":status": self.status,
                ":currency": self.currency,
                ":courier_id": self.courier_id,
                ":total_cents": total_cents,
            })?;
        Ok(())
    }

    /// Takes one order of `total_cents` out of this tally, and the tally away once empty. A
    /// tally that does not hold the order is an inconsistency worth failing the write for.
    pub(super) fn count_out(
        &self,
        connection: &Connection,
        total_cents: i64,
    ) -> anyhow::Result<()> {
        let changed = connection
            .prepare_cached(
                "UPDATE order_tallies SET orders = orders - 1, total_cents = total_cents - :total_cents
                 WHERE day = :day AND status = :status AND currency = :currency
                   AND courier_id = :courier_id AND orders > 0",
            )?
            .execute(named_params! {
                ":day": self.day,
                ":status": self.status,
                ":currency": self.currency,
                ":courier_id": self.courier_id,
                ":total_cents": total_cents,
            })?;
        if changed != 1 {
            return Err(anyhow!("no tally holds the order being moved ({self:?})"));
        }
        connection
            .prepare_cached(
                "DELETE FROM order_tallies
                 WHERE day = :day AND status = :status AND currency = :currency
                   AND courier_id = :courier_id AND orders = 0",
            )?
            .execute(named_params! {
                ":day": self.day,
                ":status": self.status,
                ":currency": self.currency,
                ":courier_id": self.courier_id,
            })?;
        Ok(())
    }
}

/// The statements whose rows, added up, are the totals of the orders placed from `from`
/// until `to` (unix milliseconds, each bound optional). Each row is
/// `(status, currency, courier_id or NULL, orders, total_cents)`.
pub(super) fn totals_queries(from: Option<i64>, to: Option<i64>) -> Vec<(String, Criteria)> {
    // The whole days of the period: from the first day starting at or after `from` until
    // the day `to` falls in.
    let first_day = from.map(|from| day_of(from + DAY_MS - 1));
    let end_day = to.map(day_of);
    if let (Some(first), Some(end)) = (first_day, end_day)
        && first >= end
    {
        return vec![orders_placed(from, to)];
    }
    let mut queries = vec![tallies_of_days(first_day, end_day)];
    if let (Some(from), Some(first)) = (from, first_day)
        && from < first * DAY_MS
    {
        queries.push(orders_placed(Some(from), Some(first * DAY_MS)));
    }
    if let (Some(to), Some(end)) = (to, end_day)
        && end * DAY_MS < to
    {
        queries.push(orders_placed(Some(end * DAY_MS), Some(to)));
    }
    queries
}

/// The orders themselves, found through `orders_created_at`.
fn orders_placed(from: Option<i64>, to: Option<i64>) -> (String, Criteria) {
    let criteria = Criteria::new()
        .and_some("created_at >= :from", ":from", from)
        .and_some("created_at < :to", ":to", to);
    let sql = format!(
        "SELECT status, currency, courier_id, COUNT(*), SUM(total_cents) FROM orders{}
         GROUP BY status, currency, courier_id",
        criteria.where_clause()
    );
    (sql, criteria)
}

/// The tallies of the days from `first` until `end`, through the primary key.
fn tallies_of_days(first: Option<i64>, end: Option<i64>) -> (String, Criteria) {
    let criteria = Criteria::new()
        .and_some("day >= :first", ":first", first)
        .and_some("day < :end", ":end", end);
    let sql = format!(
        "SELECT status, currency, NULLIF(courier_id, ''), SUM(orders), SUM(total_cents)
         FROM order_tallies{} GROUP BY status, currency, courier_id",
        criteria.where_clause()
    );
    (sql, criteria)
}

/// The sums of the rows of `totals_queries`, as the core wants them.
#[derive(Default)]
pub(super) struct Totals {
    per_status: BTreeMap<String, u64>,
    delivered_revenue: BTreeMap<String, i64>,
    deliveries_per_courier: BTreeMap<String, u64>,
}

impl Totals {
    pub(super) fn add(
        &mut self,
        status: String,
        currency: String,
        courier_id: Option<String>,
        orders: i64,
        total_cents: i64,
    ) -> anyhow::Result<()> {
        let orders = u64::try_from(orders).context("a negative count of orders")?;
        if orders == 0 {
            return Ok(());
        }
        let delivered = status == OrderStatus::Delivered.as_str();
        *self.per_status.entry(status).or_default() += orders;
        if delivered {
            *self.delivered_revenue.entry(currency).or_default() += total_cents;
            if let Some(courier_id) = courier_id {
                *self.deliveries_per_courier.entry(courier_id).or_default() += orders;
            }
        }
        Ok(())
    }

    pub(super) fn into_order_totals(self) -> anyhow::Result<OrderTotals> {
        Ok(OrderTotals {
            per_status: self
                .per_status
                .into_iter()
                .map(|(status, n)| Ok((status.parse().map_err(|e: String| anyhow!(e))?, n)))
                .collect::<anyhow::Result<_>>()?,
            delivered_revenue: self
                .delivered_revenue
                .into_iter()
                .map(|(currency, sum)| {
                    Ok((
                        Currency::parse(&currency).map_err(|e| anyhow!("currency: {e}"))?,
                        sum,
                    ))
                })
                .collect::<anyhow::Result<_>>()?,
            deliveries_per_courier: self
                .deliveries_per_courier
                .into_iter()
                .map(|(courier_id, n)| Ok((courier_id.parse()?, n)))
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::criteria::{migrated_connection, query_plan};
    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    fn period_sqls(from: Option<i64>, to: Option<i64>) -> Vec<String> {
        totals_queries(from, to)
            .into_iter()
            .map(|(sql, _)| sql)
            .collect()
    }

    #[test]
    fn a_period_within_one_day_counts_its_orders_only() {
        let queries = period_sqls(Some(10 * DAY_MS + HOUR_MS), Some(10 * DAY_MS + 5 * HOUR_MS));

        assert_eq!(queries.len(), 1);
        assert!(queries[0].contains("FROM orders"), "{}", queries[0]);
    }

    #[test]
    fn a_long_period_adds_whole_days_and_counts_its_two_partial_days() {
        let queries = totals_queries(Some(10 * DAY_MS + HOUR_MS), Some(40 * DAY_MS + HOUR_MS));

        assert_eq!(queries.len(), 3);
        assert!(queries[0].0.contains("FROM order_tallies"));
        let bounds: Vec<Vec<&str>> = queries
            .iter()
            .map(|(_, criteria)| {
                criteria
                    .params(&[])
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect()
            })
            .collect();
        assert_eq!(
            bounds,
            [
                vec![":first", ":end"],
                vec![":from", ":to"],
                vec![":from", ":to"]
            ]
        );
    }

    #[test]
    fn a_period_on_day_boundaries_reads_tallies_only() {
        let queries = period_sqls(Some(10 * DAY_MS), Some(40 * DAY_MS));

        assert_eq!(queries.len(), 1);
        assert!(queries[0].contains("FROM order_tallies"));
    }

    #[test]
    fn an_open_period_reads_every_tally_and_no_order() {
        let queries = period_sqls(None, None);

        assert_eq!(queries.len(), 1);
        assert!(!queries[0].contains("WHERE"), "{}", queries[0]);
        assert!(queries[0].contains("FROM order_tallies"));
    }

    /// The stats never read the orders table from end to end: whole days come from the
    /// tallies' primary key, partial days from the index on the order time.
    #[test]
    fn every_stats_query_reads_through_an_index() {
        let connection = migrated_connection();
        for (from, to) in [
            (Some(10 * DAY_MS + HOUR_MS), Some(40 * DAY_MS + HOUR_MS)),
            (Some(10 * DAY_MS + HOUR_MS), Some(10 * DAY_MS + 2 * HOUR_MS)),
            (None, Some(40 * DAY_MS + HOUR_MS)),
            (Some(10 * DAY_MS + HOUR_MS), None),
        ] {
            for sql in period_sqls(from, to) {
                let plan = query_plan(&connection, &sql);
                assert!(
                    plan.contains("SEARCH orders USING INDEX orders_created_at")
                        || plan.contains("SEARCH order_tallies USING PRIMARY KEY"),
                    "{from:?}..{to:?}: {plan}"
                );
                assert!(!plan.contains("SCAN orders"), "{plan}");
            }
        }
    }
}
