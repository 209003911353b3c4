//! `steward requests result ID --out FILE` (issue 21 item 5): an export
//! request's ZIP, kept sealed in the store, written to a new file (0600)
//! by a later command (another process, as another node would be); an
//! existing file is not overwritten.

mod common;
use common::{json, ok, steward};

#[test]
fn an_export_requests_result_is_written_by_a_later_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        r#"{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann","job_title":"Engineer"}}"#
            .to_owned()
            + "\n",
    )
    .unwrap();
    ok(
        &data,
        &["ingest", "--format", "jsonl", input.to_str().unwrap()],
    );
    let r = json(&ok(
        &data,
        &[
            "requests",
            "open",
            "--type",
            "export",
            "--subject",
            "username:ann",
        ],
    ));
    let id = r["id"].as_str().unwrap().to_owned();
    let done = json(&ok(&data, &["requests", "approve", &id]));
    assert_eq!(done["state"], "completed");
    assert_eq!(done["result"]["records"], 1);
    assert_eq!(
        done["result"]["path"],
        format!("store:dsr_results/{id}").as_str()
    );
    let zip = dir.path().join("answer.zip");
    let args = ["requests", "result", &id, "--out", zip.to_str().unwrap()];
    ok(&data, &args);
    let bytes = std::fs::read(&zip).unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&zip).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Not overwritten: the command fails and the file is unchanged.
    let again = steward(&data, &args);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--out"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(&zip).unwrap(), bytes);
}
