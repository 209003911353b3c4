//! `steward_ingest::parse` in the `apache-access` format on arbitrary bytes.
//! Checks: see `steward_fuzz::check_ingest`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_ingest::Format;

fuzz_target!(|data: &[u8]| {
    steward_fuzz::check_ingest(Format::ApacheAccess, data);
});
