//! The stable integer codes under which both backends store a record's
//! category, kind and product (the closed vocabulary's codes, N1.3), one
//! mapping for every backend. Each backend turns the `Err` into its
//! own error type.
//!
//! Errors of the `*_code` functions: the vocabulary's [`DomainError`] for a
//! name that is not in it.

use steward_domain::{Category, DomainError, Kind, Product};

/// The code of category `name` ([`Category::code`]).
pub(crate) fn category_code(name: &str) -> Result<u8, DomainError> {
    name.parse::<Category>().map(|c| c.code())
}

/// The code of kind `name` ([`Kind::code`]).
pub(crate) fn kind_code(name: &str) -> Result<u16, DomainError> {
    name.parse::<Kind>().map(|k| k.code())
}

/// The code of product `name` ([`Product::code`]).
pub(crate) fn product_code(name: &str) -> Result<u8, DomainError> {
    name.parse::<Product>().map(|p| p.code())
}

/// The category stored under `code`, or `None` for a code no category has
/// (a corrupt row).
pub(crate) fn category_name(code: i64) -> Option<&'static str> {
    u8::try_from(code)
        .ok()
        .and_then(Category::from_code)
        .map(|c| c.as_str())
}

/// The record kind stored under `code`, or `None` for a code no kind has.
pub(crate) fn kind_name(code: i64) -> Option<&'static str> {
    u16::try_from(code)
        .ok()
        .and_then(Kind::from_code)
        .map(|k| k.as_str())
}

/// The product stored under `code`, or `None` for a code no product has.
pub(crate) fn product_name(code: i64) -> Option<&'static str> {
    u8::try_from(code)
        .ok()
        .and_then(Product::from_code)
        .map(|p| p.as_str())
}
