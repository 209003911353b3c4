//! [`PrincipalStore`] and [`RegistryStore`] reads.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::registry_sql::{self, FindParam};
use crate::schema::Backend;
use crate::types::*;

impl PrincipalStore for SqliteStore {
    fn principal(&self, name: &str) -> Result<Option<(String, bool)>, StoreError> {
        self.conn
            .prepare_cached("SELECT body, revoked FROM principals WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row(params![name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.e(e))
    }

    fn principals(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        let mut s = self
            .conn
            .prepare("SELECT name, body, revoked FROM principals ORDER BY name")
            .map_err(|e| self.e(e))?;
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))
    }
}

impl RegistryStore for SqliteStore {
    fn registry_get(&self, table: RegistryTable, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT body FROM {} WHERE id = ?1", table.table()))
            .and_then(|mut s| s.query_row(params![id], |r| r.get(0)).optional())
            .map_err(|e| self.e(e))
    }

    fn registry_list(&self, table: RegistryTable) -> Result<Vec<(String, String)>, StoreError> {
        let mut s = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, body FROM {} ORDER BY id",
                table.table()
            ))
            .map_err(|e| self.e(e))?;
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))
    }

    fn registry_find(
        &self,
        table: RegistryTable,
        query: RegistryQuery<'_>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (sql, params) = registry_sql::find(Backend::Sqlite, table, query)?;
        let params: Vec<&dyn rusqlite::ToSql> = params
            .iter()
            .map(|p| match p {
                FindParam::Text(t) => t as &dyn rusqlite::ToSql,
                FindParam::Int(n) => n,
            })
            .collect();
        let mut s = self.conn.prepare_cached(&sql).map_err(|e| self.e(e))?;
        let rows = s
            .query_map(params.as_slice(), |r| {
                Ok::<(String, String), _>((r.get(0)?, r.get(1)?))
            })
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))?;
        Ok(rows
            .into_iter()
            .filter(|(id, _)| registry_sql::keep(query, id))
            .collect())
    }
}
