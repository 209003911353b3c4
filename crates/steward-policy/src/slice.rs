//! Slicing a policy set by what a policy's own text pins down, so a decision
//! evaluates only the policies that can apply to it.
//!
//! Cedar evaluates every policy of the set it is given, and a policy's cost
//! is paid even when its first conjunct is false. The engine therefore keeps
//! one slice per (action, purpose, principal kind, revocation, resource
//! category): the policies that are not provably false for that
//! combination. A policy is provably false when its action scope excludes
//! the action, or when one of its `when` bodies is a conjunction with a
//! conjunct that pins `context.purpose`, `principal.kind` (or
//! `principal.is_staff`), `principal.revoked` or `resource.category` to
//! values other than the request's. Such a policy evaluates to false (or, if an earlier conjunct
//! errs, to an error) for every request of that combination, so it can
//! never be satisfied there: leaving it out changes no decision.
//!
//! Recognised pins, in the policy's JSON form (Cedar's EST), for each of
//! `context.purpose`, `principal.kind` and `resource.category`:
//! `t == "x"`, `t != "x"` (every value of the closed vocabulary but `x`;
//! a request without a category has category `""`), `a || b` of pins,
//! `["x", "y"].contains(t)`, and `principal.is_staff` (the staff kinds:
//! the engine sets `is_staff` from the kind).

use std::collections::BTreeSet;

use serde_json::Value;
use steward_domain::{Category, PrincipalKind, Purpose};

/// What a policy pins: the purposes, kinds and categories it can apply to
/// (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pins {
    pub purposes: Option<BTreeSet<String>>,
    pub kinds: Option<BTreeSet<String>>,
    /// `Some(b)`: the policy needs `principal.revoked == b`.
    pub revoked: Option<bool>,
    /// The resource categories (`""`: a request without one).
    pub categories: Option<BTreeSet<String>>,
}

impl Pins {
    /// Whether a request with this purpose, kind, revocation and category
    /// (`""` for none) may satisfy the policy.
    pub fn admits(&self, purpose: &str, kind: &str, revoked: bool, category: &str) -> bool {
        self.purposes.as_ref().is_none_or(|s| s.contains(purpose))
            && self.kinds.as_ref().is_none_or(|s| s.contains(kind))
            && self.revoked.is_none_or(|r| r == revoked)
            && self
                .categories
                .as_ref()
                .is_none_or(|s| s.contains(category))
    }
}

/// The pins of a policy, from its EST JSON. Anything not understood pins
/// nothing (the policy stays in every slice).
pub(crate) fn pins_of(est: &Value) -> Pins {
    let mut pins = Pins::default();
    let Some(conditions) = est.get("conditions").and_then(Value::as_array) else {
        return pins;
    };
    for c in conditions {
        if c.get("kind").and_then(Value::as_str) != Some("when") {
            continue;
        }
        let Some(body) = c.get("body") else { continue };
        pins.purposes = meet(pins.purposes, pinned(body, Target::Purpose));
        pins.kinds = meet(pins.kinds, pinned(body, Target::Kind));
        pins.categories = meet(pins.categories, pinned(body, Target::Category));
        if let Some(r) = pinned_revoked(body) {
            pins.revoked = match pins.revoked {
                // Contradictory: `when {principal.revoked} when {!principal.revoked}`
                // is satisfied by no request; keep it everywhere (it is harmless).
                Some(prev) if prev != r => None,
                _ => Some(r),
            };
        }
    }
    pins
}

#[derive(Clone, Copy)]
enum Target {
    Purpose,
    Kind,
    Category,
}

impl Target {
    /// Every value the target can take: its closed vocabulary (and `""`
    /// for a request without a category).
    fn universe(self) -> BTreeSet<String> {
        let owned = |s: &str| s.to_owned();
        match self {
            Target::Purpose => Purpose::ALL.iter().map(|p| owned(p.as_str())).collect(),
            Target::Kind => PrincipalKind::ALL
                .iter()
                .map(|k| owned(k.as_str()))
                .collect(),
            Target::Category => Category::ALL
                .iter()
                .map(|c| owned(c.as_str()))
                .chain([String::new()])
                .collect(),
        }
    }
}

/// Intersection, where `None` is "anything".
fn meet(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
    }
}

/// Union, where `None` is "anything".
fn join(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    }
}

/// The values the target must take for `expr` to be true, if `expr` pins it.
fn pinned(expr: &Value, target: Target) -> Option<BTreeSet<String>> {
    let obj = expr.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    let (op, arg) = obj.iter().next()?;
    match op.as_str() {
        "&&" => meet(
            pinned(arg.get("left")?, target),
            pinned(arg.get("right")?, target),
        ),
        "||" => join(
            pinned(arg.get("left")?, target),
            pinned(arg.get("right")?, target),
        ),
        "==" | "!=" => {
            let (l, r) = (arg.get("left")?, arg.get("right")?);
            let lit = if is_target(l, target) {
                string_literal(r)?
            } else if is_target(r, target) {
                string_literal(l)?
            } else {
                return None;
            };
            if op == "==" {
                Some(BTreeSet::from([lit.to_owned()]))
            } else {
                let mut all = target.universe();
                all.remove(lit);
                Some(all)
            }
        }
        "contains" => {
            if !is_target(arg.get("right")?, target) {
                return None;
            }
            let set = arg.get("left")?.get("Set")?.as_array()?;
            set.iter()
                .map(|v| string_literal(v).map(str::to_owned))
                .collect::<Option<BTreeSet<String>>>()
        }
        "." if matches!(target, Target::Kind) && is_attr(expr, "principal", "is_staff") => Some(
            PrincipalKind::ALL
                .into_iter()
                .filter(|k| k.is_staff())
                .map(|k| k.as_str().to_owned())
                .collect(),
        ),
        _ => None,
    }
}

