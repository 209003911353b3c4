//! [`PrincipalStore`] and [`RegistryStore`] reads.

use postgres::types::ToSql;

use super::PostgresStore;
use crate::registry_sql::{self, FindParam};
use crate::schema::Backend;
use crate::types::*;

impl PrincipalStore for PostgresStore {
    fn principal(&self, name: &str) -> Result<Option<(String, bool)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT body, revoked FROM principals WHERE name = $1")?;
            Ok(match c.client.query_opt(&st, &[&name])? {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            })
        })
    }

    fn principals(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT name, body, revoked FROM principals ORDER BY name")?;
            c.client
                .query(&st, &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
        })
    }
}

impl RegistryStore for PostgresStore {
    fn registry_get(&self, table: RegistryTable, id: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt(&format!("SELECT body FROM {} WHERE id = $1", table.table()))?;
            Ok(match c.client.query_opt(&st, &[&id])? {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            })
        })
    }

    fn registry_list(&self, table: RegistryTable) -> Result<Vec<(String, String)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt(&format!(
                "SELECT id, body FROM {} ORDER BY id",
                table.table()
            ))?;
            c.client
                .query(&st, &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }

    fn registry_find(
        &self,
        table: RegistryTable,
        query: RegistryQuery<'_>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (sql, params) = registry_sql::find(Backend::Postgres, table, query)?;
        let rows: Vec<(String, String)> = self.with_conn(|c| {
            let st = c.stmt(&sql)?;
            let params: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| match p {
                    FindParam::Text(t) => t as &(dyn ToSql + Sync),
                    FindParam::Int(n) => n,
                })
                .collect();
            c.client
                .query(&st, &params)?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })?;
        Ok(rows
            .into_iter()
            .filter(|(id, _)| registry_sql::keep(query, id))
            .collect())
    }
}
