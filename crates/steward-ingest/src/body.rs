//! HTTP request bodies that carry Service Data (`POST /v1/records`,
//! `/v1/records:batch`, `/v1/cloudevents`): the bytes as received, checked
//! for their shape and handed to the JSON Lines or CloudEvents adapter. The
//! server and the `request_bodies` fuzz target both go through here.
//!
//! Shapes (media types from the API's OpenAPI document):
//!
//! | [`BodyShape`] | media type | body |
//! |---|---|---|
//! | `Record` | `application/json` | one JSON object, a record of the JSON Lines shape |
//! | `RecordArray` | `application/json` | a JSON array of such records |
//! | `JsonLines` | `application/x-ndjson` | JSON Lines, one record per line |
//! | `CloudEvent` | `application/cloudevents+json` | one CloudEvent 1.0 (structured mode) |
//! | `CloudEventBatch` | `application/cloudevents-batch+json` | a JSON array of CloudEvents (batch mode) |

use crate::{ParseOptions, Parsed};

/// The shape a request body must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// One record as a JSON object.
    Record,
    /// A JSON array of records.
    RecordArray,
    /// JSON Lines.
    JsonLines,
    /// One CloudEvent (structured mode).
    CloudEvent,
    /// A JSON array of CloudEvents (batch mode).
    CloudEventBatch,
}

impl BodyShape {
    /// Every shape.
    pub const ALL: [BodyShape; 5] = [
        BodyShape::Record,
        BodyShape::RecordArray,
        BodyShape::JsonLines,
        BodyShape::CloudEvent,
        BodyShape::CloudEventBatch,
    ];
}

/// A body that is not of its shape. The message names the position and how
/// to fix it, and never quotes the body (it may hold Service Data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON at all.
    #[error("the body is not JSON ({kind} error at line {line} column {column})")]
    NotJson {
        /// serde_json's class of error: syntax, eof, data or io.
        kind: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// JSON of the wrong shape (an array where one object was expected, …).
    #[error("{0}")]
    WrongShape(&'static str),
}

/// Parse a request body of `shape` into records, skips and rejections
/// (positions as the adapters give them: the 1-based record, line or event).
/// `source` prefixes every rejection (`records:3: $.fields.x: …`).
///
/// Errors: [`BodyError`] when the body is not JSON of the shape; records
/// that do not fit the closed schema (N1.3) are rejections in [`Parsed`].
pub fn parse_body(
    shape: BodyShape,
    source: &str,
    bytes: &[u8],
    opts: &ParseOptions,
) -> Result<Parsed, BodyError> {
    let not_json = |e: &serde_json::Error| BodyError::NotJson {
        kind: format!("{:?}", e.classify()).to_lowercase(),
        line: e.line(),
        column: e.column(),
    };
    match shape {
        BodyShape::JsonLines => Ok(crate::jsonl::parse(source, bytes, opts)),
        BodyShape::Record => {
            let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| not_json(&e))?;
            if !v.is_object() {
                return Err(BodyError::WrongShape(
                    "the body must be one JSON object; send arrays to /v1/records:batch",
                ));
            }
            Ok(crate::jsonl::parse(source, &to_lines(&[v]), opts))
        }
        BodyShape::RecordArray => {
            let v: Vec<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| {
                if e.is_data() {
                    BodyError::WrongShape("the body must be a JSON array of records")
                } else {
                    not_json(&e)
                }
            })?;
            Ok(crate::jsonl::parse(source, &to_lines(&v), opts))
        }
        BodyShape::CloudEvent | BodyShape::CloudEventBatch => {
            let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| not_json(&e))?;
            let one = shape == BodyShape::CloudEvent;
            if one && !v.is_object() {
                return Err(BodyError::WrongShape(
                    "structured mode carries one event: a JSON object",
                ));
            }
            if !one && !v.is_array() {
                return Err(BodyError::WrongShape(
                    "batch mode carries a JSON array of events",
                ));
            }
            // Compact, so the adapter reads it as one structured event or one batch.
            let compact = serde_json::to_vec(&v).unwrap_or_default();
            Ok(crate::cloudevents::parse(source, &compact, opts))
        }
    }
}

/// Items as JSON Lines: one compact JSON value per line, so item N is line N.
fn to_lines(items: &[serde_json::Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in items {
        out.extend(serde_json::to_vec(v).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::Product;

    fn opts() -> ParseOptions {
        ParseOptions {
            year: 2024,
            product: Product::CloudPlatform,
        }
    }

    #[test]
    fn shapes_are_checked_and_items_are_numbered_from_one() {
        let rec =
            br#"{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann"}}"#;
        let p = parse_body(BodyShape::Record, "record", rec, &opts()).unwrap();
        assert_eq!(p.records.len(), 1);
        let e = parse_body(BodyShape::Record, "record", b"[1]", &opts()).unwrap_err();
        assert!(e.to_string().contains("one JSON object"), "{e}");
        let e = parse_body(BodyShape::RecordArray, "records", b"{}", &opts()).unwrap_err();
        assert_eq!(
            e,
            BodyError::WrongShape("the body must be a JSON array of records")
        );
        let e = parse_body(BodyShape::CloudEvent, "events", b"{\"a\":", &opts()).unwrap_err();
        assert!(matches!(e, BodyError::NotJson { kind, line: 1, column: 5 } if kind == "eof"));
        // Item 2 of the array is refused and named as item 2; the body is never quoted.
        let arr = br#"[{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann"}},
                       {"subject":"username:bob","kind":"account.profile","fields":{"secret_field":"x"}}]"#;
        let p = parse_body(BodyShape::RecordArray, "records", arr, &opts()).unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.rejected.len(), 1);
        assert!(
            p.rejected[0].error.starts_with("records:2: "),
            "{}",
            p.rejected[0].error
        );
        assert!(!p.rejected[0].error.contains("bob"));
    }
}
