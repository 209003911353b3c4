//! `/docs`: the API reference as one HTML page, rendered on the server from
//! the same utoipa OpenAPI 3.1 document that `/openapi.json` serves (issue 4
//! item 5). No JavaScript, no external style sheet, font or CDN: the page
//! works on a machine that is offline, and its Content-Security-Policy
//! forbids loading anything but its own inline styles.
//!
//! For each operation, grouped by tag: method and path, summary and
//! description, security (bearer token or none), parameters (name, location,
//! required, type, description), request body (media types and schema) and
//! responses (status, description, media types, schema). Then every
//! component schema with its properties. Every text taken from the document
//! is HTML-escaped.

use std::fmt::Write as _;

use serde_json::Value;

/// The Content-Security-Policy sent with the page: nothing external, no script.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Escape `s` for HTML text and attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// An id usable as an HTML anchor: `[A-Za-z0-9-]` only.
pub(crate) fn anchor(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The HTTP methods a path item of the document may hold, in page order.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A short description of a JSON Schema: a link for a `$ref`, `array of …`,
/// `T | null` for 3.1 nullable types, else the type name.
fn schema_type(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(xs) = s.get(key).and_then(Value::as_array) {
            let sep = if key == "allOf" { " &amp; " } else { " | " };
            return xs.iter().map(schema_type).collect::<Vec<_>>().join(sep);
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    };
    let mut out = if let Some(rest) = ty.strip_prefix("array") {
        let item = s.get("items").map(schema_type).unwrap_or_default();
        format!("array of {item}{}", esc(rest))
    } else if ty.is_empty() {
        "any".to_owned()
    } else {
        esc(&ty)
    };
    if let Some(f) = s.get("format").and_then(Value::as_str) {
        let _ = write!(out, " ({})", esc(f));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        let vals: Vec<String> = e.iter().map(|v| esc(&v.to_string())).collect();
        let _ = write!(out, ": one of {}", vals.join(", "));
    }
    out
}

/// The media types and schemas of a request body or response `content`.
fn content(c: &Value) -> String {
    let Some(map) = c.as_object() else {
        return String::new();
    };
    map.iter()
        .map(|(mt, m)| {
            let schema = m.get("schema").map(schema_type).unwrap_or_default();
            format!("<code>{}</code> {schema}", esc(mt))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn security(op: &Value, doc: &Value) -> String {
    let sec = op.get("security").or_else(|| doc.get("security"));
    let reqs: Vec<String> = sec
        .and_then(Value::as_array)
        .map(|xs| {
            xs.iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys().cloned())
                .collect()
        })
        .unwrap_or_default();
    if reqs.is_empty() {
        "none: no credential needed".to_owned()
    } else {
        reqs.iter()
            .map(|r| {
                if r == "bearer" {
                    "<code>Authorization: Bearer &lt;token&gt;</code>".to_owned()
                } else {
                    esc(r)
                }
            })
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

fn operation(out: &mut String, doc: &Value, method: &str, path: &str, op: &Value) {
    let id = anchor(&format!("op-{method}-{path}"));
    let _ = write!(
        out,
        "<section class=\"op\" id=\"{id}\"><h3><span class=\"m m-{method}\">{}</span> <code>{}</code></h3>",
        method.to_ascii_uppercase(),
        esc(path)
    );
    if let Some(s) = op.get("summary").and_then(Value::as_str) {
        let _ = write!(out, "<p class=\"summary\">{}</p>", esc(s));
    }
    if let Some(d) = op.get("description").and_then(Value::as_str) {
        for para in d.split("\n\n") {
            let _ = write!(out, "<p>{}</p>", esc(para));
        }
    }
    let _ = write!(
        out,
        "<p><strong>Security:</strong> {}</p>",
        security(op, doc)
    );
    if let Some(ps) = op
        .get("parameters")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    {
        out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>");
        for p in ps {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(s("name")),
                esc(s("in")),
                if p.get("required").and_then(Value::as_bool) == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                p.get("schema").map(schema_type).unwrap_or_default(),
                esc(s("description"))
            );
        }
        out.push_str("</table>");
    }
    if let Some(b) = op.get("requestBody") {
        let _ = write!(
            out,
            "<h4>Request body{}</h4><p>{}</p>",
            if b.get("required").and_then(Value::as_bool) == Some(true) {
                " (required)"
            } else {
                ""
            },
            b.get("content").map(content).unwrap_or_default()
        );
        if let Some(d) = b.get("description").and_then(Value::as_str) {
            let _ = write!(out, "<p>{}</p>", esc(d));
        }
    }
    if let Some(rs) = op.get("responses").and_then(Value::as_object) {
        out.push_str(
            "<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>body</th></tr>",
        );
        for (status, r) in rs {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(status),
                esc(r.get("description").and_then(Value::as_str).unwrap_or("")),
                r.get("content").map(content).unwrap_or_default()
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>\n");
}

fn schemas(out: &mut String, doc: &Value) {
    let Some(map) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return;
    };
    out.push_str("<h2 id=\"schemas\">Schemas</h2>\n");
    for (name, s) in map {
        let _ = write!(
            out,
            "<section class=\"schema\" id=\"schema-{}\"><h3>{}</h3>",
            anchor(name),
            esc(name)
        );
        if let Some(d) = s.get("description").and_then(Value::as_str) {
            let _ = write!(out, "<p>{}</p>", esc(d));
        }
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match s.get("properties").and_then(Value::as_object) {
            Some(props) => {
                out.push_str("<table><tr><th>property</th><th>type</th><th>required</th><th>description</th></tr>");
                for (p, ps) in props {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(p),
                        schema_type(ps),
                        if required.contains(&p.as_str()) {
                            "yes"
                        } else {
                            "no"
                        },
                        esc(ps.get("description").and_then(Value::as_str).unwrap_or(""))
                    );
                }
                out.push_str("</table>");
            }
            None => {
                let _ = write!(out, "<p>{}</p>", schema_type(s));
            }
        }
        out.push_str("</section>\n");
    }
}

/// Render the HTML page of an OpenAPI 3.1 document (as JSON).
pub(crate) fn render(doc: &Value) -> String {
    let info = |k: &str| {
        doc.pointer(&format!("/info/{k}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} API {version}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem 2rem;line-height:1.45;color:#1b1b1b}}\
code{{font-family:ui-monospace,monospace;font-size:.92em}}\
table{{border-collapse:collapse;margin:.4rem 0 1rem}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
th{{background:#f3f3f3}}section.op{{border-top:1px solid #ddd;padding-top:.5rem}}\
.m{{display:inline-block;min-width:4.5rem;font-family:ui-monospace,monospace;font-weight:bold}}\
.m-get{{color:#0a5}}.m-post{{color:#06c}}.m-put,.m-patch{{color:#a60}}.m-delete{{color:#c22}}\
nav ul{{columns:2}}\
</style></head><body>\n<h1>{title} API <small>{version}</small></h1>\n<p>{desc}</p>\n\
<p>OpenAPI {openapi} document: <a href=\"/openapi.json\">/openapi.json</a> (this page is rendered from it). \
Errors are RFC 9457 <code>application/problem+json</code>.</p>\n",
        title = esc(info("title")),
        version = esc(info("version")),
        desc = esc(info("description")),
        openapi = esc(doc.get("openapi").and_then(Value::as_str).unwrap_or("")),
    );
    // Operations grouped by their first tag, in the document's tag order.
    let mut groups: Vec<(String, String, Vec<(String, String, Value)>)> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| {
                    Some((
                        t.get("name")?.as_str()?.to_owned(),
                        t.get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        Vec::new(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for m in METHODS {
                let Some(op) = item.get(m) else { continue };
                let tag = op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or("other")
                    .to_owned();
                let i = match groups.iter().position(|g| g.0 == tag) {
                    Some(i) => i,
                    None => {
                        groups.push((tag, String::new(), Vec::new()));
                        groups.len() - 1
                    }
                };
                groups[i].2.push((m.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out.push_str("<nav><h2>Operations</h2><ul>");
    for (tag, _, ops) in &groups {
        for (m, p, _) in ops {
            let _ = write!(
                out,
                "<li><a href=\"#{}\"><span class=\"m m-{m}\">{}</span></a> <code>{}</code> <small>({})</small></li>",
                anchor(&format!("op-{m}-{p}")),
                m.to_ascii_uppercase(),
                esc(p),
                esc(tag)
            );
        }
    }
    out.push_str("</ul><p><a href=\"#schemas\">Schemas</a></p></nav>\n");
    for (tag, desc, ops) in &groups {
        if ops.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h2 id=\"tag-{}\">{}</h2><p>{}</p>",
            anchor(tag),
            esc(tag),
            esc(desc)
        );
        for (m, p, op) in ops {
            operation(&mut out, doc, m, p, op);
        }
    }
    schemas(&mut out, doc);
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_document_is_escaped() {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "<b>T</b>", "version": "1"},
            "paths": {"/x/{a}": {"get": {
                "tags": ["t"], "description": "a <script>alert(1)</script> & b",
                "parameters": [{"name": "a\"b", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}
            }}},
            "components": {"schemas": {"Out": {"type": "object", "required": ["n"], "properties": {"n": {"type": ["integer", "null"], "format": "int64"}}}}}
        });
        let page = render(&doc);
        assert!(page.contains("&lt;b&gt;T&lt;/b&gt;"));
        assert!(page.contains("a &lt;script&gt;alert(1)&lt;/script&gt; &amp; b"));
        assert!(
            page.contains("<code>a&quot;b</code></td><td>path</td><td>yes</td><td>string</td>")
        );
        assert!(page.contains("<a href=\"#schema-Out\">Out</a>"));
        assert!(
            page.contains("<td><code>n</code></td><td>integer | null (int64)</td><td>yes</td>")
        );
        assert!(page.contains("none: no credential needed"));
        assert!(!page.contains("<script>"));
    }
}
