//! Section 3: `Sealer::seal` vs bare AES-256-GCM on the same bytes.

use std::hint::black_box;
use std::time::Instant;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use steward_crypto::{DataKey, RecordAad};
use steward_domain::{Category, RecordId, SubjectId};

use crate::data::{alternate, secs};
use crate::report::{Cmp, Column, RUNS, Row, Runs, Section, rate, thousands, thr_ratio, us};

/// Section 3.
pub fn seal(quick: bool) -> Section {
    let mut s = Section::new(3, "Sealing vs bare AES-256-GCM");
    let rounds = RUNS;
    let sizes: [(usize, u64); 2] = if quick {
        [(300, 50_000), (2048, 10_000)]
    } else {
        [(300, 1_000_000), (2048, 200_000)]
    };
    let key = DataKey::generate();
    let sealer = key.sealer();
    let bare = Aes256Gcm::new(key.as_bytes().into());
    let aad = RecordAad {
        record: RecordId(0x1234_5678_9abc),
        subject: SubjectId(0x0fed_cba9_8765),
        category: Category::Usage,
        key_version: 1,
    }
    .to_bytes();
    let aad_len = aad.len();
    s.method.push(format!(
        "Same key (expanded once), same plaintext, same {}-byte record AAD. Steward: `Sealer::seal` \
         (random 96-bit nonce from the thread RNG, output `nonce‖ciphertext‖tag`). Baseline: `aes_gcm::Aes256Gcm::encrypt` \
         called directly with a counter nonce. {} / {} operations per round, {rounds} alternating rounds; the target is decided on the median of the rounds' ratios, whose range is printed.",
        aad_len,
        thousands(sizes[0].1 as f64),
        thousands(sizes[1].1 as f64)
    ));
    let mut failed = None;
    for (size, n) in sizes {
        let mut msg = vec![0u8; size];
        rand::rng().fill_bytes(&mut msg);
        let res = alternate(
            rounds,
            || {
                let t = Instant::now();
                for _ in 0..n {
                    black_box(sealer.seal(black_box(&aad), black_box(&msg)));
                }
                Ok(secs(t))
            },
            || {
                let t = Instant::now();
                let mut nonce = [0u8; 12];
                for i in 0..n {
                    nonce[..8].copy_from_slice(&i.to_le_bytes());
                    let ct = bare
                        .encrypt(
                            Nonce::from_slice(&nonce),
                            Payload {
                                msg: black_box(&msg),
                                aad: black_box(&aad),
                            },
                        )
                        .map_err(|_| "AES-GCM encrypt failed".to_string())?;
                    black_box(ct);
                }
                Ok(secs(t))
            },
        );
        match res {
            Ok((st_runs, ba_runs)) => {
                let ratios = Runs::new(
                    st_runs
                        .iter()
                        .zip(&ba_runs)
                        .map(|(st, ba)| ba / st)
                        .collect(),
                );
                let (st, ba) = (Runs::new(st_runs).median(), Runs::new(ba_runs).median());
                let (sr, br) = (n as f64 / st, n as f64 / ba);
                s.rows.push(
                    Row::info(
                        format!("{size} B"),
                        rate(sr, "ops"),
                        rate(br, "ops"),
                        ratios.cell(|r| thr_ratio(r, 1.0)),
                    )
                    .judged("≥ 0.6×", Column::Ratio, Cmp::AtLeast, 0.6),
                );
                let why = if st > ba * 1.03 {
                    "the difference is drawing the random nonce and copying the ciphertext behind it"
                } else {
                    "drawing the random nonce and copying the ciphertext cost less than the run-to-run noise"
                };
                s.notes.push(format!(
                    "{size} B: {} per seal vs {} per bare encrypt; {why}.",
                    us(st * 1e6 / n as f64),
                    us(ba * 1e6 / n as f64)
                ));
            }
            Err(e) => failed = Some(e),
        }
    }
    s.error = failed;
    s
}
