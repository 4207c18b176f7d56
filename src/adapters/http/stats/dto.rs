//! Adapters layer (HTTP): the JSON body of `GET /stats`.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::adapters::http::fields::Nullable;
use crate::adapters::http::orders::dto::OrderStatusView;
use crate::core::orders::OrderStats;

/// How many orders are in one status.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct StatusCount {
    pub status: OrderStatusView,
    pub count: u64,
}

/// The sum of delivered orders' totals in one currency.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct Revenue {
    /// ISO 4217 code.
    pub currency: String,
    /// Minor units.
    pub total_cents: i64,
}

/// How many orders one courier delivered.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct CourierDeliveryCount {
    pub courier_id: Uuid,
    /// `null` if the account was deleted since.
    pub name: Nullable<String>,
    pub deliveries: u64,
}

/// Figures over the orders placed in the period.
#[derive(Object, Debug, Clone, PartialEq)]
#[oai(rename = "Stats")]
pub struct StatsBody {
    /// Start of the period (inclusive); `null` when open.
    pub from: Nullable<DateTime<Utc>>,
    /// End of the period (exclusive); `null` when open.
    pub to: Nullable<DateTime<Utc>>,
    /// Every status, in workflow order, with its count.
    pub orders_per_status: Vec<StatusCount>,
    /// Revenue of delivered orders, per currency.
    pub revenue: Vec<Revenue>,
    /// Couriers by deliveries, most first.
    pub deliveries_per_courier: Vec<CourierDeliveryCount>,
}

impl From<OrderStats> for StatsBody {
    fn from(stats: OrderStats) -> Self {
        StatsBody {
            from: stats.period.from.into(),
            to: stats.period.to.into(),
            orders_per_status: stats
                .per_status
                .into_iter()
                .map(|(status, count)| StatusCount {
                    status: status.into(),
                    count,
                })
                .collect(),
            revenue: stats
                .delivered_revenue
                .into_iter()
                .map(|(currency, total_cents)| Revenue {
                    currency: currency.as_str().to_owned(),
                    total_cents,
                })
                .collect(),
            deliveries_per_courier: stats
                .deliveries_per_courier
                .into_iter()
                .map(|courier| CourierDeliveryCount {
                    courier_id: courier.courier_id.as_uuid(),
                    name: courier.name.into(),
                    deliveries: courier.deliveries,
                })
                .collect(),
        }
    }
}
