//! What Tern sends to webhook endpoints, documented twice from one list (`EventType::ALL`): the
//! OpenAPI 3.1 `webhooks` section (every type, its headers and payload schema) and the page at
//! `/api/v1/docs/webhooks` with a verification example. Also the `api_key` security scheme.

use askama::Template;
use askama_web::WebTemplate;
use serde_json::{Value, json};

use crate::domain::webhook::EventType;
use crate::http::page::PageContext;
use crate::http::web::Layout;

/// Adds the `api_key` scheme, the management operations and the `webhooks` section.
pub fn extend(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::OpenApi;
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    doc.merge(super::webhook_endpoints::WebhookManagementDoc::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API key from `tern api-key create` (integrator or admin role)"))
                .build(),
        ),
    );
}

/// The `webhooks` section and the payload schemas it names, added to the served JSON.
pub fn add_webhooks(doc: &mut Value) {
    let mut webhooks = serde_json::Map::new();
    for t in EventType::ALL {
        let name = schema_name(*t);
        webhooks.insert(t.as_str().to_string(), operation(*t, &name));
        doc["components"]["schemas"][name] = event_schema(*t);
    }
    doc["webhooks"] = Value::Object(webhooks);
    let subscribable: Vec<&str> =
        EventType::ALL.iter().filter(|t| **t != EventType::Ping).map(|t| t.as_str()).collect();
    let schemas = &mut doc["components"]["schemas"];
    for request in ["CreateWebhookEndpointRequest", "UpdateWebhookEndpointRequest"] {
        let items = &mut schemas[request]["properties"]["event_types"]["items"];
        if items.is_object() {
            *items = json!({ "type": "string", "enum": subscribable });
        }
    }
    schemas["WebhookMoney"] = json!({
        "type": "object",
        "required": ["amount_minor", "currency"],
        "properties": {
            "amount_minor": { "type": "integer", "format": "int64", "description": "In the currency's minor units" },
            "currency": { "type": "string", "pattern": "^[A-Z]{3}$" }
        }
    });
    schemas["WebhookOrderData"] = json!({
        "type": "object",
        "description": "The order as the event leaves it; the whole order is GET /orders/{id}.",
        "required": ["object", "id", "status", "amount"],
        "properties": {
            "object": { "const": "order" },
            "id": { "type": "string", "format": "uuid" },
            "status": { "$ref": "#/components/schemas/OrderStatusResponse" },
            "amount": { "$ref": "#/components/schemas/WebhookMoney" },
            "amount_refunded": {
                "$ref": "#/components/schemas/WebhookMoney",
                "description": "order.refunded only: everything refunded so far"
            },
            "refund": { "type": "string", "enum": ["full", "partial"], "description": "order.refunded only" }
        }
    });
    schemas["WebhookEsimData"] = json!({
        "type": "object",
        "description": "The order's eSIM; how to install it is GET /orders/{id}/esim.",
        "required": ["object", "order_id", "order_status"],
        "properties": {
            "object": { "const": "esim" },
            "order_id": { "type": "string", "format": "uuid" },
            "order_status": { "$ref": "#/components/schemas/OrderStatusResponse" },
            "iccid": { "type": ["string", "null"] },
            "status": { "type": ["string", "null"], "description": "The SIM's status at Telnyx: enabled, disabled..." }
        }
    });
    schemas["WebhookPingData"] = json!({
        "type": "object",
        "required": ["object", "id"],
        "properties": {
            "object": { "const": "webhook_endpoint" },
            "id": { "type": "string", "format": "uuid", "description": "The endpoint tested" }
        }
    });
}

fn schema_name(t: EventType) -> String {
    format!("WebhookEvent.{}", t.as_str())
}

fn data_schema(t: EventType) -> &'static str {
    match t {
        EventType::Ping => "#/components/schemas/WebhookPingData",
        t if t.is_esim() => "#/components/schemas/WebhookEsimData",
        _ => "#/components/schemas/WebhookOrderData",
    }
}

fn event_schema(t: EventType) -> Value {
    json!({
        "type": "object",
        "description": t.about(),
        "required": ["id", "type", "created_at", "data"],
        "properties": {
            "id": { "type": "string", "format": "uuid", "description": "The event's id, also its `webhook-id`" },
            "type": { "const": t.as_str() },
            "created_at": { "type": "string", "format": "date-time" },
            "data": { "$ref": data_schema(t) }
        }
    })
}

fn header(name: &str, description: &str, example: &str) -> Value {
    json!({
        "name": name, "in": "header", "required": true, "description": description,
        "schema": { "type": "string" }, "example": example
    })
}

fn operation(t: EventType, schema: &str) -> Value {
    json!({
        "post": {
            "operationId": format!("webhook_{}", t.as_str().replace('.', "_")),
            "summary": t.as_str(),
            "description": format!("{} Signed per Standard Webhooks: verify `webhook-signature` over \
                `{{webhook-id}}.{{webhook-timestamp}}.{{body}}` with the endpoint's secret, and refuse \
                timestamps more than 5 minutes old.", t.about()),
            "tags": ["webhooks"],
            "parameters": [
                header("webhook-id", "The event id: the same on every retry (deduplicate on it)", "6f1c2a9e-6b0d-4f5e-9a41-2c7d8e0b5a13"),
                header("webhook-timestamp", "Unix seconds when this attempt was signed", "1764581400"),
                header("webhook-signature", "`v1,<base64 HMAC-SHA256>`; two, space-separated, while a rotation overlaps", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
            ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } },
            "responses": {
                "2XX": { "description": "Received. Anything else is retried: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later." },
                "410": { "description": "Gone: the endpoint is disabled and nothing more is sent to it." }
            }
        }
    })
}

/// One row of the docs page's list.
pub struct TypeRow {
    pub name: &'static str,
    pub about: &'static str,
    pub object: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "api/webhooks.html")]
pub struct WebhookDocsPage {
    pub ctx: PageContext,
    pub types: Vec<TypeRow>,
}

/// The event catalogue and how to verify a delivery.
pub async fn webhook_docs() -> WebhookDocsPage {
    let types = EventType::ALL
        .iter()
        .map(|t| TypeRow {
            name: t.as_str(),
            about: t.about(),
            object: match *t {
                EventType::Ping => "webhook_endpoint",
                t if t.is_esim() => "esim",
                _ => "order",
            },
        })
        .collect();
    WebhookDocsPage { ctx: PageContext::public(Layout::new("Webhooks")), types }
}
