//! `focus`: FinOps FOCUS 1.0 cost and usage CSV -> `billing.charge` records (N2.2).
//!
//! Input: a CSV file (RFC 4180: comma-separated, `"`-quoted cells with `""`
//! for a quote, cells may span lines) whose first row is the header of FOCUS
//! 1.0 column names (FinOps Open Cost and Usage Specification 1.0,
//! <https://focus.finops.org>), e.g. `BillingAccountId`.
//!
//! Each header column maps to the snake_case field of the closed schema of
//! `billing.charge` (`BillingAccountId` -> `billing_account_id`,
//! `SkuPriceId` -> `sku_price_id`), with `Id` -> `charge_id`; snake_case
//! headers are accepted as they are. The header must hold `BillingAccountId`.
//! A header column outside the schema, a repeated column or a header that is
//! not UTF-8 fails the whole input with an [`IngestError`] naming the column
//! and `file:line` (N1.3): nothing of the file is read.
//!
//! Each row becomes one record: cells that are empty or `NULL` are omitted;
//! all other values are kept as strings, exactly as written (costs keep their
//! decimal digits). The subject is the row's `BillingAccountId` (identifier
//! kind `billing_account`); the record's `occurred_at` is `ChargePeriodStart`
//! as RFC 3339 UTC (`2024-09-18 22:00:00` -> `2024-09-18T22:00:00Z`; FOCUS
//! date-times are UTC), when it is one.
//!
//! A last row cut short by the end of the file (inside a quoted cell, or
//! with fewer cells than the header and no line end) is a
//! [`crate::Rejection`] at the line where it starts.
//!
//! Skips, at the line where the row starts: a row with the wrong number of
//! cells is [`SkipReason::Malformed`]; a cell that is not UTF-8 is
//! [`SkipReason::InvalidUtf8`]; a row over 1 MiB is
//! [`SkipReason::LineTooLong`]; a row without `BillingAccountId` is
//! [`SkipReason::NoSubject`]. Empty lines between rows are ignored (RFC 4180
//! has none).

use serde_json::Value;
use steward_domain::{Category, Fields, Kind, NewRecord};

use crate::{IngestError, MAX_LINE_BYTES, ParseOptions, Parsed, SkipReason, lines, timefmt};

/// The FOCUS column that names a charge's data subject.
pub const SUBJECT_COLUMN: &str = "BillingAccountId";

