//! Tern's Telnyx client against the emulator's less common answers: both error shapes, empty
//! bodies, authentication failures, and activation codes with optional fields.

use std::time::Duration;

use secrecy::SecretString;
use telnyx_emulator::{Quirks, TelnyxEmulator, TelnyxEmulatorConfig};
use tern::clients::telnyx::{TelnyxClient, TelnyxError};
use tern::domain::lpa::ActivationCode;

async fn emulator() -> TelnyxEmulator {
    tern::startup::install_crypto_provider();
    TelnyxEmulator::start(TelnyxEmulatorConfig {
        api_key: "KEY_right".into(),
        action_delay: Duration::ZERO,
        inventory: None,
    })
    .await
    .unwrap()
}

fn client(emulator: &TelnyxEmulator, key: &str) -> TelnyxClient {
    TelnyxClient::new(SecretString::from(key.to_string()), &emulator.base_url())
        .unwrap()
        .with_action_polling(Duration::from_millis(10), Duration::from_secs(5))
}

#[tokio::test]
async fn not_found_is_permanent_in_both_error_shapes() {
    let emulator = emulator().await;
    let telnyx = client(&emulator, "KEY_right");
    let missing = "00000000-0000-4000-8000-000000000000";
    for bare in [false, true] {
        emulator.set_quirks(Quirks { bare_not_found: bare, ..Default::default() });
        match telnyx.get_sim(missing).await {
            Err(TelnyxError::Permanent { status, code, .. }) => {
                assert_eq!((status, code.as_str()), (404, "10005"), "bare: {bare}")
            }
            other => panic!("bare {bare}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn authentication_failures_are_permanent_with_or_without_a_body() {
    let emulator = emulator().await;
    let wrong = client(&emulator, "KEY_wrong");
    let err = wrong.list_sims_by_tag("t").await.unwrap_err();
    assert!(matches!(&err, TelnyxError::Permanent { status: 401, code, .. } if code == "10009"), "{err:?}");
    emulator.set_quirks(Quirks { empty_401_body: true, ..Default::default() });
    let err = wrong.list_sims_by_tag("t").await.unwrap_err();
    assert!(matches!(&err, TelnyxError::Permanent { status: 401, .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn activation_codes_with_optional_fields_and_sims_that_start_registering() {
    let emulator = emulator().await;
    emulator.set_quirks(Quirks { start_registering: true, activation_code_extra_fields: true, ..Default::default() });
    let telnyx = client(&emulator, "KEY_right");
    let purchase = telnyx.purchase_esims(1, None, &["tern-order-x".to_string()]).await.unwrap();
    let sim = &purchase.sims[0];
    assert_eq!(sim.status, "registering");
    let code = ActivationCode::parse(&telnyx.activation_code(&sim.id).await.unwrap()).unwrap();
    assert!(code.oid.is_some() && code.confirmation_code_required);
    let found = telnyx.list_sims_by_tag("tern-order-x").await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(telnyx.list_sims_by_tag("tern-order-other").await.unwrap().is_empty());
}
