//! The API reference at `/api/v1/docs`: the served OpenAPI document (every tag, operation,
//! parameter, request body field, response and the auth each takes) as a server-rendered page
//! that needs no JavaScript. The view is built from the document itself, once per catalogue
//! snapshot, so the page can never describe another API than `/api/v1/openapi.json`.

use std::sync::{Arc, Mutex};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde_json::Value;

use crate::http::page::PageContext;
use crate::http::web::Layout;
use crate::services::catalogue::CatalogueStore;

/// Longer `enum`s (every destination code, in two cases) are cut to this many values.
const ENUM_SHOWN: usize = 12;

#[derive(Template, WebTemplate)]
#[template(path = "api/docs.html")]
pub struct DocsPage {
    pub ctx: PageContext,
    pub api: Arc<Reference>,
}

pub async fn docs(State(store): State<CatalogueStore>) -> DocsPage {
    let layout = Layout::new("API reference").described(
        "The Tern JSON API for mobile apps and partners: every endpoint, its parameters, request body, answers and authentication.".into(),
    );
    DocsPage { ctx: PageContext::public(layout), api: reference(&store) }
}

/// The view of the document for the current snapshot, built when the snapshot changed.
fn reference(store: &CatalogueStore) -> Arc<Reference> {
    static CACHE: Mutex<Option<(u64, Arc<Reference>)>> = Mutex::new(None);
    let generation = store.snapshot().generation;
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    match cache.as_ref() {
        Some((built, view)) if *built == generation => view.clone(),
        _ => {
            let doc: Value = serde_json::from_str(&super::openapi::document(store)).unwrap_or_default();
            let view = Arc::new(Reference::new(&doc));
            *cache = Some((generation, view.clone()));
            view
        }
    }
}

/// Prose from the document: paragraphs (split at blank lines) of plain and `code` spans.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Text(pub Vec<Vec<Span>>);

#[derive(Debug, PartialEq, Eq)]
pub struct Span {
    pub code: bool,
    pub text: String,
}

impl Text {
    pub fn new(source: &str) -> Self {
        let paragraphs = source.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "));
        Text(
            paragraphs
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let spans = p.split('`').enumerate().filter(|(_, s)| !s.is_empty());
                    spans.map(|(i, s)| Span { code: i % 2 == 1, text: s.to_string() }).collect()
                })
                .collect(),
        )
    }

    fn of(value: &Value) -> Self {
        value.as_str().map(Text::new).unwrap_or_default()
    }
}

pub struct Reference {
    pub title: String,
    pub version: String,
    pub description: Text,
    /// The servers' base path, put before every operation's path: `/api/v1`.
    pub base: String,
    pub schemes: Vec<Scheme>,
    pub tags: Vec<Tag>,
    pub operation_count: usize,
}

pub struct Scheme {
    pub name: String,
    /// `HTTP bearer`.
    pub kind: String,
    pub description: Text,
}

pub struct Tag {
    pub name: String,
    pub title: String,
    pub description: Text,
    pub operations: Vec<Operation>,
}

pub struct Operation {
    /// The `operationId`: the section's anchor.
    pub id: String,
    pub method: String,
    pub path: String,
    pub summary: Text,
    pub description: Text,
    pub auth: Auth,
    pub parameters: Vec<Field>,
    pub body: Option<Body>,
    pub responses: Vec<Answer>,
}

/// The `security` of an operation: who may call it.
#[derive(Debug, PartialEq, Eq)]
pub struct Auth {
    /// An anonymous call is allowed too (an empty requirement).
    pub optional: bool,
    /// The schemes any one of which is accepted.
    pub schemes: Vec<String>,
}

/// A parameter or a request body's field.
#[derive(Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// `query`, `path` or `header`; empty for a body field.
    pub location: String,
    pub required: bool,
    pub type_label: String,
    pub constraints: Vec<String>,
    pub description: Text,
}

pub struct Body {
    pub content_type: String,
    pub required: bool,
    pub type_label: String,
    pub fields: Vec<Field>,
}

pub struct Answer {
    pub status: String,
    pub description: Text,
    /// `Problem (application/problem+json)`, if the answer has a body.
    pub body: Option<String>,
    pub headers: Vec<String>,
}

const METHODS: [&str; 8] = ["get", "put", "post", "patch", "delete", "head", "options", "trace"];

impl Reference {
    pub fn new(doc: &Value) -> Self {
        let mut tags: Vec<Tag> = doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some(tag(t["name"].as_str()?, Text::of(&t["description"]))))
            .collect();
        let mut operation_count = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                let op = operation(doc, path, method, &item[*method]);
                let name = item[*method]["tags"][0].as_str().unwrap_or("other");
                let at = tags.iter().position(|t| t.name == name).unwrap_or_else(|| {
                    tags.push(tag(name, Text::default()));
                    tags.len() - 1
                });
                tags[at].operations.push(op);
                operation_count += 1;
            }
        }
        tags.retain(|t| !t.operations.is_empty());
        let schemes = doc["components"]["securitySchemes"].as_object().into_iter().flatten();
        Reference {
            title: doc["info"]["title"].as_str().unwrap_or("API").to_string(),
            version: doc["info"]["version"].as_str().unwrap_or_default().to_string(),
            description: Text::of(&doc["info"]["description"]),
            base: doc["servers"][0]["url"].as_str().unwrap_or_default().trim_end_matches('/').to_string(),
            schemes: schemes
                .map(|(name, s)| Scheme {
                    name: name.clone(),
                    kind: [s["type"].as_str(), s["scheme"].as_str()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                    description: Text::of(&s["description"]),
                })
                .collect(),
            tags,
            operation_count,
        }
    }
}

