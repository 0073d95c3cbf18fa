//! Spec validation: every recorded answer and accepted request body against Telnyx's OpenAPI spec.

use super::*;

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(include_str!("../../../../tests/fixtures/telnyx-openapi-esim.json")).expect("spec JSON")
    })
}

/// Checks instances against `schema` with the spec's components reachable, formats included.
fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": spec()["components"],
        }))
        .expect("a valid JSON Schema")
}

fn resolve(value: &'static Value) -> &'static Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec().pointer(reference.trim_start_matches('#')).expect("ref resolves"),
        None => value,
    }
}

/// The spec operation for a concrete path: the template with the same segments, literal
/// segments preferred over `{id}`.
fn operation(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let paths = spec()["paths"].as_object().expect("paths");
    paths
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template.as_str(), item.get(method.to_lowercase())?))
        })
        .max_by_key(|(literal, ..)| *literal)
        .map(|(_, template, op)| (template, op))
}

/// The schema for `status` in `op`: the declared response, or `default` for an error status.
/// `Ok(None)` when the response is declared without a body (401) or, for an error status, not
/// declared at all.
fn response_schema(op: &'static Value, status: u16) -> Result<Option<&'static Value>, String> {
    let responses = &op["responses"];
    let error = status >= 400;
    match responses.get(status.to_string()).or_else(|| responses.get("default").filter(|_| error)) {
        Some(response) => Ok(resolve(response).pointer("/content/application~1json/schema")),
        None if error => Ok(None),
        None => Err(format!("status {status} is not declared")),
    }
}

/// Where the spec declares no body for an error status (401, purchase errors), the emulator
/// still answers Telnyx's standard envelope: check that one.
fn fallback_error_schema() -> Value {
    json!({ "$ref": "#/components/schemas/wireless_Errors", "required": ["errors"] })
}

/// Every way `recorded` departs from the spec, as readable lines.
pub(super) fn spec_problems(recorded: &[RecordedRequest]) -> Vec<String> {
    let mut validators: HashMap<String, jsonschema::Validator> = HashMap::new();
    let mut problems = Vec::new();
    let mut check = |key: String, schema: &Value, instance: &Value, what: &str, problems: &mut Vec<String>| {
        let validator = validators.entry(key.clone()).or_insert_with(|| validator(schema));
        for error in validator.iter_errors(instance) {
            problems.push(format!("{key} {what}: {error} at {}", error.instance_path));
        }
    };
    for r in recorded {
        let label = format!("{} {}?{} → {}", r.method, r.path, r.query, r.status);
        if r.status == 499 {
            continue; // the client hung up before any answer
        }
        let Some((template, op)) = operation(&r.method, &r.path) else {
            // A path Telnyx does not have may only be refused, in the standard envelope.
            if r.status == 404 {
                check("unknown route 404".into(), &fallback_error_schema(), &r.response, "response", &mut problems);
            } else {
                problems.push(format!("{label}: no such operation in the spec"));
            }
            continue;
        };
        let key = format!("{} {template} {}", r.method, r.status);
        let success = (200..300).contains(&r.status);
        match response_schema(op, r.status) {
            Err(message) => problems.push(format!("{label}: {message}")),
            Ok(Some(schema)) => {
                if success && r.response.is_null() {
                    problems.push(format!("{label}: empty body where the spec declares one"));
                }
                if !r.response.is_null() {
                    check(key.clone(), schema, &r.response, "response", &mut problems);
                }
            }
            Ok(None) if r.response.is_null() => {}
            Ok(None) => check(
                format!("{key} (errors envelope)"),
                &fallback_error_schema(),
                &r.response,
                "response",
                &mut problems,
            ),
        }
        if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
            let required = op.pointer("/requestBody/required").and_then(Value::as_bool).unwrap_or(false);
            match &r.body {
                // The emulator may refuse a bad body; it must never accept one.
                Some(body) if success => {
                    check(format!("{} {template} request", r.method), schema, body, "request", &mut problems)
                }
                None if success && required => problems.push(format!("{label}: accepted without the required body")),
                _ => {}
            }
        }
    }
    problems
}

pub(super) fn assert_spec_conformant(emulator: &TelnyxEmulator) {
    let recorded = emulator.requests();
    assert!(!recorded.is_empty(), "the test made requests");
    let problems = spec_problems(&recorded);
    assert!(problems.is_empty(), "answers outside the spec:\n{problems:#?}");
}
