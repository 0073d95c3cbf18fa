//! The API key as HTTP Basic, the way Stripe's docs call the API (`curl -u sk_test_…:`).

use super::*;

const FORM: [(&str, &str); 6] = [
    ("mode", "payment"),
    ("success_url", SUCCESS_URL),
    ("line_items[0][price_data][currency]", "eur"),
    ("line_items[0][price_data][product_data][name]", "Japan 5 GB"),
    ("line_items[0][price_data][unit_amount]", "1299"),
    ("line_items[0][quantity]", "1"),
];

#[tokio::test]
async fn stripe_emulator_accepts_the_api_key_as_basic_auth_user_name() {
    let stripe = start().await;
    let base = stripe.emulator.base_url();
    let response = http()
        .post(format!("{base}v1/checkout/sessions"))
        .basic_auth(API_KEY, None::<&str>)
        .form(&FORM)
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), StatusCode::OK);
    let session: Value = response.json().await.expect("JSON");
    let id = session["id"].as_str().expect("session id");
    assert!(id.starts_with("cs_test_"), "{id}");
    assert_eq!(session["amount_total"], 1299);

    let response =
        http().get(format!("{base}v1/checkout/sessions/{id}")).basic_auth(API_KEY, None::<&str>).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let retrieved: Value = response.json().await.expect("JSON");
    assert_eq!(retrieved["id"], id);
}

#[tokio::test]
async fn stripe_emulator_refuses_a_wrong_key_as_basic_auth() {
    let stripe = start().await;
    let base = stripe.emulator.base_url();
    for (user, password) in [("sk_test_wrong", None), ("", Some(API_KEY)), ("sk_test_wrong", Some(API_KEY))] {
        let response = http()
            .post(format!("{base}v1/checkout/sessions"))
            .basic_auth(user, password)
            .form(&FORM)
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{user:?}:{password:?}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        let message = error["error"]["message"].as_str().expect("message");
        assert!(message.starts_with("Invalid API Key provided"), "{message}");
    }
    assert!(stripe.emulator.events().is_empty(), "no session was created");
}
