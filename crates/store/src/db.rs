//! The small SQL interface every operation is written against, so that one body of SQL and
//! logic serves both backends.
//!
//! SQL is written with SQLite-style numbered placeholders (`?1`, `?2`, ...); the PostgreSQL
//! connection rewrites them to `$1`, `$2`, ... when it prepares a statement. Values cross the
//! interface as [`Val`] (NULL, 64-bit integer, double, text), the only types the schema uses;
//! a result [`Row`] is read by column name.
//! The SQL itself sticks to what SQLite, PostgreSQL and PostgreSQL-wire distributed engines
//! (CockroachDB) all accept: plain `BIGINT`/`DOUBLE PRECISION`/`TEXT` columns, `INSERT ... ON
//! CONFLICT`, no sequences, no advisory locks, no extensions.

use crate::error::StoreError;
use std::sync::Arc;

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<deconflict_core::PartyId> for Val {
    fn from(v: deconflict_core::PartyId) -> Self {
        Val::Int(v.get())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Val::Real(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}

impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(v.clone())
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// Builds an array of [`Val`] from values of mixed types.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { [$($crate::db::Val::from($v)),*] };
}
pub(crate) use vals;

/// One result row: its values, and the names of the result's columns (shared by every row of
/// one result). Values are read BY COLUMN NAME, the name being the column's (`v.id` is `id`)
/// or its `AS` alias; the decoders of the `rows` module do so.
pub(crate) struct Row {
    names: Arc<[String]>,
    vals: Vec<Val>,
}

fn col_err(name: &str, want: &str, got: &Val) -> StoreError {
    StoreError::Storage(format!("result column {name}: expected {want}, found {got:?}"))
}

impl Row {
    /// A row of `vals`, named by `names` (the same length).
    pub(crate) fn new(names: Arc<[String]>, vals: Vec<Val>) -> Row {
        Row { names, vals }
    }

    fn at(&self, name: &str) -> Result<&Val, StoreError> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.vals.get(i))
            .ok_or_else(|| StoreError::Storage(format!("result has no column {name}")))
    }

    pub(crate) fn i64(&self, name: &str) -> Result<i64, StoreError> {
        match self.at(name)? {
            Val::Int(v) => Ok(*v),
            other => Err(col_err(name, "an integer", other)),
        }
    }

    pub(crate) fn opt_i64(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.at(name)? {
            Val::Null => Ok(None),
            Val::Int(v) => Ok(Some(*v)),
            other => Err(col_err(name, "an integer or NULL", other)),
        }
    }

    /// A party's number.
    pub(crate) fn party(&self, name: &str) -> Result<deconflict_core::PartyId, StoreError> {
        self.i64(name).map(deconflict_core::PartyId)
    }

    /// A party's number, or NULL.
    pub(crate) fn opt_party(&self, name: &str) -> Result<Option<deconflict_core::PartyId>, StoreError> {
        Ok(self.opt_i64(name)?.map(deconflict_core::PartyId))
    }

    pub(crate) fn f64(&self, name: &str) -> Result<f64, StoreError> {
        match self.at(name)? {
            Val::Real(v) => Ok(*v),
            // SQLite hands back whole REAL values written as integers as integers.
            Val::Int(v) => Ok(*v as f64),
            other => Err(col_err(name, "a number", other)),
        }
    }

    pub(crate) fn opt_f64(&self, name: &str) -> Result<Option<f64>, StoreError> {
        match self.at(name)? {
            Val::Null => Ok(None),
            Val::Real(v) => Ok(Some(*v)),
            Val::Int(v) => Ok(Some(*v as f64)),
            other => Err(col_err(name, "a number or NULL", other)),
        }
    }

    pub(crate) fn text(&self, name: &str) -> Result<String, StoreError> {
        match self.at(name)? {
            Val::Text(v) => Ok(v.clone()),
            other => Err(col_err(name, "text", other)),
        }
    }

    pub(crate) fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.at(name)? {
            Val::Null => Ok(None),
            Val::Text(v) => Ok(Some(v.clone())),
            other => Err(col_err(name, "text or NULL", other)),
        }
    }
}

/// A connection (inside whatever transaction its owner opened).
pub(crate) trait Db {
    /// Runs a statement; returns the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError>;
    /// Opens a read-only transaction that sees one consistent snapshot.
    fn begin_snapshot(&mut self) -> Result<(), StoreError>;
    /// Ends the transaction [`Db::begin_snapshot`] opened.
    fn end_snapshot(&mut self) -> Result<(), StoreError>;
}

impl dyn Db + '_ {
    pub(crate) fn query_opt(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub(crate) fn query_one(&mut self, sql: &str, params: &[Val]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Storage("query returned no row".into()))
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Real(v) => ValueRef::Real(*v),
            Val::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

/// A SQLite connection seen through [`Db`].
pub(crate) struct SqliteDb<'a>(pub &'a rusqlite::Connection);

impl Db for SqliteDb<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let n = self
            .0
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(sql)?;
        let names: Arc<[String]> = stmt.column_names().into_iter().map(str::to_string).collect();
        let n = names.len();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Real(v),
                    ValueRef::Text(t) => Val::Text(
                        std::str::from_utf8(t)
                            .map_err(|e| StoreError::Storage(format!("result column {i}: {e}")))?
                            .to_string(),
                    ),
                    ValueRef::Blob(_) => {
                        return Err(StoreError::Storage(format!("result column {i}: unexpected BLOB")))
                    }
                });
            }
            out.push(Row::new(Arc::clone(&names), row));
        }
        Ok(out)
    }

    fn begin_snapshot(&mut self) -> Result<(), StoreError> {
        self.0.execute_batch("BEGIN")?;
        Ok(())
    }

    fn end_snapshot(&mut self) -> Result<(), StoreError> {
        if !self.0.is_autocommit() {
            self.0.execute_batch("COMMIT")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(sql: &str) -> Vec<Row> {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db: &mut dyn Db = &mut SqliteDb(&conn);
        db.query(sql, &[]).unwrap()
    }

    #[test]
    fn rows_are_read_by_column_name_or_alias() {
        let rows = query(
            "SELECT 7 AS seq, 2.5 AS time, 'x' AS name, NULL AS gone, 3 AS whole \
             UNION ALL SELECT 8, 3.5, 'y', 4, 5",
        );
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!(r.i64("seq").unwrap(), 7);
        assert_eq!(r.f64("time").unwrap(), 2.5);
        assert_eq!(r.text("name").unwrap(), "x");
        assert_eq!(r.opt_i64("gone").unwrap(), None);
        assert_eq!(r.opt_text("gone").unwrap(), None);
        // An integer reads as a number too (SQLite hands back whole REAL values as integers).
        assert_eq!(r.f64("whole").unwrap(), 3.0);
        assert_eq!(rows[1].opt_i64("gone").unwrap(), Some(4));
    }

    #[test]
    fn a_missing_or_mistyped_column_is_a_storage_error() {
        let rows = query("SELECT 'x' AS name");
        let r = &rows[0];
        match r.i64("seq") {
            Err(StoreError::Storage(m)) => assert!(m.contains("no column seq"), "{m}"),
            other => panic!("{other:?}"),
        }
        match r.i64("name") {
            Err(StoreError::Storage(m)) => assert!(m.contains("column name: expected an integer"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