/// `PascalCase` to `snake_case` (`SkuPriceId` -> `sku_price_id`,
/// `HTTPStatus` -> `http_status`).
fn snake(col: &str) -> String {
    let chars: Vec<char> = col.chars().collect();
    let mut out = String::with_capacity(col.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The schema field of a header column, if it has one.
fn field_of(kind: Kind, column: &str) -> Option<&'static str> {
    let column = column.trim();
    if column == "Id" {
        return Some("charge_id");
    }
    kind.field(&snake(column)).map(|f| f.name)
}

/// Whether a header cell looks like a column name (and so may be shown).
fn looks_like_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && s.len() <= 64
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The FOCUS 1.0 names of the schema's columns (`BillingAccountId`, ..., `Id`).
fn focus_names(kind: Kind) -> String {
    kind.fields()
        .iter()
        .map(|f| {
            if f.name == "charge_id" {
                return "Id".to_owned();
            }
            f.name
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|h| h.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `row` (raw CSV bytes) ends inside a quoted cell: the file was cut short.
fn ends_in_open_quote(row: &[u8]) -> bool {
    let (mut quoted, mut at_start, mut i) = (false, true, 0);
    while i < row.len() {
        let c = row[i];
        if quoted {
            if c == b'"' {
                if row.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if c == b'"' && at_start {
            quoted = true;
            at_start = false;
        } else {
            at_start = matches!(c, b',' | b'\n' | b'\r');
        }
        i += 1;
    }
    quoted
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Line numbers of byte offsets, counted incrementally (offsets only grow).
///
/// The csv crate's record positions may point at the line terminator before
/// a record (after `\r\n`, the `\n`) or at blank lines it skips, with the line
/// number of the line before; so the line is counted here from the first byte
/// of the record's content.
struct LineCounter<'a> {
    body: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(body: &'a [u8]) -> Self {
        LineCounter {
            body,
            at: 0,
            line: 1,
        }
    }

    /// The offset of the first byte at or after `offset` that is not a line
    /// terminator, and its 1-based line.
    fn locate(&mut self, offset: usize) -> (usize, usize) {
        let mut start = offset.max(self.at).min(self.body.len());
        while matches!(self.body.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let seg = self.body.get(self.at..start).unwrap_or_default();
        self.line += memchr::memchr_iter(b'\n', seg).count();
        self.at = start;
        (start, self.line)
    }
}

/// Parse a FOCUS 1.0 CSV into `billing.charge` records (N2.2). See the
/// module docs.
///
/// Errors (the whole input, nothing read): [`IngestError::UnknownColumn`],
/// [`IngestError::DuplicateColumn`], [`IngestError::MissingColumn`],
/// [`IngestError::HeaderNotUtf8`]. An empty input has no header and no rows:
/// zero records, no error.
pub fn parse(source: &str, input: &[u8], opts: &ParseOptions) -> Result<Parsed, IngestError> {
    let mut out = Parsed::default();
    let body = lines::strip_bom(input);
    let kind = match Kind::lookup(Category::Billing, "charge") {
        Ok(k) => k,
        Err(e) => {
            out.reject(source, 1, e);
            return Ok(out);
        }
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rec = csv::ByteRecord::new();

    // Header.
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) | Err(_) => return Ok(out),
    }
    let mut lc = LineCounter::new(body);
    let (_, header_line) = lc.locate(rec.position().map_or(0, |p| to_usize(p.byte())));
    let mut columns: Vec<&'static str> = Vec::with_capacity(rec.len());
    for (i, cell) in rec.iter().enumerate() {
        let name = std::str::from_utf8(cell).map_err(|_| IngestError::HeaderNotUtf8 {
            file: source.to_owned(),
            line: header_line,
        })?;
        let Some(field) = field_of(kind, name) else {
            let name = name.trim();
            return Err(IngestError::UnknownColumn {
                file: source.to_owned(),
                line: header_line,
                position: i + 1,
                shown: if looks_like_name(name) {
                    format!(" `{name}`")
                } else {
                    String::new()
                },
                allowed: focus_names(kind),
            });
        };
        if columns.contains(&field) {
            return Err(IngestError::DuplicateColumn {
                file: source.to_owned(),
                line: header_line,
                position: i + 1,
                column: name.trim().chars().take(64).collect(),
            });
        }
        columns.push(field);
    }
    if !columns.contains(&"billing_account_id") {
        return Err(IngestError::MissingColumn {
            file: source.to_owned(),
            line: header_line,
            column: SUBJECT_COLUMN,
        });
    }

    // Rows.
    loop {
        let before = to_usize(rdr.position().byte());
        let read = rdr.read_byte_record(&mut rec);
        let after = to_usize(rdr.position().byte());
        if matches!(read, Ok(false)) {
            break;
        }
        let (start, line) = lc.locate(rec.position().map_or(before, |p| to_usize(p.byte())));
        if read.is_err() {
            out.skip(line, SkipReason::Malformed);
            if after <= before {
                break;
            }
            continue;
        }
        let raw = body.get(start..after).unwrap_or_default();
        if raw.len() > MAX_LINE_BYTES {
            out.skip(line, SkipReason::LineTooLong);
            continue;
        }
        // A last row the end of the file cuts short (inside a quoted cell,
        // or with fewer cells and no line end) is a record that lost part of
        // itself: rejected at its line, not skipped (issue 18).
        if after >= body.len() && ends_in_open_quote(raw) {
            out.reject(
                source,
                line,
                "the row is cut short inside a quoted cell (the file ends before the closing quote): complete the row or remove it",
            );
            continue;
        }
        if after >= body.len() && rec.len() < columns.len() && !raw.ends_with(b"\n") {
            out.reject(
                source,
                line,
                format!(
                    "the row is cut short: it has {} of the header's {} cells and the file ends without a line end: complete the row or remove it",
                    rec.len(),
                    columns.len()
                ),
            );
            continue;
        }
        if rec.len() != columns.len() {
            out.skip(line, SkipReason::Malformed);
            continue;
        }
        match row(kind, &columns, &rec, opts) {
            Ok(Some(r)) => out.records.push((line, r)),
            Ok(None) => out.skip(line, SkipReason::NoSubject),
            Err(RowError::Utf8) => out.skip(line, SkipReason::InvalidUtf8),
            Err(RowError::Domain(e)) => out.reject(source, line, format!("{SUBJECT_COLUMN}: {e}")),
        }
    }
    Ok(out)
}

enum RowError {
    Utf8,
    Domain(steward_domain::DomainError),
}

/// One row to a record; `None` when it has no billing account.
fn row(
    kind: Kind,
    columns: &[&'static str],
    rec: &csv::ByteRecord,
    opts: &ParseOptions,
) -> Result<Option<NewRecord>, RowError> {
    let mut fields = Fields::new();
    for (name, cell) in columns.iter().zip(rec.iter()) {
        let v = std::str::from_utf8(cell).map_err(|_| RowError::Utf8)?;
        if v.is_empty() || v == "NULL" {
            continue;
        }
        fields.insert((*name).to_owned(), Value::String(v.to_owned()));
    }
    if !fields.contains_key("billing_account_id") {
        return Ok(None);
    }
    let occurred_at = fields
        .get("charge_period_start")
        .and_then(Value::as_str)
        .and_then(timefmt::focus_utc);
    NewRecord::new(kind, None, opts.product, occurred_at, fields)
        .map(Some)
        .map_err(RowError::Domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::{IdentifierKind, Product};

    fn opts() -> ParseOptions {
        ParseOptions {
            year: 2024,
            product: Product::CloudPlatform,
        }
    }

    const HEADER: &str = "BillingAccountId,BilledCost,ChargePeriodStart,Id,Tags\n";

    #[test]
    fn rows_map_columns_to_snake_case_fields_n2_2() {
        let input = format!(
            "{HEADER}\"1234567890123\",0.00000080000,\"2024-09-18 22:00:00\",11472,\"{{\"\"env\"\": \"\"dev\"\"}}\"\r\n20209880,NULL,,7,NULL"
        );
        let p = parse("focus.csv", input.as_bytes(), &opts()).unwrap();
        assert_eq!(p.records.len(), 2, "{p:?}");
        let (line, r) = &p.records[0];
        assert_eq!(*line, 2);
        assert_eq!(r.kind().full_name(), "billing.charge");
        assert_eq!(r.subject().kind(), IdentifierKind::BillingAccount);
        assert_eq!(r.subject().value(), "1234567890123");
        let f = r.fields();
        assert_eq!(f["billed_cost"], "0.00000080000");
        assert_eq!(f["charge_id"], "11472");
        assert_eq!(f["tags"], r#"{"env": "dev"}"#);
        assert_eq!(r.occurred_at(), Some("2024-09-18T22:00:00Z"));
        let (line, r) = &p.records[1];
        assert_eq!(*line, 3);
        assert_eq!(
            r.fields().keys().collect::<Vec<_>>(),
            vec!["billing_account_id", "charge_id"]
        );
        assert_eq!(r.occurred_at(), None);
    }

    #[test]
    fn unknown_column_fails_the_whole_file_at_line_1_n1_3() {
        let e = parse(
            "focus.csv",
            b"BillingAccountId,x_CustomerEmail\n1,a@b.c\n",
            &opts(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("focus.csv:1: column 2 `x_CustomerEmail` is not a FOCUS 1.0 column of billing.charge: remove it or rename it to one of AvailabilityZone, BilledCost, BillingAccountId,"),
            "{msg}"
        );
        assert!(msg.contains(", Id, ") && msg.contains("(N1.3"), "{msg}");
        // A data row where the header should be: the cell is not shown.
        let e = parse("focus.csv", b"\"1234567890123\",\"a@b.c\"\n", &opts()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("focus.csv:1: column 1 is not a FOCUS"),
            "{e}"
        );
        assert!(!e.to_string().contains("1234567890123"));
        let e = parse("focus.csv", b"BilledCost,ChargeClass\n", &opts()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "focus.csv:1: the header has no `BillingAccountId` column: add it (it identifies the data subject of each charge, N2.2)"
        );
        let e = parse(
            "focus.csv",
            b"BillingAccountId,billing_account_id\n",
            &opts(),
        )
        .unwrap_err();
        assert!(
            matches!(e, IngestError::DuplicateColumn { position: 2, .. }),
            "{e}"
        );
        let e = parse("focus.csv", b"BillingAccountId,Bil\xffled\n", &opts()).unwrap_err();
        assert_eq!(
            e,
            IngestError::HeaderNotUtf8 {
                file: "focus.csv".into(),
                line: 1
            }
        );
    }

    #[test]
    fn wrong_width_utf8_long_and_subjectless_rows_are_skipped_and_a_truncated_row_rejected() {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(b"1,2,3\n"); // line 2: 3 cells of 5
        input.extend_from_slice(b"NULL,1,2024-09-18 22:00:00,9,\n"); // line 3: no subject
        input.extend_from_slice(b"1,\xff,x,9,\n"); // line 4: invalid UTF-8
        input.extend_from_slice(b"1,\"");
        input.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES));
        input.extend_from_slice(b"\",x,9,\n"); // line 5: too long
        input.extend_from_slice(b"1,2,\"multi\nline\",9,\n"); // lines 6-7: fine
        input.extend_from_slice(b"1,2,3,4,\"cut sho"); // line 8: truncated inside quotes
        let p = parse("focus.csv", &input, &opts()).unwrap();
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.name()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (2, "malformed"),
                (3, "no_subject"),
                (4, "invalid_utf8"),
                (5, "line_too_long"),
            ]
        );
        // The truncated last row is a rejection with its line (issue 18).
        assert_eq!(p.rejected.len(), 1);
        assert_eq!(p.rejected[0].line, 8);
        assert_eq!(
            p.rejected[0].error,
            "focus.csv:8: the row is cut short inside a quoted cell (the file ends before the closing quote): complete the row or remove it"
        );
        assert!(p.rejected[0].reason.starts_with("the row is cut short"));
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].0, 6);
        assert_eq!(
            p.records[0].1.fields()["charge_period_start"],
            "multi\nline"
        ); // Fewer cells and no final newline: cut short too.
        let mut cut = HEADER.as_bytes().to_vec();
        cut.extend_from_slice(b"1,2,3");
        let p = parse("focus.csv", &cut, &opts()).unwrap();
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert_eq!(
            p.rejected[0].error,
            "focus.csv:2: the row is cut short: it has 3 of the header's 5 cells and the file ends without a line end: complete the row or remove it"
        );
    }

    #[test]
    fn crlf_bom_header_only_and_empty_inputs() {
        let p = parse(
            "f.csv",
            b"\xEF\xBB\xBFBillingAccountId,Id\r\n1,2\r\n",
            &opts(),
        )
        .unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].1.fields()["charge_id"], "2");
        assert_eq!(
            parse("f.csv", b"BillingAccountId\n", &opts()).unwrap(),
            Parsed::default()
        );
        assert_eq!(parse("f.csv", b"", &opts()).unwrap(), Parsed::default());
        // The last row complete but without a final newline is a record.
        let p = parse("f.csv", b"BillingAccountId,Id\n1,\"2\"", &opts()).unwrap();
        assert_eq!(p.records.len(), 1);
    }

    #[test]
    fn snake_case_and_quote_state() {
        assert_eq!(snake("BillingAccountId"), "billing_account_id");
        assert_eq!(snake("SkuPriceId"), "sku_price_id");
        assert_eq!(snake("HTTPStatus"), "http_status");
        assert_eq!(snake("billing_account_id"), "billing_account_id");
        assert!(ends_in_open_quote(b"1,\"ab"));
        assert!(!ends_in_open_quote(b"1,\"a\"\"b\""));
        assert!(!ends_in_open_quote(b"1,5\" screen"));
        assert!(ends_in_open_quote(b"1,\"a\"\""));
    }
}
