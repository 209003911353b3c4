use super::*;

fn msg(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}").into_bytes()
}

#[test]
fn english_erasure_in_subject_n7_4() {
    let raw = msg(
        "From: \"Ann Example\" <Ann@Example.COM>\r\nTo: privacy@provider.example\r\nSubject: Please delete my account\r\nMessage-ID: <abc@example.com>\r\nDate: Wed, 22 Mar 2000 12:31:33 -0800",
        "Thanks.",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.message_id.as_deref(), Some("abc@example.com"));
    let from = m.from.as_ref().unwrap();
    assert_eq!(from.address, "ann@example.com");
    assert_eq!(from.display_name.as_deref(), Some("Ann Example"));
    assert_eq!(m.to, vec!["privacy@provider.example".to_string()]);
    // 12:31:33 at -08:00 is 20:31:33 UTC (by hand).
    assert_eq!(m.date.as_deref(), Some("2000-03-22T20:31:33Z"));
    assert_eq!(m.body_source, BodySource::Plain);
    assert_eq!(m.body.trim(), "Thanks.");
    assert_eq!(m.classification.request_type, Some(RequestType::Erasure));
    assert_eq!(
        m.classification.reason,
        "erasure: \"delet\" (en) in the subject"
    );
}

#[test]
fn german_access_in_encoded_word_subject_n7_4() {
    // "Auskunft über meine Daten" as an RFC 2047 Q encoded word (ISO-8859-1).
    let raw = msg(
        "From: Bernd <bernd@example.de>\r\nSubject: =?iso-8859-1?Q?Auskunft_=FCber_meine_Daten?=",
        "Hallo",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.subject.as_deref(), Some("Auskunft über meine Daten"));
    assert_eq!(m.classification.request_type, Some(RequestType::Access));
    assert_eq!(
        m.classification.reason,
        "access: \"auskunft\" (de) in the subject"
    );
}

#[test]
fn iso_2022_jp_subject_decodes_and_classifies_n7_4() {
    // "個人データの削除" in ISO-2022-JP, base64 (python3:
    // base64.b64encode("個人データの削除".encode("iso-2022-jp"))).
    let raw = msg(
        "From: j@example.jp\r\nSubject: =?ISO-2022-JP?B?GyRCOEQ/TSVHITwlPyROOm89fBsoQg==?=",
        "",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.subject.as_deref(), Some("個人データの削除"));
    assert_eq!(m.classification.request_type, Some(RequestType::Erasure));
    assert_eq!(
        m.classification.reason,
        "erasure: \"削除\" (ja) in the subject"
    );
}

#[test]
fn japanese_disclosure_request_in_a_shift_jis_body_n7_4() {
    // Body "保有個人データの開示を請求します。" in Shift_JIS, base64 (python3:
    // base64.b64encode("保有個人データの開示を請求します。".encode("shift_jis"))).
    let raw = msg(
        "From: k@example.jp\r\nSubject: =?UTF-8?B?44GK5ZWP44GE5ZCI44KP44Gb?=\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: base64",
        "lduXTIzCkGyDZoFbg16CzIpKjqaC8JC/i4GCtYLcgreBQg==",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.subject.as_deref(), Some("お問い合わせ"));
    assert_eq!(m.body.trim(), "保有個人データの開示を請求します。");
    assert_eq!(m.classification.request_type, Some(RequestType::Access));
    assert_eq!(m.classification.reason, "access: \"開示\" (ja) in the body");
    // APPI's combined name for Art. 35 names two types: ambiguous.
    let c = classify(Some("利用停止・消去の請求"), "");
    assert_eq!(c.request_type, None);
    assert!(
        c.reason.contains("restriction") && c.reason.contains("erasure"),
        "{}",
        c.reason
    );
}

#[test]
fn body_decides_when_subject_is_silent_and_compounds_match_n7_4() {
    // Base64 of "Ich bitte um Datenlöschung." in UTF-8 (python3 base64.b64encode).
    let raw = msg(
        "From: c@example.de\r\nSubject: Anfrage\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64",
        "SWNoIGJpdHRlIHVtIERhdGVubMO2c2NodW5nLg==",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.body.trim(), "Ich bitte um Datenlöschung.");
    assert_eq!(m.classification.request_type, Some(RequestType::Erasure));
    assert_eq!(
        m.classification.reason,
        "erasure: \"lösch\" (de) in the body"
    );
}

#[test]
fn html_only_body_is_converted_and_classified_n7_4() {
    let raw = msg(
        "From: d@example.com\r\nSubject: hello\r\nContent-Type: text/html; charset=us-ascii",
        "<html><body><p>I want to <b>export</b> my data</p></body></html>",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.body_source, BodySource::Html);
    assert!(!m.body.contains('<'), "tags stripped");
    assert_eq!(m.classification.request_type, Some(RequestType::Export));
}

