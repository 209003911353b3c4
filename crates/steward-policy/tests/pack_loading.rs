//! Loading policy packs: the default pack, operators' directories, and every
//! way a pack is refused. A pack loads all or nothing; a forbid is never
//! silently skipped (DESIGN "Policy").

use std::path::{Path, PathBuf};

use steward_policy::{PolicyEffect, PolicyEngine, PolicyError, default_pack_files};

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pack")
}

/// A copy of the default pack in a temporary directory, with `edit` applied
/// to (file name, text) pairs.
fn edited_pack(edit: impl FnOnce(&mut Vec<(String, String)>)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, String)> = default_pack_files()
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
    edit(&mut files);
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn append(files: &mut [(String, String)], file: &str, text: &str) {
    let f = files.iter_mut().find(|(n, _)| n == file).unwrap();
    f.1.push('\n');
    f.1.push_str(text);
}

fn load_err(dir: &tempfile::TempDir) -> PolicyError {
    match PolicyEngine::load_dir(dir.path()) {
        Ok(_) => panic!("the pack loaded"),
        Err(e) => e,
    }
}

#[test]
fn default_pack_loads_with_its_manifest() {
    let e = PolicyEngine::default_pack().unwrap();
    assert_eq!(e.name(), "steward-default");
    assert_eq!(e.version(), "2024-01-18.8");
    assert_eq!(e.effective().to_string(), "2024-01-18");
    // Issue 17: 53 (the justification forbid, the technical-case and
    // billing-case permits, obligations recorded by kind, self-erasure; the
    // uncalled report and comply audit-read permits removed); issue 19: 14
    // disclosure policies (10 forbids, 4 permits; 70-disclosures.cedar);
    // issue 20: 3 incident permits (80-incidents.cedar).
    assert_eq!(e.policies().len(), 53 + 14 + 3);
    let forbids = e
        .policies()
        .iter()
        .filter(|p| p.effect == PolicyEffect::Forbid)
        .count();
    // 8, and the 10 disclosure forbids of issue 19.
    assert_eq!(forbids, 8 + 10);
    for p in e.policies() {
        assert!(!p.clauses.is_empty(), "{}", p.id);
        assert!(p.reason.is_some(), "{} has no @reason", p.id);
    }
}

#[test]
fn embedded_pack_is_the_pack_directory() {
    // Every file of pack/ is embedded, byte for byte, and nothing else.
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(pack_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<(String, String)> = default_pack_files()
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
    embedded.sort();
    let names = |v: &[(String, String)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&embedded), names(&on_disk));
    assert_eq!(embedded, on_disk);

    let from_dir = PolicyEngine::load_dir(&pack_dir()).unwrap();
    let embedded = PolicyEngine::default_pack().unwrap();
    assert_eq!(from_dir.policies(), embedded.policies());
    assert_eq!(from_dir.version(), embedded.version());
}

#[test]
fn every_cited_clause_is_in_the_register() {
    // CI has ../shared beside the repository; elsewhere this is skipped.
    let register = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/notice/CLAUSES.md");
    let Ok(text) = std::fs::read_to_string(&register) else {
        println!(
            "skipped: {} not found (the clause register lives in shared/)",
            register.display()
        );
        return;
    };
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.starts_with('N'))
        .collect();
    assert!(ids.len() > 40, "register parsed to {} ids", ids.len());
    let e = PolicyEngine::default_pack().unwrap();
    for p in e.policies() {
        for c in &p.clauses {
            // N6.5a-e are the lettered items of N6.5.
            let base = c.trim_end_matches(|ch: char| ch.is_ascii_lowercase());
            assert!(
                ids.contains(&c.as_str()) || ids.contains(&base),
                "{} cites {c}, which the register lacks",
                p.id
            );
        }
    }
}

#[test]
fn a_forbid_naming_a_missing_attribute_fails_to_load() {
    let dir = edited_pack(|f| {
        append(
            f,
            "00-principal-forbids.cedar",
            r#"@id("forbid-low-clearance")
@clause("N5.5")
@reason("clearance below 3")
forbid (principal, action, resource) when { principal.clearance_level < 3 };
"#,
        )
    });
    let e = load_err(&dir);
    let msg = e.to_string();
    assert!(matches!(e, PolicyError::Validation { .. }), "{msg}");
    assert!(msg.contains("00-principal-forbids.cedar"), "no file: {msg}");
    assert!(msg.contains("forbid-low-clearance"), "no policy id: {msg}");
    assert!(msg.contains("clearance_level"), "no Cedar message: {msg}");
    // The line of the offending policy (its position in the edited file).
    if let PolicyError::Validation { issues } = &e {
        assert_eq!(issues.len(), 1);
        let text = &default_pack_files()
            .into_iter()
            .find(|(n, _)| *n == "00-principal-forbids.cedar")
            .unwrap()
            .1;
        assert!(
            issues[0].line > text.lines().count(),
            "line {}",
            issues[0].line
        );
    }
}

