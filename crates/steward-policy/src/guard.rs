//! Guards: the part of a policy's conditions that Steward knows the value
//! of before Cedar runs, so a decision leaves out the policies that cannot
//! apply to it (issue 21 item 1: fewer policies per evaluation).
//!
//! [`crate::slice`] pins what a policy can apply to by the request's
//! *static* parts (action, purpose, kind, revocation, category), one slice
//! per combination. A guard goes further, per request: it is a policy's
//! `when` and `unless` bodies compiled to a small three-valued expression
//! over the facts the engine itself puts into the request (the context's
//! booleans and strings, `resource.cross_region`, whether a subject is
//! named, the principal's kind, teams, staff and revocation flags and its
//! dates against `context.today`). Anything else (the subject's or
//! organisation's value, disclosure facts, `in`, `like`, arithmetic) is
//! unknown. A policy is left out of the evaluation when a `when` body is
//! known false or an `unless` body known true: Cedar would find it not
//! satisfied, so it can neither permit nor forbid, and leaving it out
//! changes no decision.
//!
//! As for slices, this holds for policies that do not fail to evaluate;
//! the pack is strictly validated (every optional attribute behind `has`),
//! and a property test (`engine::tests::equivalence`) compares the
//! engine's decisions with and without slicing and guards.
//!
//! Expressions are read in Cedar's JSON policy form (EST): `&&`, `||`, `!`,
//! `==` / `!=` of a known string with a literal, `["a", "b"].contains(x)`,
//! `principal.teams.contains("t")` / `containsAny([...])`,
//! `principal has d` and `principal.d <op> context.today` for the
//! principal's dates, the known booleans, and literal booleans.

use serde_json::Value;
use steward_domain::{Category, Principal};

use crate::cache::{CONTEXT_BOOLS, CONTEXT_STRS, ContextKey};
use crate::request::days_since_epoch;

/// The principal's date attributes (days since the Unix epoch in Cedar).
const DATES: [&str; 3] = [
    "confidentiality_signed_on",
    "training_expires_on",
    "engagement_ends_on",
];

/// A boolean the engine sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    /// `context.<CONTEXT_BOOLS[i]>`.
    Context(usize),
    CrossRegion,
    IsStaff,
    Revoked,
    /// `resource.subject != ""`.
    SubjectGiven,
}

/// A string the engine sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// `context.<CONTEXT_STRS[i]>`.
    Context(usize),
    Kind,
    Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    Const(bool),
    Unknown,
    Fact(Fact),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    /// The string is one of these.
    TextIn(Text, Vec<String>),
    /// The principal is in one of these teams.
    TeamsAny(Vec<String>),
    /// `principal has DATES[i]`.
    Has(usize),
    /// `principal.DATES[i] <op> context.today`.
    DateVsToday(usize, Cmp),
}

/// What the engine knows of one request before Cedar runs: exactly the
/// values it gives Cedar (the context from `key` and `today`, the resource's
/// category, subject and cross-region flag, the principal's attributes).
pub(crate) struct Known<'a> {
    pub key: &'a ContextKey,
    /// `context.today`: days since the Unix epoch.
    pub today: i64,
    pub principal: &'a Principal,
    pub category: Option<Category>,
    pub subject_given: bool,
    pub cross_region: bool,
}

/// A policy's guard: its `when` and `unless` bodies, compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Guard {
    when: Vec<Cond>,
    unless: Vec<Cond>,
}

impl Guard {
    /// The guard of a policy, from its EST JSON; `None` when no body has a
    /// known part (the policy is always evaluated).
    pub fn of(est: &Value) -> Option<Guard> {
        let mut g = Guard::default();
        for c in est.get("conditions").and_then(Value::as_array)? {
            let Some(body) = c.get("body") else { continue };
            let cond = compile(body);
            if cond == Cond::Unknown {
                continue;
            }
            match c.get("kind").and_then(Value::as_str) {
                Some("when") => g.when.push(cond),
                Some("unless") => g.unless.push(cond),
                _ => {}
            }
        }
        (!g.when.is_empty() || !g.unless.is_empty()).then_some(g)
    }

    /// Whether the policy is known not to be satisfied by the request.
    pub fn rules_out(&self, k: &Known<'_>) -> bool {
        self.when.iter().any(|c| eval(c, k) == Some(false))
            || self.unless.iter().any(|c| eval(c, k) == Some(true))
    }
}

fn compile(e: &Value) -> Cond {
    compile_opt(e).unwrap_or(Cond::Unknown)
}

