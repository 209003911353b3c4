//! Registry rows as JSON (issue 12): a row that does not parse is an error
//! naming its table and key, never skipped; a row that does not serialise
//! is an error, never an empty string stored.

use serde::Serialize;
use serde::de::DeserializeOwned;
use steward_store::{RegistryTable, StoreError};

use crate::CoreError;

/// Parse the body of row `key` of registry `table`.
///
/// Errors: [`CoreError::Store`] ([`StoreError::Corrupt`]) naming the table,
/// the key and serde's reason (a position and a type, never a value), and
/// how to fix it.
pub(crate) fn parse_row<T: DeserializeOwned>(
    table: RegistryTable,
    key: &str,
    body: &str,
) -> Result<T, CoreError> {
    serde_json::from_str(body).map_err(|e| {
        CoreError::Store(StoreError::Corrupt(format!(
            "registry {}, row `{key}` does not parse ({e}): repair or remove it",
            table.table()
        )))
    })
}

/// The JSON body of a row to store (a registry row or a principal).
///
/// Errors: [`CoreError::Io`] when the value does not serialise (a map with
/// non-string keys, a failing custom serialiser): nothing is written, where
/// an empty body would have been stored before.
pub(crate) fn row_json<T: Serialize>(v: &T) -> Result<String, CoreError> {
    serde_json::to_string(v).map_err(|e| CoreError::Io {
        path: "registry row".into(),
        reason: format!(
            "does not serialise as JSON ({e}); nothing was written: report this as a bug"
        ),
    })
}

#[cfg(test)]
mod tests;
