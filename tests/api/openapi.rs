//! The OpenAPI document: valid OpenAPI 3.1, and true to what the endpoints answer.

use serde_json::{Value, json};

use crate::helpers::{Page, spawn_app, text_of};

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).expect("a valid JSON Schema")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

/// A schema that checks an instance against `schema` (a `$ref` into the document) with the
/// document's components available.
fn response_validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    validator(&json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    }))
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let meta: Value = serde_json::from_str(include_str!("../fixtures/openapi-3.1.schema.json")).unwrap();
    let problems = errors(&validator(&meta), &doc);
    assert!(problems.is_empty(), "{problems:#?}");

    // A broken document is caught, so the check above means something.
    let mut broken = doc.clone();
    broken["paths"]["/plans"]["get"]["responses"] = json!("none");
    assert!(!errors(&validator(&meta), &broken).is_empty());
}

#[tokio::test]
async fn every_documented_endpoint_answers_as_documented() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let base = doc["servers"][0]["url"].as_str().unwrap().to_string();
    let plan_id = app.json("/api/v1/plans?per_page=1", 200).await["data"][0]["id"].as_str().unwrap().to_string();
    let paths = doc["paths"].as_object().unwrap();
    for expected in ["/regions", "/destinations", "/destinations/{iso}", "/plans", "/plans/{id}"] {
        assert!(paths.contains_key(expected), "{expected} is documented");
    }
    for (path, item) in paths {
        let get = &item["get"];
        if get.is_null() || get.get("security").is_some() {
            continue; // writes and token-protected reads: see the orders test below
        }
        let concrete = path.replace("{iso}", "jp").replace("{id}", &plan_id);
        let response = app.get(&format!("{base}{concrete}")).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        let schema = &get["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "{path} documents its 200 body");
        let problems = errors(&response_validator(&doc, schema), &body);
        assert!(problems.is_empty(), "{path}: {problems:#?}");

        // Documented error answers match the Problem schema.
        for (status, documented) in get["responses"].as_object().unwrap() {
            if status == "404" {
                let bad = path.replace("{iso}", "zz").replace("{id}", "00000000-0000-0000-0000-000000000000");
                let body = app.problem(&format!("{base}{bad}"), 404).await;
                let schema = &documented["content"]["application/problem+json"]["schema"];
                assert!(errors(&response_validator(&doc, schema), &body).is_empty(), "{path} 404");
            }
            if status == "400" {
                // A bad query value where the endpoint takes a query, else a path segment that is not UTF-8.
                let takes_query = get["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
                let bad = if takes_query {
                    format!("{concrete}?per_page=0")
                } else {
                    path.replace("{iso}", "%ff").replace("{id}", "%ff")
                };
                let body = app.problem(&format!("{base}{bad}"), 400).await;
                let schema = &documented["content"]["application/problem+json"]["schema"];
                assert!(errors(&response_validator(&doc, schema), &body).is_empty(), "{path} 400");
            }
        }
    }
}

#[tokio::test]
async fn a_response_that_breaks_its_schema_would_be_caught() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let schema = &doc["paths"]["/plans"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let mut body = app.json("/api/v1/plans?per_page=1", 200).await;
    body["data"][0]["price"]["amount_minor"] = json!("12.99");
    assert!(!errors(&response_validator(&doc, schema), &body).is_empty());
}

#[tokio::test]
async fn the_docs_page_is_rendered_by_the_server_from_the_served_document() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let response = app.get("/api/v1/docs").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(!csp.contains("unsafe-inline"), "no allowance left for Swagger UI: {csp}");
    let html = response.text().await.unwrap();
    assert!(html.len() < 100_000, "a light page: {} bytes", html.len());
    let page = Page::parse(&html);
    assert_eq!(page.select("h1").len(), 1);
    assert!(page.select("h2").len() > 2 && !page.exists("h4"), "h1, then h2 sections, then h3 operations");
    assert!(page.select("script").is_empty(), "no JavaScript");
    assert!(!html.to_lowercase().contains("swagger"));
    assert!(page.exists("a[href='/api/v1/openapi.json']") && page.exists("a[href='/api/v1/docs/webhooks']"));

    // Every operation of the served document, once, with its method and full path.
    let base = doc["servers"][0]["url"].as_str().unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let id = op["operationId"].as_str().unwrap();
            let section = page.one(&format!("section.api-op[id='{id}']"));
            let heading = text_of(section.select(&scraper::Selector::parse("h3").unwrap()).next().unwrap());
            assert_eq!(heading, format!("{} {base}{path}", method.to_uppercase()));
        }
    }
    assert_eq!(page.select("section.api-op").len(), operations);
    assert_eq!(page.select(".api-toc li li a[href^='#']").len(), operations, "the contents link each one");
    // Tables head their columns and rows; "required" is a word, not a colour.
    let heads = scraper::Selector::parse("thead th").unwrap();
    assert!(page.select("table").iter().all(|t| {
        let mut heads = t.select(&heads).peekable();
        heads.peek().is_some() && heads.all(|th| th.value().attr("scope") == Some("col"))
    }));
    assert!(page.select("tbody tr").iter().all(|row| row.first_child().is_some()));
    assert_eq!(page.select("tbody th").len(), page.select("tbody th[scope='row']").len());
    let create = page.one("section.api-op[id='create_order']");
    let create = text_of(create);
    for part in
        ["Idempotency-Key", "required", "plan_id", "email", "Request body", "201", "429", "Retry-After", "user_token"]
    {
        assert!(create.contains(part), "create_order shows {part}");
    }
    // The catalogue's own values reach the page through the document.
    let plans = text_of(page.one("section.api-op[id='list_plans']"));
    assert!(plans.contains("europe") && plans.contains("values in all"), "{plans}");

    // Swagger UI is gone.
    for gone in ["/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/js/api-docs.js"] {
        assert_eq!(app.get(gone).await.status(), 404, "{gone}");
    }
}

