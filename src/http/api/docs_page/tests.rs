//! The reference page's view of the OpenAPI document, and the page rendered from it.

use askama::Template;
use serde_json::json;

use super::*;
use crate::domain::Catalogue;

fn document() -> Value {
    serde_json::from_str(&super::super::openapi::build(&Catalogue::default())).unwrap()
}

fn find<'a>(api: &'a Reference, id: &str) -> &'a Operation {
    api.tags.iter().flat_map(|t| &t.operations).find(|op| op.id == id).unwrap_or_else(|| panic!("{id} listed"))
}

#[test]
fn text_keeps_paragraphs_and_code_spans() {
    let text = Text::new("Lists answer `{\"data\": []}`;\nerrors are\n  problems.\n\nSecond `one`");
    assert_eq!(text.0.len(), 2);
    assert_eq!(text.0[0][0], Span { code: false, text: "Lists answer ".into() });
    assert_eq!(text.0[0][1], Span { code: true, text: "{\"data\": []}".into() });
    assert_eq!(text.0[0][2].text, "; errors are problems.");
    assert_eq!(text.0[1][1], Span { code: true, text: "one".into() });
    assert!(Text::new(" \n\n ").0.is_empty());
}

#[test]
fn every_operation_of_the_document_is_listed_under_its_tag() {
    let doc = document();
    let api = Reference::new(&doc);
    let mut expected = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            expected += 1;
            let tag = op["tags"][0].as_str().unwrap();
            let listed = api.tags.iter().find(|t| t.name == tag).expect("a section per tag");
            assert!(
                listed.operations.iter().any(|o| o.path == *path && o.method == method.to_uppercase()),
                "{method} {path} under {tag}"
            );
        }
    }
    assert_eq!(api.operation_count, expected);
    assert_eq!(api.tags.iter().map(|t| t.operations.len()).sum::<usize>(), expected);
    assert_eq!(api.base, "/api/v1");
    assert_eq!(api.tags[0].title, "Catalogue", "in the document's tag order");
    assert!(api.schemes.iter().any(|s| s.name == "order_token" && s.kind == "http bearer"));
}

#[test]
fn parameters_bodies_responses_and_auth_are_read_from_the_document() {
    let api = Reference::new(&document());
    let create = find(&api, "create_order");
    assert_eq!((create.method.as_str(), create.path.as_str()), ("POST", "/orders"));
    assert_eq!(create.auth, Auth { optional: true, schemes: vec!["user_token".into()] });
    let key = &create.parameters[0];
    assert_eq!((key.name.as_str(), key.location.as_str(), key.required), ("Idempotency-Key", "header", true));
    assert!(key.constraints.contains(&"22 to 255 characters".to_string()), "{:?}", key.constraints);
    let body = create.body.as_ref().expect("a request body");
    assert_eq!((body.type_label.as_str(), body.content_type.as_str()), ("CreateOrderRequest", "application/json"));
    let plan_id = body.fields.iter().find(|f| f.name == "plan_id").expect("the $ref is resolved");
    assert!(plan_id.required);
    assert_eq!(plan_id.type_label, "string (uuid)");
    let email = body.fields.iter().find(|f| f.name == "email").unwrap();
    assert!(email.constraints.contains(&"at most 254 characters".to_string()));
    let limited = create.responses.iter().find(|r| r.status == "429").unwrap();
    assert_eq!(limited.body.as_deref(), Some("Problem (application/problem+json)"));
    assert!(limited.headers.contains(&"Retry-After".to_string()));

    let plans = find(&api, "list_plans");
    assert_eq!(plans.auth, Auth { optional: true, schemes: vec![] }, "no security: anyone");
    let days = plans.parameters.iter().find(|p| p.name == "min_days").unwrap();
    assert_eq!((days.type_label.as_str(), days.constraints[0].as_str()), ("integer (int32)", "from 1 to 365"));
    let kind = plans.parameters.iter().find(|p| p.name == "type").unwrap();
    assert_eq!(kind.constraints, ["one of local, regional, global"]);
    assert!(plans.body.is_none());
    let show = find(&api, "show_order");
    assert_eq!(show.auth.schemes, ["order_token", "user_token"]);
    assert!(!show.auth.optional);
}

#[test]
fn schemas_are_labelled_in_a_few_words() {
    assert_eq!(type_label(&json!({"type": ["string", "null"], "format": "date-time"})), "string (date-time) or null");
    assert_eq!(type_label(&json!({"type": "array", "items": {"$ref": "#/components/schemas/Plan"}})), "array of Plan");
    assert_eq!(
        type_label(&json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Money"}]})),
        "null or Money"
    );
    assert_eq!(type_label(&json!({"const": "order"})), "always \"order\"");
    assert_eq!(type_label(&json!({})), "any");
    let codes: Vec<String> = (0..40).map(|i| format!("C{i}")).collect();
    let long = constraints(&json!({"enum": codes, "minLength": 2, "default": "C1"}));
    assert!(long[0].starts_with("one of C0, C1,") && long[0].ends_with("C11, … (40 values in all)"), "{long:?}");
    assert_eq!(long[1..], ["at least 2 characters", "default C1"]);
    assert_eq!(constraints(&json!({"maximum": 5, "pattern": "^[a-z]+$"})), ["at most 5", "matches ^[a-z]+$"]);
}

#[test]
fn the_page_is_light_accessible_and_needs_no_script() {
    let api = Arc::new(Reference::new(&document()));
    let count = api.operation_count;
    let page = DocsPage { ctx: PageContext::public(Layout::new("API reference")), api };
    let html = page.render().unwrap();
    assert!(html.len() < 100_000, "{} bytes", html.len());
    assert_eq!(html.matches("<h1").count(), 1);
    assert_eq!(html.matches("<section class=\"api-op\"").count(), count);
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(!html.to_lowercase().contains("swagger"));
    assert!(
        html.contains("<th scope=\"col\">Parameter</th>") && html.contains("<th scope=\"row\"><code>plan_id</code>")
    );
    assert!(html.contains("<code>Idempotency-Key</code><span class=\"api-note\">in header, required</span>"));
    assert!(html.contains("href=\"/api/v1/openapi.json\"") && html.contains("href=\"/api/v1/docs/webhooks\""));
    assert!(html.contains("<code class=\"api-path\">/api/v1/orders/{id}/esim</code>"));
    // Prose from the document is escaped, with its code spans as <code>.
    assert!(html.contains("<code>application/problem+json</code>"));
    // (A pattern is shown as it is: the email's allows a backtick.)
    let mut prose = html.lines().filter(|l| !l.contains("matches "));
    assert!(prose.all(|l| !l.contains('`')), "no markdown backticks left");
}