fn compile_opt(e: &Value) -> Option<Cond> {
    let obj = e.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    let (op, arg) = obj.iter().next()?;
    let two = || Some((arg.get("left")?, arg.get("right")?));
    Some(match op.as_str() {
        "Value" => Cond::Const(arg.as_bool()?),
        "." => Cond::Fact(fact(e)?),
        "!" => match compile(arg.get("arg")?) {
            Cond::Unknown => return None,
            c => Cond::Not(Box::new(c)),
        },
        "&&" | "||" => {
            let (l, r) = two()?;
            let (l, r) = (compile(l), compile(r));
            if l == Cond::Unknown && r == Cond::Unknown {
                return None;
            }
            let (l, r) = (Box::new(l), Box::new(r));
            if op == "&&" {
                Cond::And(l, r)
            } else {
                Cond::Or(l, r)
            }
        }
        "==" | "!=" => {
            let (l, r) = two()?;
            let eq = equality(l, r).or_else(|| equality(r, l))?;
            if op == "==" {
                eq
            } else {
                Cond::Not(Box::new(eq))
            }
        }
        "contains" => {
            let (l, r) = two()?;
            if is_attr(l, "principal", "teams") {
                Cond::TeamsAny(vec![string(r)?.to_owned()])
            } else {
                Cond::TextIn(text(r)?, strings(l)?)
            }
        }
        "containsAny" => {
            let (l, r) = two()?;
            if !is_attr(l, "principal", "teams") {
                return None;
            }
            Cond::TeamsAny(strings(r)?)
        }
        "has" => {
            if arg.get("left")?.get("Var")?.as_str()? != "principal" {
                return None;
            }
            let attr = arg.get("attr")?.as_str()?;
            Cond::Has(DATES.iter().position(|d| *d == attr)?)
        }
        "<" | "<=" | ">" | ">=" => {
            let (l, r) = two()?;
            let cmp = match op.as_str() {
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            if let Some(d) = date(l)
                && is_attr(r, "context", "today")
            {
                Cond::DateVsToday(d, cmp)
            } else if let Some(d) = date(r)
                && is_attr(l, "context", "today")
            {
                // today <op> d  is  d <flipped op> today
                let flipped = match cmp {
                    Cmp::Lt => Cmp::Gt,
                    Cmp::Le => Cmp::Ge,
                    Cmp::Gt => Cmp::Lt,
                    Cmp::Ge => Cmp::Le,
                };
                Cond::DateVsToday(d, flipped)
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

/// `text == "literal"` (with `resource.subject == ""` as a fact).
fn equality(l: &Value, r: &Value) -> Option<Cond> {
    let lit = string(r)?;
    if is_attr(l, "resource", "subject") && lit.is_empty() {
        return Some(Cond::Not(Box::new(Cond::Fact(Fact::SubjectGiven))));
    }
    Some(Cond::TextIn(text(l)?, vec![lit.to_owned()]))
}

fn fact(e: &Value) -> Option<Fact> {
    let (var, attr) = attr_of(e)?;
    match (var, attr) {
        ("context", a) => CONTEXT_BOOLS
            .iter()
            .position(|b| *b == a)
            .map(Fact::Context),
        ("resource", "cross_region") => Some(Fact::CrossRegion),
        ("principal", "is_staff") => Some(Fact::IsStaff),
        ("principal", "revoked") => Some(Fact::Revoked),
        _ => None,
    }
}

fn text(e: &Value) -> Option<Text> {
    let (var, attr) = attr_of(e)?;
    match (var, attr) {
        ("context", a) => CONTEXT_STRS.iter().position(|s| *s == a).map(Text::Context),
        ("principal", "kind") => Some(Text::Kind),
        ("resource", "category") => Some(Text::Category),
        _ => None,
    }
}

fn date(e: &Value) -> Option<usize> {
    let (var, attr) = attr_of(e)?;
    if var != "principal" {
        return None;
    }
    DATES.iter().position(|d| *d == attr)
}

/// `(var, attr)` of `var.attr`.
fn attr_of(e: &Value) -> Option<(&str, &str)> {
    let dot = e.get(".")?;
    let var = dot.get("left")?.get("Var")?.as_str()?;
    Some((var, dot.get("attr")?.as_str()?))
}

fn is_attr(e: &Value, var: &str, attr: &str) -> bool {
    attr_of(e) == Some((var, attr))
}

fn string(e: &Value) -> Option<&str> {
    e.get("Value")?.as_str()
}

/// A set literal of string literals.
fn strings(e: &Value) -> Option<Vec<String>> {
    e.get("Set")?
        .as_array()?
        .iter()
        .map(|v| string(v).map(str::to_owned))
        .collect()
}

/// Three-valued: `None` when the value depends on what is not known.
fn eval(c: &Cond, k: &Known<'_>) -> Option<bool> {
    match c {
        Cond::Const(b) => Some(*b),
        Cond::Unknown => None,
        Cond::Fact(f) => Some(match f {
            Fact::Context(i) => k.key.bool_fact(*i)?,
            Fact::CrossRegion => k.cross_region,
            Fact::IsStaff => k.principal.kind.is_staff(),
            Fact::Revoked => k.principal.revoked,
            Fact::SubjectGiven => k.subject_given,
        }),
        Cond::Not(c) => eval(c, k).map(|b| !b),
        Cond::And(l, r) => match (eval(l, k), eval(r, k)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Cond::Or(l, r) => match (eval(l, k), eval(r, k)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Cond::TextIn(t, set) => {
            let v = match t {
                Text::Context(i) => k.key.str_fact(*i)?,
                Text::Kind => k.principal.kind.as_str(),
                Text::Category => k.category.map(|c| c.as_str()).unwrap_or(""),
            };
            Some(set.iter().any(|s| s == v))
        }
        Cond::TeamsAny(teams) => Some(
            k.principal
                .teams
                .iter()
                .any(|t| teams.iter().any(|x| x == t.as_str())),
        ),
        Cond::Has(d) => Some(principal_date(k.principal, *d)?.is_some()),
        Cond::DateVsToday(d, cmp) => {
            // Absent: Cedar would fail to evaluate; unknown here.
            let v = principal_date(k.principal, *d)??;
            Some(match cmp {
                Cmp::Lt => v < k.today,
                Cmp::Le => v <= k.today,
                Cmp::Gt => v > k.today,
                Cmp::Ge => v >= k.today,
            })
        }
    }
}

/// The principal's date `DATES[i]` in days, as the engine gives it to
/// Cedar (`None` inside: the attribute is absent).
fn principal_date(p: &Principal, i: usize) -> Option<Option<i64>> {
    let d = match *DATES.get(i)? {
        "confidentiality_signed_on" => p.confidentiality_signed_on,
        "training_expires_on" => p.training_expires_on,
        "engagement_ends_on" => p.engagement_ends_on,
        _ => return None,
    };
    Some(d.map(days_since_epoch))
}

#[cfg(test)]
mod tests;