/// `Some(b)` if `expr` is true only when `principal.revoked == b`: the
/// expression `principal.revoked` or `!principal.revoked`, or a conjunction
/// with such a conjunct.
fn pinned_revoked(expr: &Value) -> Option<bool> {
    if is_attr(expr, "principal", "revoked") {
        return Some(true);
    }
    if let Some(arg) = expr.get("!").and_then(|n| n.get("arg"))
        && is_attr(arg, "principal", "revoked")
    {
        return Some(false);
    }
    let and = expr.get("&&")?;
    let (l, r) = (
        pinned_revoked(and.get("left")?),
        pinned_revoked(and.get("right")?),
    );
    match (l, r) {
        (Some(a), Some(b)) if a != b => None,
        (Some(a), _) | (_, Some(a)) => Some(a),
        (None, None) => None,
    }
}

fn is_target(expr: &Value, target: Target) -> bool {
    match target {
        Target::Purpose => is_attr(expr, "context", "purpose"),
        Target::Kind => is_attr(expr, "principal", "kind"),
        Target::Category => is_attr(expr, "resource", "category"),
    }
}

/// Whether `expr` is `var.attr`.
fn is_attr(expr: &Value, var: &str, attr: &str) -> bool {
    expr.get(".").is_some_and(|dot| {
        dot.get("attr").and_then(Value::as_str) == Some(attr)
            && dot
                .get("left")
                .and_then(|l| l.get("Var"))
                .and_then(Value::as_str)
                == Some(var)
    })
}

fn string_literal(expr: &Value) -> Option<&str> {
    expr.get("Value")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn pins(src: &str) -> Pins {
        let p = cedar_policy::Policy::from_str(src).unwrap();
        pins_of(&p.to_json().unwrap())
    }

    fn set(xs: &[&str]) -> Option<BTreeSet<String>> {
        Some(xs.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn pins_are_read_from_when_conjunctions() {
        let p = pins(
            r#"permit (principal, action, resource) when {
                 (principal.kind == "customer_admin" || "reseller" == principal.kind) &&
                 context.purpose == "provide_services" && resource.category == "account" };"#,
        );
        assert_eq!(p.purposes, set(&["provide_services"]));
        assert_eq!(p.kinds, set(&["customer_admin", "reseller"]));
        assert_eq!(p.categories, set(&["account"]));
        assert!(p.admits("provide_services", "reseller", false, "account"));
        assert!(!p.admits("provide_services", "reseller", false, "billing"));
        assert!(!p.admits("provide_services", "reseller", false, ""));
        assert!(!p.admits("assist", "reseller", false, "account"));
        assert!(!p.admits("provide_services", "employee", false, "account"));
        assert_eq!(p.revoked, None);

        let p = pins(r#"forbid (principal, action, resource) when { principal.revoked };"#);
        assert_eq!(p.revoked, Some(true));
        assert!(!p.admits("assist", "employee", false, ""));
        assert!(p.admits("assist", "employee", true, "usage"));
        let p = pins(
            r#"permit (principal, action, resource) when { !principal.revoked && principal.kind == "service" };"#,
        );
        assert_eq!(p.revoked, Some(false));

        let p = pins(
            r#"permit (principal, action, resource) when { principal.is_staff }
               when { ["assist", "protect"].contains(context.purpose) };"#,
        );
        assert_eq!(p.purposes, set(&["assist", "protect"]));
        assert_eq!(
            p.kinds,
            set(&["employee", "contractor", "agent", "affiliate_staff"])
        );
    }

    #[test]
    fn what_is_not_a_pin_pins_nothing() {
        // `unless`, negation, a disjunction with a non-pin, a non-literal.
        for src in [
            r#"forbid (principal, action, resource) unless { context.purpose == "comply" };"#,
            r#"permit (principal, action, resource) when { !(context.purpose == "comply") };"#,
            r#"permit (principal, action, resource) when { context.purpose == "comply" || principal.revoked };"#,
            r#"permit (principal, action, resource) when { context.purpose == resource.category };"#,
        ] {
            assert_eq!(pins(src).purposes, None, "{src}");
        }
        // Contradictory pins: nothing admitted.
        let p = pins(
            r#"permit (principal, action, resource) when { context.purpose == "a" && context.purpose == "b" };"#,
        );
        assert_eq!(p.purposes, set(&[]));
    }

    #[test]
    fn an_inequality_pins_the_rest_of_the_vocabulary() {
        // `!=` pins every value of the closed vocabulary but the literal;
        // a request without a category has category "".
        let p = pins(
            r#"permit (principal, action, resource) when {
                 resource.category != "" && context.purpose != "comply" };"#,
        );
        let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(p.categories, set(&categories));
        let purposes: Vec<&str> = Purpose::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|&s| s != "comply")
            .collect();
        assert_eq!(p.purposes, set(&purposes));
        assert_eq!(purposes.len(), Purpose::ALL.len() - 1);
        assert!(!p.admits("assist", "employee", false, ""));
        assert!(p.admits("assist", "employee", false, "billing"));
        assert!(!p.admits("comply", "employee", false, "billing"));
    }
}
