//! Adapters layer (SQLite): a listing's WHERE clause made of the criteria actually present.
//!
//! `(:x IS NULL OR col = :x)` in one statement would be shorter, but SQLite fixes a
//! statement's plan when it is prepared, before the values are known: such a statement can
//! use neither an index on `col` nor the cursor's range, and reads the table from the top
//! until it has a page. A filter that matches little then reads everything. One statement
//! per shape of filter (a few per listing, each prepared once per connection) lets every
//! listing walk an index from the cursor down and stop after the page.

use rusqlite::ToSql;

/// Conditions joined by AND, each with the value of its one named parameter.
#[derive(Default)]
pub(super) struct Criteria {
    conditions: Vec<&'static str>,
    values: Vec<(&'static str, Box<dyn ToSql + Send>)>,
}

impl Criteria {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Adds `condition`, which names the parameter `name`, bound to `value`.
    pub(super) fn and(
        mut self,
        condition: &'static str,
        name: &'static str,
        value: impl ToSql + Send + 'static,
    ) -> Self {
        self.conditions.push(condition);
        self.values.push((name, Box::new(value)));
        self
    }

    /// Adds `condition` only when there is a value to compare with.
    pub(super) fn and_some(
        self,
        condition: &'static str,
        name: &'static str,
        value: Option<impl ToSql + Send + 'static>,
    ) -> Self {
        match value {
            Some(value) => self.and(condition, name, value),
            None => self,
        }
    }

    /// ` WHERE a AND b`, or nothing when no criterion is present.
    pub(super) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// The named parameters, plus `extra` (the page's `:limit`, say). Only the names the
    /// statement uses: rusqlite refuses an unknown one.
    pub(super) fn params<'a>(
        &'a self,
        extra: &[(&'a str, &'a dyn ToSql)],
    ) -> Vec<(&'a str, &'a dyn ToSql)> {
        self.values
            .iter()
            .map(|(name, value)| (*name, value.as_ref() as &dyn ToSql))
            .chain(extra.iter().copied())
            .collect()
    }
}

/// SQLite's plan for `sql`, one line per step (`SEARCH orders USING INDEX …`). The
/// parameters stay unbound: the plan is made before any value is known, as in production.
#[cfg(test)]
pub(super) fn query_plan(connection: &rusqlite::Connection, sql: &str) -> String {
    let mut statement = connection
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let mut rows = statement.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>("detail").unwrap());
    }
    steps.join("\n")
}

/// A connection on a new in-memory database with the whole schema.
#[cfg(test)]
pub(super) fn migrated_connection() -> rusqlite::Connection {
    let mut connection = rusqlite::Connection::open_in_memory().unwrap();
    super::migrations::migrate(&mut connection).unwrap();
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_present_criteria_reach_the_statement_and_its_parameters() {
        let criteria = Criteria::new()
            .and_some("a = :a", ":a", Some(1))
            .and_some("b = :b", ":b", None::<i64>)
            .and("c < :c", ":c", "x");
        let limit = 5;

        assert_eq!(criteria.where_clause(), " WHERE a = :a AND c < :c");
        let names: Vec<&str> = criteria
            .params(&[(":limit", &limit)])
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, [":a", ":c", ":limit"]);
    }

    #[test]
    fn no_criteria_means_no_where_clause() {
        assert_eq!(Criteria::new().where_clause(), "");
    }
}