#[test]
fn a_permit_naming_a_missing_context_attribute_fails_to_load() {
    let dir = edited_pack(|f| {
        append(
            f,
            "20-staff.cedar",
            r#"@id("staff-read-with-consent")
@clause("N6.4")
permit (principal, action, resource) when { context.consent_recorded };
"#,
        )
    });
    let msg = load_err(&dir).to_string();
    assert!(
        msg.contains("20-staff.cedar") && msg.contains("staff-read-with-consent"),
        "{msg}"
    );
    assert!(msg.contains("consent_recorded"), "{msg}");
}

#[test]
fn an_unknown_action_or_entity_type_fails_to_load() {
    let dir = edited_pack(|f| {
        append(
            f,
            "50-services.cedar",
            r#"@id("service-sell")
@clause("N6.6")
permit (principal, action == Steward::Action::"sell", resource);
"#,
        )
    });
    let msg = load_err(&dir).to_string();
    assert!(
        msg.contains("service-sell") && msg.contains("sell"),
        "{msg}"
    );
}

#[test]
fn a_policy_that_can_never_apply_fails_to_load() {
    // The validator's "impossible policy" warning is refused too: a forbid
    // that can never fire is a forbid silently skipped.
    let dir = edited_pack(|f| {
        append(
            f,
            "00-principal-forbids.cedar",
            r#"@id("forbid-never")
@clause("N5.5")
@reason("never")
forbid (principal, action, resource) when { false };
"#,
        )
    });
    let msg = load_err(&dir).to_string();
    assert!(msg.contains("forbid-never"), "{msg}");
}

