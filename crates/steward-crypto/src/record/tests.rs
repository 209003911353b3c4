use hmac::{Hmac, Mac};

use super::*;

fn aad(
    record: i64,
    kind: &'static str,
    product: &'static str,
    stored: i64,
) -> RecordAadV2<'static> {
    RecordAadV2 {
        record: RecordId(record),
        subject: SubjectId(7),
        category: Category::Usage,
        kind,
        product,
        stored_at_ms: stored,
        key_version: 1,
    }
}

/// HKDF-SHA256 (RFC 5869) for one 32-byte block, computed here with HMAC
/// alone: PRK = HMAC(salt, IKM), OKM = HMAC(PRK, info || 0x01).
fn hkdf_by_hand(ikm: &[u8; 32], record: i64) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"steward.record-key.v2").unwrap();
    m.update(ikm);
    let prk = m.finalize().into_bytes();
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&prk).unwrap();
    m.update(&record.to_be_bytes());
    m.update(&[1]);
    m.finalize().into_bytes().into()
}

/// Issue 13 item 9: two records of one subject are sealed under two
/// different keys, each the RFC 5869 derivation of the subject's data key
/// and the record id; record A's ciphertext does not open under record B's
/// key, and a record sealed before v2 (under the data key itself) still opens.
#[test]
fn each_record_is_sealed_under_its_own_derived_key_issue13_item9() {
    let dek = DataKey::generate();
    let (a, b) = (
        aad(1, "usage.authentication", "cloud_platform", 5),
        aad(2, "usage.authentication", "cloud_platform", 5),
    );
    let ka = dek.record_key(a.record).unwrap();
    let kb = dek.record_key(b.record).unwrap();
    assert_eq!(ka.as_bytes(), &hkdf_by_hand(dek.as_bytes(), 1));
    assert_eq!(kb.as_bytes(), &hkdf_by_hand(dek.as_bytes(), 2));
    assert_ne!(ka.as_bytes(), kb.as_bytes());
    assert_ne!(ka.as_bytes(), dek.as_bytes());
    let sa = dek.seal_record(&a, b"body a").unwrap();
    assert_eq!(sa[..4], RECORD_V2_HEADER);
    assert_eq!(sa.len(), 4 + 12 + 6 + 16);
    // A's ciphertext opens under A's derived key and A's AAD only.
    assert_eq!(
        ka.sealer().open(&a.to_bytes(), &sa[4..]).unwrap(),
        b"body a"
    );
    assert!(matches!(
        kb.sealer().open(&a.to_bytes(), &sa[4..]),
        Err(CryptoError::Open)
    ));
    assert!(matches!(
        dek.sealer().open(&a.to_bytes(), &sa[4..]),
        Err(CryptoError::Open)
    ));
    assert_eq!(dek.open_record(&a, &sa).unwrap(), b"body a");
    assert!(matches!(dek.open_record(&b, &sa), Err(CryptoError::Open)));
    // A v1 record: the data key itself, the v1 AAD, no header.
    let old = dek.sealer().seal(&b.v1().to_bytes(), b"old body");
    assert_eq!(dek.open_record(&b, &old).unwrap(), b"old body");
    assert!(matches!(
        DataKey::generate().open_record(&b, &old),
        Err(CryptoError::Open)
    ));
}

/// Issue 13 item 6: a v2 record's kind, product and stored time are bound:
/// a row with any of them changed does not open.
#[test]
fn v2_record_binds_kind_product_and_stored_time_issue13_item6() {
    let dek = DataKey::generate();
    let a = aad(1, "usage.authentication", "cloud_platform", 5);
    let s = dek.seal_record(&a, b"x").unwrap();
    assert_eq!(dek.open_record(&a, &s).unwrap(), b"x");
    for changed in [
        aad(1, "usage.web_access", "cloud_platform", 5),
        aad(1, "usage.authentication", "managed_databases", 5),
        aad(1, "usage.authentication", "cloud_platform", 6),
        aad(2, "usage.authentication", "cloud_platform", 5),
    ] {
        assert!(matches!(
            dek.open_record(&changed, &s),
            Err(CryptoError::Open)
        ));
    }
    // The header cannot be stripped to read it as v1.
    assert!(dek.open_record(&a, &s[4..]).is_err());
}