fn tag(name: &str, description: Text) -> Tag {
    let mut title: Vec<char> = name.chars().collect();
    if let Some(first) = title.first_mut() {
        *first = first.to_ascii_uppercase();
    }
    Tag { name: name.to_string(), title: title.into_iter().collect(), description, operations: Vec::new() }
}

fn operation(doc: &Value, path: &str, method: &str, op: &Value) -> Operation {
    let parameters = op["parameters"].as_array().into_iter().flatten().map(|p| {
        let schema = resolve(doc, &p["schema"]);
        Field {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            location: p["in"].as_str().unwrap_or_default().to_string(),
            required: p["required"].as_bool().unwrap_or(false),
            type_label: type_label(&p["schema"]),
            constraints: constraints(schema),
            description: Text::of(&p["description"]),
        }
    });
    Operation {
        id: op["operationId"].as_str().map_or_else(|| format!("{method}-{path}"), str::to_string),
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        summary: Text::of(&op["summary"]),
        description: Text::of(&op["description"]),
        auth: auth(&op["security"]),
        parameters: parameters.collect(),
        body: body(doc, &op["requestBody"]),
        responses: op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(status, r)| Answer {
                status: status.clone(),
                description: Text::of(&r["description"]),
                body: first_content(r).map(|(kind, media)| format!("{} ({kind})", type_label(&media["schema"]))),
                headers: r["headers"].as_object().map(|h| h.keys().cloned().collect()).unwrap_or_default(),
            })
            .collect(),
    }
}

fn auth(security: &Value) -> Auth {
    let requirements = security.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut schemes: Vec<String> = Vec::new();
    for name in requirements.iter().filter_map(Value::as_object).flat_map(|r| r.keys()) {
        if !schemes.contains(name) {
            schemes.push(name.clone());
        }
    }
    let optional = requirements.iter().any(|r| r.as_object().is_some_and(|r| r.is_empty()));
    Auth { optional: optional || schemes.is_empty(), schemes }
}

fn first_content(holder: &Value) -> Option<(&String, &Value)> {
    holder["content"].as_object().and_then(|c| c.iter().next())
}

/// The request body, its `$ref` resolved one level to list the fields.
fn body(doc: &Value, request: &Value) -> Option<Body> {
    let (content_type, media) = first_content(request)?;
    let schema = resolve(doc, &media["schema"]);
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let fields = schema["properties"].as_object().into_iter().flatten().map(|(name, field)| Field {
        name: name.clone(),
        location: String::new(),
        required: required.contains(&name.as_str()),
        type_label: type_label(field),
        constraints: constraints(resolve(doc, field)),
        description: Text::of(&field["description"]),
    });
    Some(Body {
        content_type: content_type.clone(),
        required: request["required"].as_bool().unwrap_or(false),
        type_label: type_label(&media["schema"]),
        fields: fields.collect(),
    })
}

/// A `#/components/schemas/…` reference's target, or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) if !doc["components"]["schemas"][name].is_null() => &doc["components"]["schemas"][name],
        _ => schema,
    }
}

/// What a schema is, in a few words: `string (uuid)`, `array of PlanResponse`, `integer or null`.
pub fn type_label(schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str() {
        return name.rsplit('/').next().unwrap_or(name).to_string();
    }
    for (key, joint) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(list) = schema[key].as_array() {
            return list.iter().map(type_label).collect::<Vec<_>>().join(joint);
        }
    }
    if let Some(value) = schema.get("const") {
        return format!("always {value}");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.is_empty() {
        return if schema["enum"].is_array() { "string".into() } else { "any".into() };
    }
    let one = |t: &str| match (t, schema["format"].as_str()) {
        ("array", _) => format!("array of {}", type_label(&schema["items"])),
        ("null", _) => "null".to_string(),
        (t, Some(format)) => format!("{t} ({format})"),
        (t, None) => t.to_string(),
    };
    types.into_iter().map(one).collect::<Vec<_>>().join(" or ")
}

/// The rules a value must follow: allowed values, range, length, pattern, default.
pub fn constraints(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = schema["enum"].as_array().filter(|v| !v.is_empty()) {
        let shown: Vec<String> = values.iter().take(ENUM_SHOWN).map(plain).collect();
        let more = values.len().saturating_sub(ENUM_SHOWN);
        let tail = if more > 0 { format!(", … ({} values in all)", values.len()) } else { String::new() };
        out.push(format!("one of {}{tail}", shown.join(", ")));
    }
    let bound = |key: &str| schema.get(key).map(plain);
    match (bound("minimum"), bound("maximum")) {
        (Some(min), Some(max)) => out.push(format!("from {min} to {max}")),
        (Some(min), None) => out.push(format!("at least {min}")),
        (None, Some(max)) => out.push(format!("at most {max}")),
        (None, None) => {}
    }
    let (min, max) = (bound("minLength"), bound("maxLength"));
    match (min, max) {
        (Some(min), Some(max)) => out.push(format!("{min} to {max} characters")),
        (Some(min), None) => out.push(format!("at least {min} characters")),
        (None, Some(max)) => out.push(format!("at most {max} characters")),
        (None, None) => {}
    }
    if let Some(max) = bound("maxItems") {
        out.push(format!("at most {max} items"));
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        out.push(format!("matches {pattern}"));
    }
    if let Some(default) = bound("default") {
        out.push(format!("default {default}"));
    }
    out
}

/// A JSON value as the page shows it: strings without their quotes.
fn plain(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

#[cfg(test)]
mod tests;
