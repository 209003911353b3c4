//! An incident's timeline (N8.5), as JSON and as a readable HTML page: the
//! incident's state, assessment, deadlines, roles, tasks, pages and every
//! event in order. No Service Data: the report's text stays sealed.

use super::Incident;
use crate::{CoreError, Steward};

/// HTML-escape `s` (`& < > " '`).
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn table(out: &mut String, caption: &str, head: &[&str], rows: Vec<Vec<String>>) {
    out.push_str(&format!("<h2>{}</h2>\n<table>\n<tr>", esc(caption)));
    for h in head {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            out.push_str(&format!("<td>{}</td>", esc(&c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// The HTML page of `inc`'s timeline (a whole document, UTF-8, no script).
pub fn html(inc: &Incident) -> String {
    let mut o = String::from("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    o.push_str(&format!(
        "<title>Incident {id}</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.2em .5em;text-align:left}}</style></head><body>\n<h1>Incident {id}</h1>\n",
        id = esc(&inc.id)
    ));
    let mut facts: Vec<(&str, String)> = vec![
        ("Kind", inc.kind.as_str().to_owned()),
        ("State", inc.state.as_str().to_owned()),
        (
            "Reported",
            format!("{} by {} ({})", inc.reported_at, inc.reporter, inc.channel),
        ),
        ("Aware", inc.aware_at.clone()),
        (
            "On call at awareness",
            inc.on_call.clone().unwrap_or_else(|| "nobody".into()),
        ),
    ];
    if let Some(a) = &inc.assessment {
        facts.push((
            "Severity / priority",
            format!("{} / {}", a.severity, a.priority),
        ));
        facts.push(("Route", a.route.as_str().to_owned()));
        facts.push((
            "APPI",
            if a.appi_reportable {
                "reportable"
            } else {
                "not reportable"
            }
            .into(),
        ));
        facts.push((
            "GDPR",
            if a.gdpr {
                "notifiable"
            } else {
                "not notifiable"
            }
            .into(),
        ));
        facts.push(("People affected", a.people.to_string()));
    }
    o.push_str("<dl>\n");
    for (k, v) in facts {
        o.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", esc(k), esc(&v)));
    }
    o.push_str("</dl>\n");
    table(
        &mut o,
        "Deadlines",
        &["clock", "due", "filed"],
        inc.deadlines
            .iter()
            .map(|d| {
                vec![
                    d.clock.clone(),
                    d.due_at.clone(),
                    d.done_at.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    table(
        &mut o,
        "Roles",
        &["when", "role", "who", "from", "recorded by"],
        inc.roles
            .iter()
            .map(|r| {
                vec![
                    r.at.clone(),
                    r.role.as_str().into(),
                    r.member.clone(),
                    r.from.clone().unwrap_or_default(),
                    r.by.clone(),
                ]
            })
            .collect(),
    );
    table(
        &mut o,
        "Tasks",
        &["id", "task", "owner", "due", "done"],
        inc.tasks
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.title.clone(),
                    t.owner.clone(),
                    t.due_at.clone(),
                    t.done_at.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    table(
        &mut o,
        "Timeline",
        &["when", "who", "what"],
        inc.events
            .iter()
            .map(|e| vec![e.at.clone(), e.by.clone(), e.what.clone()])
            .collect(),
    );
    o.push_str("</body></html>\n");
    o
}

impl Steward {
    /// Incident `id`'s timeline as JSON (the incident row, pretty-printed),
    /// decided and audited like [`Steward::incident`].
    ///
    /// Errors: as [`Steward::incident`].
    pub fn incident_timeline_json(&self, by: &str, id: &str) -> Result<String, CoreError> {
        let inc = self.incident(by, id)?;
        serde_json::to_string_pretty(&inc).map_err(|e| CoreError::Input(e.to_string()))
    }

    /// Incident `id`'s timeline as an HTML page ([`html`]).
    ///
    /// Errors: as [`Steward::incident`].
    pub fn incident_timeline_html(&self, by: &str, id: &str) -> Result<String, CoreError> {
        Ok(html(&self.incident(by, id)?))
    }
}