#[test]
fn policies_need_id_and_clause_and_forbids_need_reason() {
    let dir = edited_pack(|f| {
        append(
            f,
            "20-staff.cedar",
            "@clause(\"N3.1\")\npermit (principal, action, resource) when { principal.is_staff };\n",
        )
    });
    let e = load_err(&dir);
    assert!(
        matches!(&e, PolicyError::MissingAnnotation { annotation: "id", file, .. } if file == "20-staff.cedar"),
        "{e}"
    );
    assert!(e.to_string().contains("policy #"), "{e}");

    let dir = edited_pack(|f| {
        append(
            f,
            "20-staff.cedar",
            "@id(\"no-clause\")\npermit (principal, action, resource) when { principal.is_staff };\n",
        )
    });
    let e = load_err(&dir);
    assert!(
        matches!(&e, PolicyError::MissingAnnotation { annotation: "clause", policy, .. } if policy == "no-clause"),
        "{e}"
    );

    let dir = edited_pack(|f| {
        append(
            f,
            "00-principal-forbids.cedar",
            "@id(\"no-reason\")\n@clause(\"N5.5\")\nforbid (principal, action, resource) when { principal.revoked };\n",
        )
    });
    let e = load_err(&dir);
    assert!(
        matches!(
            &e,
            PolicyError::MissingAnnotation {
                annotation: "reason",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_clause_ids_and_duplicate_ids_are_refused() {
    let dir = edited_pack(|f| {
        append(
            f,
            "20-staff.cedar",
            "@id(\"bad-clause\")\n@clause(\"section 3\")\npermit (principal, action, resource) when { principal.is_staff };\n",
        )
    });
    let e = load_err(&dir);
    assert!(
        matches!(
            &e,
            PolicyError::BadAnnotation {
                annotation: "clause",
                ..
            }
        ),
        "{e}"
    );

    let dir = edited_pack(|f| {
        append(
            f,
            "60-processors.cedar",
            "@id(\"staff-billing-read\")\n@clause(\"N3.1\")\npermit (principal, action, resource) when { principal.is_staff };\n",
        )
    });
    let e = load_err(&dir);
    assert!(
        matches!(&e, PolicyError::DuplicateId { id, first_file, second_file }
            if id == "staff-billing-read" && first_file == "20-staff.cedar" && second_file == "60-processors.cedar"),
        "{e}"
    );
}

#[test]
fn syntax_errors_name_file_and_line() {
    let dir = edited_pack(|f| {
        f.push((
            "70-broken.cedar".to_owned(),
            "// a comment\n\n@id(\"x\")\n@clause(\"N3.1\")\npermit (principal, action, resource) when { principal.is_staff &&& };\n"
                .to_owned(),
        ))
    });
    let e = load_err(&dir);
    match &e {
        PolicyError::Parse { file, line, .. } => {
            assert_eq!(file, "70-broken.cedar");
            assert_eq!(*line, 5, "{e}");
        }
        other => panic!("expected a parse error, got {other}"),
    }
}

#[test]
fn templates_are_refused() {
    let dir = edited_pack(|f| {
        f.push((
            "70-template.cedar".to_owned(),
            "@id(\"t\")\n@clause(\"N3.1\")\npermit (principal == ?principal, action, resource);\n"
                .to_owned(),
        ))
    });
    assert!(matches!(load_err(&dir), PolicyError::Template { .. }));
}

#[test]
fn a_schema_the_engine_cannot_feed_is_refused() {
    // The policies still validate, but every decision would fail: the
    // schema asks for an attribute the engine does not supply.
    let dir = edited_pack(|f| {
        let s = f
            .iter_mut()
            .find(|(n, _)| n == "schema.cedarschema")
            .unwrap();
        s.1 = s.1.replace(
            "    revoked: Bool,",
            "    revoked: Bool,\n    clearance: Long,",
        );
        assert!(s.1.contains("clearance"));
    });
    let e = load_err(&dir);
    assert!(matches!(e, PolicyError::SchemaMismatch { .. }), "{e}");
    assert!(e.to_string().contains("clearance"), "{e}");

    let dir = edited_pack(|f| {
        let s = f
            .iter_mut()
            .find(|(n, _)| n == "schema.cedarschema")
            .unwrap();
        s.1 = s.1.replace("entity Principal = {", "entity Principal = {{");
    });
    assert!(matches!(load_err(&dir), PolicyError::Schema { .. }));
}

#[test]
fn manifest_and_missing_files_are_reported() {
    let dir = edited_pack(|f| {
        let m = f.iter_mut().find(|(n, _)| n == "pack.toml").unwrap();
        m.1 =
            m.1.replace("effective = \"2024-01-18\"", "effective = \"soon\"");
    });
    let e = load_err(&dir);
    assert!(matches!(e, PolicyError::Manifest { .. }), "{e}");
    assert!(e.to_string().contains("soon"), "{e}");

    let dir = edited_pack(|f| f.retain(|(n, _)| !n.ends_with(".cedar")));
    assert!(matches!(load_err(&dir), PolicyError::NoPolicies { .. }));

    let dir = edited_pack(|f| f.retain(|(n, _)| n != "schema.cedarschema"));
    let e = load_err(&dir);
    assert!(
        matches!(&e, PolicyError::Io { path, .. } if path.ends_with("schema.cedarschema")),
        "{e}"
    );
}

#[test]
fn an_operator_pack_with_an_action_group_decides_through_it() {
    // Operators may group actions in their schema; `action in group` must
    // then match the group's members.
    use steward_domain::{Category, Principal, PrincipalKind, Purpose, Team};
    use steward_policy::{Action, DecisionRequest, RequestContext};
    let dir = edited_pack(|f| {
        let s = f
            .iter_mut()
            .find(|(n, _)| n == "schema.cedarschema")
            .unwrap();
        s.1 = s.1.replace(
            "  action read, export,",
            "  action subject_access;\n  action read, export in [subject_access] appliesTo {\n    \
             principal: [Principal], resource: [SubjectData], context: RequestContext };\n  action",
        );
        append(
            f,
            "20-staff.cedar",
            r#"@id("privacy-subject-access-group")
@clause("N7.2")
permit (principal, action in Steward::Action::"subject_access", resource)
when { principal.is_staff && principal.teams.contains("privacy") && context.purpose == "assist" };
"#,
        );
    });
    let engine = match PolicyEngine::load_dir(dir.path()) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let today = time::Date::from_calendar_date(2024, time::Month::June, 1).unwrap();
    let p = Principal {
        name: "pat".into(),
        kind: PrincipalKind::Employee,
        teams: vec![Team::Privacy],
        confidentiality_signed_on: Some(today),
        training_expires_on: Some(today),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    };
    let req = |action| DecisionRequest {
        principal: &p,
        action,
        subject: Some("sub_0000000000000001"),
        category: Some(Category::Account),
        organisation: None,
        kind: None,
        purpose: Some(Purpose::Assist),
        // A person's access to one subject cites a justification (N3.8).
        context: RequestContext {
            open_case_for_subject: true,
            ..RequestContext::new(today)
        },
    };
    let d = engine.decide(&req(Action::Export));
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.policy_ids, vec!["privacy-subject-access-group"]);
    assert!(!engine.decide(&req(Action::Erase)).allowed);
}
