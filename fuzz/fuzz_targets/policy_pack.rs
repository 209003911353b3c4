//! `steward_policy::PolicyEngine::from_sources` with the default pack's
//! manifest and schema and one arbitrary policy file.
//!
//! Checks: no panic while loading (all or nothing: an error or an engine);
//! a loaded engine answers a spread of requests without panicking, and each
//! decision is consistent: allowed exactly when the basis is `permit`, the
//! deciding policy ids are sorted and are policies of the pack with the
//! effect the basis names.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use steward_domain::{Category, Principal, PrincipalKind, Purpose, Team};
use steward_policy::{
    Action, DecisionBasis, DecisionRequest, MANIFEST_FILE, PolicyEffect, PolicyEngine,
    RequestContext, SCHEMA_FILE,
};
use time::macros::date;

static DEFAULT: LazyLock<(&'static str, &'static str)> = LazyLock::new(|| {
    let files = steward_policy::default_pack_files();
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .expect("default pack has its manifest and schema")
    };
    (get(MANIFEST_FILE), get(SCHEMA_FILE))
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (manifest, schema) = *DEFAULT;
    let engine = match PolicyEngine::from_sources(manifest, schema, &[("fuzz.cedar", text)]) {
        Ok(e) => e,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let seed = data
        .iter()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(*b as usize));
    for (k, kind) in PrincipalKind::ALL.into_iter().enumerate() {
        let i = seed.wrapping_add(k);
        let p = Principal {
            name: "fuzz".into(),
            kind,
            teams: Team::ALL.to_vec(),
            confidentiality_signed_on: Some(date!(2023 - 03 - 01)),
            training_expires_on: Some(date!(2025 - 12 - 31)),
            engagement_ends_on: (i % 2 == 0).then_some(date!(2024 - 01 - 01)),
            subject: None,
            organisations: vec!["org-1".into()],
            revoked: i % 7 == 0,
        };
        let mut context = RequestContext::new(date!(2024 - 06 - 01));
        context.open_case_for_subject = i % 2 == 1;
        context.legal_obligation_recorded = i % 3 == 0;
        context.aggregate_only = i % 5 == 0;
        let req = DecisionRequest {
            principal: &p,
            action: Action::ALL[i % Action::ALL.len()],
            subject: (i % 4 != 0).then_some("sub_0000000000001234"),
            category: (i % 6 != 0).then(|| Category::ALL[i % Category::ALL.len()]),
            organisation: (i % 3 == 1).then_some("org-1"),
            kind: None,
            purpose: (i % 9 != 0).then(|| Purpose::ALL[i % Purpose::ALL.len()]),
            context,
        };
        let d = engine.decide(&req);
        assert_eq!(d.allowed, d.basis == DecisionBasis::Permit, "{d:?}");
        assert!(
            d.policy_ids.windows(2).all(|w| w[0] <= w[1]),
            "ids not sorted: {d:?}"
        );
        let want = match d.basis {
            DecisionBasis::Permit => Some(PolicyEffect::Permit),
            DecisionBasis::Forbid => Some(PolicyEffect::Forbid),
            _ => None,
        };
        if let Some(effect) = want {
            assert!(!d.policy_ids.is_empty(), "{d:?}");
            for id in &d.policy_ids {
                let info = engine
                    .policy(id)
                    .unwrap_or_else(|| panic!("decision names unknown policy {id}"));
                assert_eq!(info.effect, effect, "{d:?}");
            }
        }
    }
});
