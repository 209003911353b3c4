use cedar_policy::*;
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Instant;

fn main() {
    let eng = steward_policy::PolicyEngine::default_pack().unwrap();
    let pset = eng.policy_set().clone();
    let ptype = EntityTypeName::from_str("Steward::Principal").unwrap();
    let rtype = EntityTypeName::from_str("Steward::SubjectData").unwrap();
    let act = EntityUid::from_str("Steward::Action::\"read\"").unwrap();
    let n = 100_000;
    let s = |x: &str| RestrictedExpression::new_string(x.to_owned());
    let mk_p = || {
        let uid = EntityUid::from_type_name_and_id(ptype.clone(), EntityId::new("alice"));
        let attrs: Vec<(String, RestrictedExpression)> = vec![
            ("kind".into(), s("employee")),
            (
                "teams".into(),
                RestrictedExpression::new_set([s("support")]),
            ),
            ("is_staff".into(), RestrictedExpression::new_bool(true)),
            (
                "confidentiality_signed_on".into(),
                RestrictedExpression::new_long(19000),
            ),
            (
                "training_expires_on".into(),
                RestrictedExpression::new_long(20000),
            ),
            ("revoked".into(), RestrictedExpression::new_bool(false)),
            ("organisations".into(), RestrictedExpression::new_set([])),
        ];
        Entity::new_with_tags(uid, attrs, [], []).unwrap()
    };
    let mk_r = || {
        let uid = EntityUid::from_type_name_and_id(rtype.clone(), EntityId::new("sub_1"));
        Entity::new_with_tags(
            uid,
            [
                ("subject".to_owned(), s("sub_1")),
                ("category".to_owned(), s("account")),
                ("organisation".to_owned(), s("o")),
            ],
            [],
            [],
        )
        .unwrap()
    };
    let mk_c = || {
        Context::from_pairs([
            ("purpose".to_owned(), s("assist")),
            ("today".to_owned(), RestrictedExpression::new_long(19800)),
            (
                "open_case_for_subject".to_owned(),
                RestrictedExpression::new_bool(true),
            ),
            (
                "legal_obligation_recorded".to_owned(),
                RestrictedExpression::new_bool(false),
            ),
            (
                "aggregate_only".to_owned(),
                RestrictedExpression::new_bool(false),
            ),
        ])
        .unwrap()
    };
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(mk_p());
    }
    println!("principal entity {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(mk_r());
    }
    println!("resource entity {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(mk_c());
    }
    println!("context {:?}", t.elapsed() / n);
    let p = mk_p();
    let r = mk_r();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(Entities::from_entities([p.clone(), r.clone()], None).unwrap());
    }
    println!("entities {:?}", t.elapsed() / n);
    let ents = Entities::from_entities([p.clone(), r.clone()], None).unwrap();
    let puid = p.uid();
    let ruid = r.uid();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            Request::new(puid.clone(), act.clone(), ruid.clone(), mk_c(), None).unwrap(),
        );
    }
    println!("request+ctx {:?}", t.elapsed() / n);
    let req = Request::new(puid.clone(), act.clone(), ruid.clone(), mk_c(), None).unwrap();
    let auth = Authorizer::new();
    for (name, set) in [("full set", pset.clone()), ("empty", PolicySet::new())] {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(auth.is_authorized(&req, &set, &ents));
        }
        println!(
            "authorize {name} ({}) {:?}",
            set.policies().count(),
            t.elapsed() / n
        );
    }
    // one policy
    let mut one = PolicySet::new();
    one.add(pset.policies().next().unwrap().clone()).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(auth.is_authorized(&req, &one, &ents));
    }
    println!("authorize one {:?}", t.elapsed() / n);
    if std::env::var("LOOP").is_ok() {
        for _ in 0..2_000_000 {
            std::hint::black_box(auth.is_authorized(&req, &pset, &ents));
        }
    }
    let _ = HashSet::<u8>::new();
}
#[allow(dead_code)]
fn unused() {}
