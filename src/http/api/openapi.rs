//! The served OpenAPI document: generated from the handlers, then completed with what only
//! the running shop knows (the region and destination values the catalogue accepts, which an
//! admin can change) and the rate-limit headers of every 429. Built once per catalogue
//! snapshot.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::OpenApi;

use super::ApiDoc;
use crate::domain::{Catalogue, PlanKind};
use crate::services::catalogue::CatalogueStore;

pub async fn openapi(State(store): State<CatalogueStore>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document(&store).as_str().to_owned()).into_response()
}

/// The document for the current snapshot, built when the snapshot changed.
pub fn document(store: &CatalogueStore) -> Arc<String> {
    static CACHE: Mutex<Option<(u64, Arc<String>)>> = Mutex::new(None);
    let snapshot = store.snapshot();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    match cache.as_ref() {
        Some((generation, doc)) if *generation == snapshot.generation => doc.clone(),
        _ => {
            let doc = Arc::new(build(&snapshot));
            *cache = Some((snapshot.generation, doc.clone()));
            doc
        }
    }
}

pub(super) fn build(catalogue: &Catalogue) -> String {
    let mut api = ApiDoc::openapi();
    super::webhook_docs::extend(&mut api);
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    // Derived from Cargo.toml, which names no licence; an empty one is invalid OpenAPI.
    if let Some(info) = doc["info"].as_object_mut() {
        info.remove("license");
    }
    let regions: Vec<&str> = catalogue.regions().iter().map(|r| r.id.as_str()).collect();
    let mut isos: Vec<String> = catalogue.destinations().iter().map(|d| d.iso.to_ascii_uppercase()).collect();
    isos.sort();
    let lower: Vec<String> = isos.iter().map(|i| i.to_ascii_lowercase()).collect();
    isos.extend(lower);
    let kinds: Vec<&str> = PlanKind::ALL.iter().map(|k| k.as_str()).collect();
    set_enum(&mut doc, "/destinations", "region", json!(regions));
    set_enum(&mut doc, "/plans", "region", json!(regions));
    set_enum(&mut doc, "/plans", "destination", json!(isos));
    set_enum(&mut doc, "/plans", "type", json!(kinds));
    add_rate_limit_headers(&mut doc);
    add_control_character_refusal(&mut doc);
    add_text_patterns(&mut doc);
    super::webhook_docs::add_webhooks(&mut doc);
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document serialises")
}

/// The GET `path`'s query parameter `name` takes one of `values`.
fn set_enum(doc: &mut Value, path: &str, name: &str, values: Value) {
    let Some(params) = doc["paths"][path]["get"]["parameters"].as_array_mut() else { return };
    for param in params.iter_mut().filter(|p| p["name"] == name) {
        param["schema"] = json!({ "type": "string", "enum": values });
    }
}

/// Every 429 says when to retry and which policy refused (IETF draft fields).
fn add_rate_limit_headers(doc: &mut Value) {
    let headers = json!({
        "Retry-After": {
            "description": "Seconds until one more request would be allowed",
            "schema": { "type": "integer", "minimum": 1 }
        },
        "RateLimit-Policy": {
            "description": "The policies that apply (draft-ietf-httpapi-ratelimit-headers), e.g. `\"api-writes\";q=20;w=60`",
            "schema": { "type": "string" }
        },
        "RateLimit": {
            "description": "What is left of each policy, e.g. `\"api-writes\";r=0;t=42`",
            "schema": { "type": "string" }
        }
    });
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        if let Some(limited) = operation.get_mut("responses").and_then(|r| r.get_mut("429")) {
            limited["headers"] = headers.clone();
        }
    }
}

/// Every operation may answer 422: `http::guard` refuses control characters in any query
/// string or body, whatever the operation, before its handler runs. Operations that do not
/// document a 422 of their own get a copy of one that does.
fn add_control_character_refusal(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    let operations = || paths.values().filter_map(Value::as_object).flat_map(|item| item.values());
    let Some(example) = operations().find_map(|op| op["responses"].get("422").cloned()) else { return };
    let mut refusal = example;
    refusal["description"] = json!(
        "Unprocessable: a value (or a name) in the query or body holds a control character, or the request fails a rule of this operation"
    );
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
            responses.entry("422").or_insert_with(|| refusal.clone());
        }
    }
}

/// No text in a request body may hold a control character but tab and line breaks (the input
/// guard's rule, `domain::text`): every string field of a request body without a pattern (or
/// an enum, or a format that excludes them) gets one saying so, and so do lists of strings.
fn add_text_patterns(doc: &mut Value) {
    const NO_CONTROL: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
    let schemas: Vec<String> = request_body_schemas(doc);
    for name in schemas {
        let Some(props) = doc["components"]["schemas"][&name]["properties"].as_object_mut() else { continue };
        for prop in props.values_mut() {
            let target = if is_type(prop, "array") { &mut prop["items"] } else { prop };
            let free_text = is_type(target, "string")
                && target.get("pattern").is_none()
                && target.get("enum").is_none()
                && !matches!(target["format"].as_str(), Some("uuid" | "date-time"));
            if free_text {
                target["pattern"] = json!(NO_CONTROL);
            }
        }
    }
}

/// The component names of the JSON request bodies.
fn request_body_schemas(doc: &Value) -> Vec<String> {
    let Some(paths) = doc["paths"].as_object() else { return Vec::new() };
    let operations = paths.values().filter_map(Value::as_object).flat_map(|item| item.values());
    let refs = operations.filter_map(|op| op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str());
    refs.filter_map(|r| r.strip_prefix("#/components/schemas/")).map(str::to_string).collect()
}

/// Whether the schema's `type` is `kind` (alone, or with `null`).
fn is_type(schema: &Value, kind: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == kind,
        Value::Array(types) => types.iter().any(|t| t == kind),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_and_headers_are_filled_in() {
        let doc: Value = serde_json::from_str(&build(&Catalogue::default())).unwrap();
        let params = doc["paths"]["/plans"]["get"]["parameters"].as_array().unwrap();
        let kind = params.iter().find(|p| p["name"] == "type").unwrap();
        assert_eq!(kind["schema"]["enum"], json!(["local", "regional", "global"]));
        let limited = &doc["paths"]["/orders"]["post"]["responses"]["429"];
        assert_eq!(limited["headers"]["Retry-After"]["schema"]["type"], "integer");
        assert!(doc["info"].get("license").is_none());
        // The input guard may refuse any operation's input with a 422.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(operation["responses"].get("422").is_some(), "{method} {path} documents 422");
            }
        }
    }

    #[test]
    fn request_bodies_take_no_unknown_fields_and_no_control_characters() {
        let doc: Value = serde_json::from_str(&build(&Catalogue::default())).unwrap();
        let names = request_body_schemas(&doc);
        assert!(names.len() >= 5, "{names:?}");
        for name in names {
            let schema = &doc["components"]["schemas"][&name];
            assert_eq!(schema["additionalProperties"], json!(false), "{name} refuses unknown fields");
            for (field, prop) in schema["properties"].as_object().unwrap() {
                let text = if is_type(prop, "array") { &prop["items"] } else { prop };
                if is_type(text, "string") && text.get("format").is_none() && text.get("enum").is_none() {
                    assert!(text["pattern"].is_string(), "{name}.{field} states its pattern");
                }
            }
        }
        let email = &doc["components"]["schemas"]["CreateOrderRequest"]["properties"]["email"];
        assert!(email["pattern"].as_str().unwrap().contains('@'), "the email's own pattern is kept");
    }
}
