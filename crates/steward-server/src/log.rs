//! Structured logs: one JSON object per line on standard error. Callers
//! pass route templates, ids and counts, never Service Data.

/// Write one log line: `{"ts":…,"level":…,"msg":…, …fields}`.
pub(crate) fn event(level: &str, msg: &str, fields: serde_json::Value) {
    let mut obj = serde_json::Map::new();
    obj.insert(
        "ts".into(),
        time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
            .into(),
    );
    obj.insert("level".into(), level.into());
    obj.insert("msg".into(), msg.into());
    if let serde_json::Value::Object(m) = fields {
        obj.extend(m);
    }
    eprintln!("{}", serde_json::Value::Object(obj));
}