#[test]
fn each_type_has_an_english_phrase_that_classifies_to_it_n7_4() {
    let cases = [
        ("Subject access request", RequestType::Access),
        ("Data portability", RequestType::Export),
        ("Please rectify my address", RequestType::Rectification),
        ("Restriction of processing", RequestType::Restriction),
        ("I object to marketing", RequestType::Objection),
        ("Right to be forgotten", RequestType::Erasure),
        ("Widerspruch gegen Werbung", RequestType::Objection),
        ("Einschränkung der Verarbeitung", RequestType::Restriction),
        ("Berichtigung meiner Anschrift", RequestType::Rectification),
        ("Recht auf Datenübertragbarkeit", RequestType::Export),
    ];
    for (subject, want) in cases {
        let c = classify(Some(subject), "");
        assert_eq!(c.request_type, Some(want), "{subject}: {}", c.reason);
    }
}

#[test]
fn ambiguous_and_silent_messages_have_no_type_with_a_reason_n7_4() {
    let c = classify(Some("Copy of my data, then delete it"), "");
    assert_eq!(c.request_type, None);
    assert_eq!(
        c.reason,
        "could not tell which request: the subject asks for erasure (\"delet\" (en)) and access (\"copy of my\" (en))"
    );
    let c = classify(
        Some("The Hare and the Tortoise"),
        "Slow but steady wins the race.",
    );
    assert_eq!(c.request_type, None);
    assert!(c.matches.is_empty());
    assert!(
        c.reason
            .starts_with("could not tell which request: no request words")
    );
    // Word boundaries: "objectionable" is a prefix match of "objection",
    // but "subobject to" is not the phrase "object to"; "portable" is.
    assert_eq!(classify(None, "a subobject toy").request_type, None);
    // A phrase matches across a line break.
    assert_eq!(
        classify(None, "I want to opt\r\n out").request_type,
        Some(RequestType::Objection)
    );
}

#[test]
fn subject_wins_over_body_n7_4() {
    let c = classify(
        Some("Erasure request"),
        "please also send a copy of my data",
    );
    assert_eq!(c.request_type, Some(RequestType::Erasure));
    assert_eq!(c.matches.len(), 2);
}

#[test]
fn attachments_are_listed_by_name_type_and_size_only() {
    // "hello" base64 = aGVsbG8= (5 bytes decoded).
    let raw = msg(
        "From: e@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"",
        "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\nContent-Type: application/pdf; name=\"id.pdf\"\r\nContent-Disposition: attachment; filename=\"id.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--XX--\r\n",
    );
    let m = parse("t.eml", &raw).unwrap();
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name.as_deref(), Some("id.pdf"));
    assert_eq!(m.attachments[0].content_type, "application/pdf");
    assert_eq!(m.attachments[0].size, 5);
    assert_eq!(m.body.trim(), "see attached");
    let dbg = format!("{m:?}");
    assert!(
        !dbg.contains("id.pdf") && !dbg.contains("e@example.com") && !dbg.contains("see attached"),
        "{dbg}"
    );
}

#[test]
fn bad_inputs_are_named_errors_not_panics() {
    assert_eq!(parse("a.eml", b"").unwrap_err().name(), "empty");
    assert_eq!(parse("a.eml", b" \r\n ").unwrap_err().name(), "empty");
    let big = vec![b'a'; MAX_MESSAGE_BYTES + 1];
    let e = parse("big.eml", &big).unwrap_err();
    assert_eq!(e.name(), "too_large");
    assert!(
        e.to_string()
            .starts_with("big.eml: the message is 26214401 bytes"),
        "{e}"
    );
    // No From, no Message-ID: parsed, fields absent.
    let m = parse("n.eml", b"Subject: hi\r\n\r\nbody").unwrap();
    assert!(m.from.is_none() && m.message_id.is_none() && m.date.is_none());
    // A From that is not an address is no sender.
    let m = parse("n.eml", b"From: nobody here\r\nSubject: x\r\n\r\nb").unwrap();
    assert!(m.from.is_none());
    // An impossible date (month 13) is no date.
    let m = parse(
        "n.eml",
        b"From: a@b.c\r\nDate: Wed, 32 Foo 2000 25:61:61 +9999\r\n\r\nb",
    )
    .unwrap();
    assert!(m.date.is_none());
    // Bytes that are no header field at all.
    assert_eq!(
        parse("j.eml", b"\x00\x01 not mail").unwrap_err().name(),
        "not_a_message"
    );
    for junk in [
        &b"\x00\xff\xfe"[..],
        b"::::",
        b"\r\n\r\n\r\nx",
        b"=?utf-8?B?////?=",
    ] {
        let _ = parse("j.eml", junk);
    }
}
