//! `steward_ingest::parse` in the `cloudevents` format on arbitrary bytes.
//! Checks: see `steward_fuzz::check_ingest`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_ingest::Format;

fuzz_target!(|data: &[u8]| {
    steward_fuzz::check_ingest(Format::Cloudevents, data);
});
