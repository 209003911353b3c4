//! Issue 13 through the binary: the files Steward writes are its owner's
//! only, whatever the umask (item 7), and email intake can delete or move
//! a message file once the message is sealed, saying what it left (item 5).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn ok(dir: &Path, args: &[&str]) -> String {
    common::succeeded(steward(dir, args), args)
}

/// Run `steward` under umask 022 (group and others may read new files).
fn steward(dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_steward"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run steward")
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(p).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        }
        out.push(p);
    }
}

/// Issue 13 item 7: under umask 022, a new data directory is 0700, every
/// folder in it 0700 and every file 0600 (the store, the keyring, the
/// outbox); the store's WAL and shared-memory files take the database's
/// 0600; an export written to disk is 0600.
#[cfg(unix)]
#[test]
fn store_files_are_the_owners_only_whatever_the_umask_issue13_item7() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let input = tmp.path().join("in.jsonl");
    std::fs::write(
        &input,
        r#"{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann","email":"ann@example.com","job_title":"Engineer"}}"#
            .to_owned()
            + "\n",
    )
    .unwrap();
    ok(
        &data,
        &["ingest", "--format", "jsonl", input.to_str().unwrap()],
    );
    let out = tmp.path().join("ann.zip");
    ok(
        &data,
        &["export", "--subject", "ann", "--out", out.to_str().unwrap()],
    );
    ok(&data, &["keys", "rotate"]);
    // Issue 13 item 3: the blind-index key's own file, after a rotation.
    let said = ok(&data, &["keys", "rotate-blind-index"]);
    assert!(
        said.contains("blind-index key version 2 is current")
            && said.contains("blind-index key version 1 destroyed"),
        "{said}"
    );
    assert_eq!(mode(&data), 0o700, "the data directory");
    let mut all = Vec::new();
    walk(&data, &mut all);
    let names: Vec<String> = all
        .iter()
        .map(|p| p.strip_prefix(&data).unwrap().display().to_string())
        .collect();
    assert!(names.contains(&"jp.sqlite3".to_owned()), "{names:?}");
    assert!(names.contains(&"keys/keyring.json".to_owned()), "{names:?}");
    assert!(
        names.contains(&"blind-index/keys.json".to_owned()),
        "{names:?}"
    );
    for p in &all {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(p), want, "{}", p.display());
    }
    assert_eq!(mode(&out), 0o600, "the export");
    // A reader makes the WAL and shared-memory files: they get the database's mode.
    let db = data.join("jp.sqlite3");
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    for suffix in ["-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        assert!(p.exists(), "{}", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

fn message(from: Option<&str>, id: &str) -> String {
    let from = from.map(|f| format!("From: <{f}>\r\n")).unwrap_or_default();
    format!(
        "{from}To: <privacy@klustr.io>\r\nSubject: Please delete my data\r\nMessage-ID: <{id}@example.com>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nPlease erase all my personal data.\r\n"
    )
}

/// Issue 13 item 5: `intake email --after-seal move:DIR` moves the files
/// whose messages are sealed in the store and leaves the one that is not
/// (no sender: nothing stored), and says so; `--after-seal delete` deletes
/// them; the default keeps them.
#[test]
fn intake_deletes_or_moves_a_message_once_sealed_and_says_what_it_left_issue13_item5() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join("1.eml"), message(Some("ann@example.com"), "m1")).unwrap();
    std::fs::write(inbox.join("2.eml"), message(Some("bob@example.com"), "m2")).unwrap();
    std::fs::write(inbox.join("3.eml"), message(None, "m3")).unwrap();
    let done = tmp.path().join("done");
    let mv = format!("move:{}", done.display());
    let j: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &[
            "intake",
            "email",
            "--dir",
            inbox.to_str().unwrap(),
            "--after-seal",
            &mv,
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(j["files"]["moved"], 2, "{j}");
    assert_eq!(j["files"]["left: not sealed in the store"], 1, "{j}");
    let left: Vec<_> = std::fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("3.eml")]);
    let mut moved: Vec<_> = std::fs::read_dir(&done)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    moved.sort();
    assert_eq!(
        moved,
        vec![std::ffi::OsString::from("1.eml"), "2.eml".into()]
    );
    #[cfg(unix)]
    assert_eq!(mode(&done), 0o700);

    // Already sealed messages: kept by default, deleted when asked.
    let text = ok(&data, &["intake", "email", "--dir", done.to_str().unwrap()]);
    assert!(text.contains("files: 2 left: --after-seal keep"), "{text}");
    assert_eq!(std::fs::read_dir(&done).unwrap().count(), 2);
    let j: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &[
            "intake",
            "email",
            "--dir",
            done.to_str().unwrap(),
            "--after-seal",
            "delete",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(j["files"]["deleted"], 2, "{j}");
    assert_eq!(std::fs::read_dir(&done).unwrap().count(), 0);
}
