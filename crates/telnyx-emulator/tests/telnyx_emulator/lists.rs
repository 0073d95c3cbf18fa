//! Lists, auth, unknown ids.

use super::*;

#[tokio::test]
async fn pages_have_computed_meta_and_page_size_stops_at_250() {
    let t = start().await;
    let bought = t.purchase(json!({ "amount": 7, "tags": ["paged"] })).await;
    let all = ids(&bought.body);
    t.buy("other").await;

    let first = t.get("/sim_cards?filter[tags][]=paged&page[number]=1&page[size]=3").await;
    assert_eq!(first.body["meta"], json!({ "page_number": 1, "page_size": 3, "total_pages": 3, "total_results": 7 }));
    let mut walked = ids(&first.body);
    for number in 2..=3 {
        let page =
            t.get(&format!("/sim_cards?filter%5Btags%5D%5B%5D=paged&page%5Bnumber%5D={number}&page%5Bsize%5D=3")).await;
        assert_eq!(page.body["meta"]["page_number"], number);
        walked.extend(ids(&page.body));
    }
    assert_eq!(walked, all, "stable creation order across pages");
    let past = t.get("/sim_cards?filter[tags][]=paged&page[number]=4&page[size]=3").await;
    assert_eq!(ids(&past.body), Vec::<String>::new());
    assert_eq!(past.body["meta"]["total_pages"], 3);

    let default = t.get("/sim_cards").await;
    assert_eq!(
        default.body["meta"],
        json!({ "page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 8 })
    );
    assert_eq!(t.get("/sim_cards?page[size]=250").await.status, StatusCode::OK);
    let too_big = t.get("/sim_cards?page[size]=251").await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_big.body["errors"][0]["source"]["parameter"], "page[size]");
    let zero = t.get("/sim_cards?page%5Bnumber%5D=0").await;
    assert_eq!(zero.body["errors"][0]["source"]["parameter"], "page[number]");
    let none = t.get("/sim_cards?filter[tags][]=nothing-has-this").await;
    assert_eq!(none.body["meta"], json!({ "page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0 }));

    // filter[iccid] matches part of the number.
    let sim = &bought.body["data"][3];
    let part = &sim["iccid"].as_str().unwrap()[6..16];
    assert!(t.search(&format!("filter[iccid]={part}")).await.contains(&sim["id"].as_str().unwrap().to_owned()));
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn requests_without_the_api_key_get_401() {
    let t = start().await;
    let expected = json!({ "errors": [{ "code": "10009", "title": "Authentication failed" }] });
    let bare = t.send(t.http.get(t.url("/sim_cards"))).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bare.body, expected);
    let wrong = t
        .send(t.http.post(t.url("/actions/purchase/esims")).bearer_auth("KEY_wrong").json(&json!({ "amount": 1 })))
        .await;
    assert_eq!((wrong.status, &wrong.body), (StatusCode::UNAUTHORIZED, &expected));
    assert!(wrong.headers.contains_key("x-ratelimit-limit"));
    let basic = t.send(t.http.get(t.url("/sim_cards")).basic_auth(API_KEY, None::<&str>)).await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert!(t.emulator.sims().is_empty());

    t.emulator.set_quirks(Quirks { empty_401_body: true, ..Quirks::default() });
    let empty = t.send(t.http.get(t.url("/sim_cards"))).await;
    assert_eq!((empty.status, empty.body), (StatusCode::UNAUTHORIZED, Value::Null));
    assert_eq!(t.get("/sim_cards").await.status, StatusCode::OK, "the right key still works");
    assert_spec_conformant(&t.emulator);
}

#[tokio::test]
async fn unknown_ids_answer_404_10005() {
    let t = start().await;
    let unknown = "6a09cdc3-8948-47f0-aa62-74ac943d6c58";
    for answer in [
        t.get(&format!("/sim_cards/{unknown}")).await,
        t.get(&format!("/sim_cards/{unknown}/activation_code")).await,
        t.post(&format!("/sim_cards/{unknown}/actions/enable"), None).await,
        t.get(&format!("/sim_card_actions/{unknown}")).await,
    ] {
        assert_eq!((answer.status, answer.code()), (StatusCode::NOT_FOUND, "10005"), "{}", answer.body);
        assert!(answer.body["errors"][0]["detail"].is_string());
    }
    t.emulator.set_quirks(Quirks { bare_not_found: true, ..Quirks::default() });
    let bare = t.get(&format!("/sim_cards/{unknown}")).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    assert_eq!(bare.body["code"], "10005", "one bare error object: {}", bare.body);
    assert_spec_conformant(&t.emulator);
}
