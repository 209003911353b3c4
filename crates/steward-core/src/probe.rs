//! The gate's compile-fail probe (ARCHITECTURE.md, "The gate"): code
//! outside `src/gate/` that tries each way to open ciphertext. Compiled
//! only with `--cfg steward_gate_probe` by `scripts/gate_probe.sh`, which
//! passes only when the compiler refuses every line marked `PROBE`.

use steward_domain::SubjectId;
use steward_store::{RecordRow, WrappedKeyRow};

use crate::Steward;
use crate::gate::Opened;

#[allow(dead_code, unused_must_use, clippy::let_underscore_must_use)]
fn probe(st: &Steward, opened: &Opened, key: WrappedKeyRow, row: RecordRow) {
    let _ = st.keyring.unwrap(&key); // PROBE E0624: unwrapping a data key
    let _ = st.subject_opener(0, SubjectId(1)); // PROBE E0624: a subject's opener
    let _ = st.hold_opener(0, SubjectId(1)); // PROBE E0624: a hold key's opener
    let _ = &opened.sealer; // PROBE E0616: the opener an allowed access carries
    let _ = crate::gate::keys::open_row; // PROBE E0603: the record opener
    let _ = row;
}