#[tokio::test]
async fn the_orders_endpoints_answer_as_documented() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let plan_id = app.json("/api/v1/plans?per_page=1", 200).await["data"][0]["id"].clone();
    let create = &doc["paths"]["/orders"]["post"];
    assert!(
        create["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
    );
    let response = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"plan_id": plan_id, "email": "doc@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let schema = &create["responses"]["201"]["content"]["application/json"]["schema"];
    let problems = errors(&response_validator(&doc, schema), &created);
    assert!(problems.is_empty(), "{problems:#?}");

    let show = &doc["paths"]["/orders/{id}"]["get"];
    assert_eq!(show["security"][0]["order_token"], json!([]));
    assert_eq!(doc["components"]["securitySchemes"]["order_token"]["scheme"], "bearer");
    let response = app
        .client
        .get(app.url(&format!("/api/v1/orders/{}", created["id"].as_str().unwrap())))
        .bearer_auth(created["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let order: Value = response.json().await.unwrap();
    let schema = &show["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(errors(&response_validator(&doc, schema), &order).is_empty());

    let unauthorized = app.problem(&format!("/api/v1/orders/{}", created["id"].as_str().unwrap()), 401).await;
    let schema = &show["responses"]["401"]["content"]["application/problem+json"]["schema"];
    assert!(errors(&response_validator(&doc, schema), &unauthorized).is_empty());
}

#[tokio::test]
async fn the_account_and_esim_endpoints_answer_as_documented() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let schema_of = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
    };
    app.post_form("/account/sign-up", &[("email", "doc@example.com"), ("password", "a long enough password")]).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "doc@example.com", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token: Value = response.json().await.unwrap();
    assert!(errors(&response_validator(&doc, &schema_of("/auth/token", "post", "201")), &token).is_empty());
    let bearer = token["token"].as_str().unwrap();

    let (plan_id, _) = app.some_plan().await;
    let (id, order_token, session_id) = app.buy_plan(&plan_id).await;
    sqlx::query("update orders set user_id = (select id from users) where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let mine: Value =
        app.client.get(app.url("/api/v1/me/orders")).bearer_auth(bearer).send().await.unwrap().json().await.unwrap();
    let problems = errors(&response_validator(&doc, &schema_of("/me/orders", "get", "200")), &mine);
    assert!(problems.is_empty(), "{problems:#?}");

    app.pay(&session_id).await;
    app.wait_status(id, "paid").await;
    app.worker().run_once().await.unwrap();
    let esim: Value = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/esim")))
        .bearer_auth(&order_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let problems = errors(&response_validator(&doc, &schema_of("/orders/{id}/esim", "get", "200")), &esim);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn order_timestamps_and_names_are_typed_in_the_schema() {
    let app = spawn_app().await;
    let doc = app.json("/api/v1/openapi.json", 200).await;
    let schemas = &doc["components"]["schemas"];
    let order = &schemas["OrderResponse"]["properties"];
    assert_eq!(order["created_at"]["format"], "date-time");
    assert_eq!(order["paid_at"]["format"], "date-time");
    assert_eq!(schemas["TokenResponse"]["properties"]["expires_at"]["format"], "date-time");
    let statuses = schemas["OrderStatusResponse"]["enum"].as_array().unwrap();
    assert!(statuses.contains(&json!("awaiting_payment")) && statuses.contains(&json!("provisioning_failed")));
    assert!(schemas["EventTypeResponse"]["enum"].as_array().unwrap().contains(&json!("checkout_started")));
    assert_eq!(schemas["ActorResponse"]["enum"], json!(["traveller", "stripe", "telnyx", "system", "admin"]));
    // A problem answer is the shared Problem document.
    let not_found = &doc["paths"]["/plans/{id}"]["get"]["responses"]["404"]["content"]["application/problem+json"];
    assert_eq!(not_found["schema"]["$ref"], "#/components/schemas/Problem");
}
