//! CVM image behaviour over real HTTP against the real binary.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use common::*;
use serde_json::json;

#[test]
fn create_image_returns_an_img_id_and_the_image_is_creating_then_normal() {
    // A 60 s delay pins the first image in CREATING however slow the machine is.
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let id = c.create("first");
    assert!(id.starts_with("img-") && id.len() == 12, "{id}");
    assert!(id[4..]
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    let img = c.image(&id).expect("listed");
    assert_eq!(img["ImageState"], "CREATING");
    assert_eq!(img["ImageType"], "PRIVATE_IMAGE");
    assert_eq!(img["ImageSource"], "CREATE_IMAGE");
    assert_eq!(img["ImageCreator"], ACCOUNT_1);
    // With a short delay, an image is CREATING until the delay has passed, then NORMAL.
    s.set_ready_after_ms(400);
    let t0 = TimerStart::now();
    let second = c.create("second");
    watch_transition(t0, 400, "CREATING", "NORMAL", || {
        c.image(&second).expect("listed")
    });
    assert_eq!(c.image(&id).expect("listed")["ImageState"], "CREATING");
}

#[test]
fn every_answer_is_http_200_with_the_exact_json_content_type_and_a_request_id() {
    let s = Server::start(Opts::default());
    let c = s.client();
    for a in [
        c.call("DescribeImages", json!({})),
        c.call("ModifyImageAttribute", json!({"ImageId": "img-00000000"})),
    ] {
        assert_eq!(a.status, 200);
        assert_eq!(a.content_type, "application/json");
        assert!(a.response["RequestId"]
            .as_str()
            .is_some_and(|r| r.len() == 36));
    }
}

#[test]
fn modify_image_attribute_changes_name_description_family_and_deprecation() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let id = c.create("before");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageName": "after", "ImageDescription": "desc", "ImageFamily": "fam-1", "ImageDeprecated": true}),
    )
    .expect_ok();
    let img = c.image(&id).expect("listed");
    assert_eq!(img["ImageName"], "after");
    assert_eq!(img["ImageDescription"], "desc");
    assert_eq!(img["ImageFamily"], "fam-1");
    assert_eq!(img["ImageDeprecated"], true);
    // The old name is free again.
    c.create("before");
}

#[test]
fn modify_image_attribute_rejects_duplicate_name_and_accepts_its_own_name() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let a = c.create("alpha");
    let _b = c.create("beta");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": a, "ImageName": "beta"}),
    )
    .expect_code("InvalidImageName.Duplicate");
    assert_eq!(c.image(&a).expect("a")["ImageName"], "alpha");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": a, "ImageName": "alpha"}),
    )
    .expect_ok();
}

#[test]
fn modify_image_attribute_rejects_an_image_that_is_not_normal() {
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let id = c.create("slow");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageName": "x"}),
    )
    .expect_code("InvalidImageId.IncorrectState");
}

#[test]
fn modify_image_attribute_rejects_malformed_and_unknown_ids() {
    let s = Server::start(Opts::default());
    let c = s.client();
    c.call("ModifyImageAttribute", json!({"ImageId": "img-XYZ"}))
        .expect_code("InvalidImageId.Malformed");
    c.call("ModifyImageAttribute", json!({"ImageId": "img-00000000"}))
        .expect_code("InvalidImageId.NotFound");
    c.call("ModifyImageAttribute", json!({}))
        .expect_code("MissingParameter");
}

#[test]
fn modify_image_attribute_counts_lengths_in_unicode_characters() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let id = c.create("n");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageName": "名".repeat(60)}),
    )
    .expect_ok();
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageName": "名".repeat(61)}),
    )
    .expect_code("InvalidParameter.ValueTooLarge");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageDescription": "d".repeat(257)}),
    )
    .expect_code("InvalidParameter.ValueTooLarge");
    assert_eq!(c.image(&id).expect("img")["ImageName"], "名".repeat(60));
}

#[test]
fn fifty_concurrent_renames_to_one_free_name_let_exactly_one_win() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let ids: Vec<String> = (0..50).map(|i| c.create(&format!("img-{i}"))).collect();
    let barrier = Arc::new(Barrier::new(ids.len()));
    let handles: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let c = c.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                let a = c.call(
                    "ModifyImageAttribute",
                    json!({"ImageId": id, "ImageName": "the-one"}),
                );
                (id, a.code().map(str::to_string))
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let winners: Vec<_> = results.iter().filter(|(_, code)| code.is_none()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, code) in results.iter().filter(|(_, c)| c.is_some()) {
        assert_eq!(code.as_deref(), Some("InvalidImageName.Duplicate"));
    }
    // The index does not dangle: exactly one image carries the name, every loser kept its
    // old name, and each old name (including the winner's) is usable exactly as expected.
    let listed = c
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-name", "Values": ["the-one"]}], "Limit": 100}),
        )
        .expect_ok();
    assert_eq!(listed["TotalCount"], 1);
    let winner = &winners[0].0;
    let winner_old = format!("img-{}", ids.iter().position(|i| i == winner).expect("pos"));
    c.create(&winner_old);
    for (i, id) in ids.iter().enumerate() {
        if id != winner {
            assert_eq!(c.image(id).expect("img")["ImageName"], format!("img-{i}"));
            c.call(
                "CreateImage",
                json!({"ImageName": format!("img-{i}"), "InstanceId": "ins-abcdefgh"}),
            )
            .expect_code("InvalidImageName.Duplicate");
        }
    }
}

#[test]
fn describe_images_pages_are_stable_and_cover_every_image_once() {
    let s = Server::start(Opts::default());
    let c = s.client();
    for i in 0..45 {
        c.create(&format!("p{i}"));
    }
    let mut seen = Vec::new();
    for offset in (0..45).step_by(20) {
        let r = c
            .call("DescribeImages", json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Offset": offset, "Limit": 20}))
            .expect_ok();
        assert_eq!(r["TotalCount"], 45);
        for img in r["ImageSet"].as_array().expect("set") {
            seen.push(img["ImageId"].as_str().expect("id").to_string());
        }
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 45);
    let again: Vec<String> = c
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Limit": 20}),
        )
        .expect_ok()["ImageSet"]
        .as_array()
        .expect("set")
        .iter()
        .map(|i| i["ImageId"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(again, seen[..20]);
    let default = c.call("DescribeImages", json!({})).expect_ok();
    assert_eq!(default["ImageSet"].as_array().expect("set").len(), 20);
    let past = c.call("DescribeImages", json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Offset": 100})).expect_ok();
    assert_eq!(past["TotalCount"], 45);
    assert!(past["ImageSet"].as_array().expect("set").is_empty());
}

/// The image `id` as the private-image listing (paged by index, from the kept decoded
/// records and their wire text) shows it.
fn listed(c: &Client, id: &str) -> serde_json::Value {
    let r = c
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Limit": 100}),
        )
        .expect_ok();
    r["ImageSet"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["ImageId"] == id).cloned())
        .unwrap_or_else(|| panic!("{id} not listed: {r}"))
}

/// The listing of `image_type` of `c`: (TotalCount, ids in order, states in order).
fn listing(c: &Client, image_type: &str) -> (u64, Vec<String>, Vec<String>) {
    let r = c
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": [image_type]}], "Limit": 100}),
        )
        .expect_ok();
    let set = r["ImageSet"].as_array().cloned().unwrap_or_default();
    let field = |name: &str| -> Vec<String> {
        set.iter()
            .map(|i| i[name].as_str().unwrap_or_default().to_string())
            .collect()
    };
    (
        r["TotalCount"].as_u64().expect("count"),
        field("ImageId"),
        field("ImageState"),
    )
}

#[test]
fn a_listing_page_kept_between_requests_follows_every_kind_of_write() {
    // What a page by index reads is kept while the store is unchanged (kept::KeptAnswers):
    // each write below (another account's share, the state-control route, a fixture reset)
    // must show in the very next listing, and the same listing asked twice with no write in
    // between must answer the same.
    let s = Server::start(Opts::default());
    let (one, two) = (s.client(), s.client2());
    let id = one.create("kept-page");
    assert_eq!(
        listing(&one, "PRIVATE_IMAGE"),
        listing(&one, "PRIVATE_IMAGE")
    );
    assert_eq!(listing(&two, "SHARED_IMAGE").0, 0);
    one.call(
        "ModifyImageSharePermission",
        json!({"ImageId": id, "AccountIds": [ACCOUNT_2], "Permission": "SHARE"}),
    )
    .expect_ok();
    let (n, ids, _) = listing(&two, "SHARED_IMAGE");
    assert_eq!((n, ids), (1, vec![id.clone()]), "the share shows at once");
    s.set_image_state(&id, json!({"state": "CREATEFAILED"}));
    assert_eq!(listing(&one, "PRIVATE_IMAGE").2, vec!["CREATEFAILED"]);
    assert_eq!(listing(&two, "SHARED_IMAGE").2, vec!["CREATEFAILED"]);
    one.call(
        "ModifyImageSharePermission",
        json!({"ImageId": id, "AccountIds": [ACCOUNT_2], "Permission": "CANCEL"}),
    )
    .expect_ok();
    assert_eq!(
        listing(&two, "SHARED_IMAGE").0,
        0,
        "the cancel shows at once"
    );
    let second = one.create("kept-page-2");
    let (n, ids, _) = listing(&one, "PRIVATE_IMAGE");
    assert_eq!((n, ids), (2, vec![second, id]), "newest first");
    let (code, body) = admin_post(&s.base, "/_cloudtwin/reset", Some(ADMIN_TOKEN), &json!({}));
    assert_eq!(code, 200, "{body}");
    assert_eq!(listing(&one, "PRIVATE_IMAGE"), (0, vec![], vec![]));
}

#[test]
fn the_listing_shows_a_changed_image_at_once_and_its_state_as_time_passes() {
    // Pages by index are written from decoded records kept between requests (kept.rs):
    // a change must show in the very next listing, and the state and progress follow the
    // clock with no write in between. Each listing is checked against the one by ImageIds,
    // which renders the record afresh.
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let pinned = c.create("pinned");
    s.set_ready_after_ms(400);
    let t0 = TimerStart::now();
    let id = c.create("changing");
    let first = listed(&c, &id);
    assert_eq!(first["ImageType"], "PRIVATE_IMAGE");
    let normal = watch_transition(t0, 400, "CREATING", "NORMAL", || listed(&c, &id));
    assert_eq!(normal["SyncPercent"], 100);
    assert_eq!(Some(normal), c.image(&id));
    for (n, description) in ["plain", "quote \" and \\ back, 名字, tab\t", ""]
        .iter()
        .enumerate()
    {
        let name = format!("renamed-{n}");
        c.call(
            "ModifyImageAttribute",
            json!({"ImageId": id, "ImageName": name, "ImageDescription": description, "ImageDeprecated": n == 1}),
        )
        .expect_ok();
        let img = listed(&c, &id);
        assert_eq!(img["ImageName"], name.as_str());
        assert_eq!(img["ImageDescription"], *description);
        assert_eq!(img["ImageDeprecated"], n == 1);
        assert_eq!(Some(img), c.image(&id));
    }
    let still = listed(&c, &pinned);
    assert_eq!(still["ImageState"], "CREATING");
    assert_eq!(Some(still), c.image(&pinned));
    // A deleted image leaves the listing at once.
    c.call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_ok();
    let r = c
        .call(
            "DescribeImages",
            json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]}),
        )
        .expect_ok();
    assert_eq!(r["TotalCount"], 1);
    assert_eq!(r["ImageSet"][0]["ImageId"], pinned.as_str());
}

#[test]
fn describe_images_filters_by_id_type_name_platform_tags_and_state() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let tagged = c
        .call(
            "CreateImage",
            json!({"ImageName": "web-server", "InstanceId": "ins-abcdefgh",
                   "TagSpecification": [{"ResourceType": "image", "Tags": [{"Key": "env", "Value": "prod"}]}]}),
        )
        .expect_ok()["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    let other = c.create("db-server");
    let total = |filters: serde_json::Value| {
        c.call("DescribeImages", json!({"Filters": filters}))
            .expect_ok()["TotalCount"]
            .as_u64()
            .expect("count")
    };
    // Counts among the caller's own images (the public catalogue is visible too).
    let count = |filters: serde_json::Value| {
        let mut f = filters.as_array().expect("list").clone();
        f.push(json!({"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}));
        total(json!(f))
    };
    assert_eq!(count(json!([{"Name": "image-id", "Values": [other]}])), 1);
    assert_eq!(
        total(json!([{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}])),
        2
    );
    assert_eq!(
        total(json!([{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}])),
        11
    );
    assert_eq!(count(json!([{"Name": "image-name", "Values": ["web"]}])), 1);
    assert_eq!(
        count(json!([{"Name": "platform", "Values": ["tencentos"]}])),
        2
    );
    assert_eq!(count(json!([{"Name": "tag-key", "Values": ["env"]}])), 1);
    assert_eq!(count(json!([{"Name": "tag-value", "Values": ["prod"]}])), 1);
    assert_eq!(
        count(json!([{"Name": "tag:env", "Values": ["prod", "dev"]}])),
        1
    );
    assert_eq!(count(json!([{"Name": "tag:env", "Values": ["dev"]}])), 0);
    assert_eq!(
        count(json!([{"Name": "image-state", "Values": ["NORMAL"]}])),
        2
    );
    assert_eq!(
        count(
            json!([{"Name": "image-name", "Values": ["server"]}, {"Name": "tag-key", "Values": ["env"]}])
        ),
        1
    );
    let img = c.image(&tagged).expect("img");
    assert_eq!(img["Tags"], json!([{"Key": "env", "Value": "prod"}]));
}

#[test]
fn describe_images_enforces_its_documented_limits() {
    let s = Server::start(Opts::default());
    let c = s.client();
    c.call(
        "DescribeImages",
        json!({"ImageIds": ["img-00000000"], "Filters": []}),
    )
    .expect_code("InvalidParameter.InvalidParameterCoexistImageIdsFilters");
    let eleven: Vec<_> = (0..11)
        .map(|_| json!({"Name": "image-name", "Values": ["a"]}))
        .collect();
    c.call("DescribeImages", json!({"Filters": eleven}))
        .expect_code("InvalidParameterValue.LimitExceeded");
    c.call(
        "DescribeImages",
        json!({"Filters": [{"Name": "image-name", "Values": ["a","b","c","d","e","f"]}]}),
    )
    .expect_code("InvalidFilterValue.LimitExceeded");
    c.call(
        "DescribeImages",
        json!({"Filters": [{"Name": "image-family", "Values": ["a"]}]}),
    )
    .expect_code("InvalidFilter");
    c.call("DescribeImages", json!({"Limit": 101}))
        .expect_code("InvalidParameterValue.InvalidParameterValueLimit");
    c.call("DescribeImages", json!({"Limit": -1}))
        .expect_code("InvalidParameter");
    c.call("DescribeImages", json!({"ImageIds": ["bad"]}))
        .expect_code("InvalidImageId.Malformed");
    c.call("DescribeImages", json!({"InstanceType": "s5 medium"}))
        .expect_code("InvalidInstanceType.Malformed");
    let r = c
        .call("DescribeImages", json!({"ImageIds": ["img-00000000"]}))
        .expect_ok();
    assert_eq!(r["TotalCount"], 0);
}

#[test]
fn delete_images_dry_run_checks_without_deleting_and_creating_images_cannot_be_deleted() {
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let id = c.create("doomed");
    c.call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_code("InvalidImageId.IncorrectState");
    s.set_image_state(&id, json!({"state": "NORMAL"}));
    c.call("DeleteImages", json!({"ImageIds": [id], "DryRun": true}))
        .expect_ok();
    assert!(c.image(&id).is_some());
    c.call("DeleteImages", json!({"ImageIds": [id, "img-00000000"]}))
        .expect_code("InvalidImageId.NotFound");
    assert!(c.image(&id).is_some(), "a failed batch deletes nothing");
    c.call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_ok();
    assert!(c.image(&id).is_none());
    c.create("doomed");
    c.call("DeleteImages", json!({}))
        .expect_code("MissingParameter");
}

#[test]
fn accounts_and_regions_are_isolated() {
    let s = Server::start(Opts::default());
    let one = s.client();
    let two = s.client2();
    let id = one.create("mine");
    assert!(two.image(&id).is_none());
    two.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageName": "stolen"}),
    )
    .expect_code("InvalidImageId.NotFound");
    two.call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_code("InvalidImageId.NotFound");
    // The same name is free in another account and in another region.
    two.create("mine");
    let sh = one.clone().in_region("ap-shanghai");
    assert!(sh.image(&id).is_none());
    sh.create("mine");
    assert_eq!(one.image(&id).expect("still there")["ImageName"], "mine");
}

#[test]
fn common_errors_follow_the_validation_order() {
    let s = Server::start(Opts::default());
    let c = s.client();
    c.call("NoSuchThing", json!({}))
        .expect_code("InvalidAction");
    c.call("DescribeImages", json!({"Bogus": 1}))
        .expect_code("UnknownParameter");
    c.clone()
        .in_region("xx-nowhere-1")
        .call("DescribeImages", json!({}))
        .expect_code("InvalidParameterValue");
    c.clone()
        .in_region("")
        .call("DescribeImages", json!({}))
        .expect_code("MissingParameter");
    let wrong_key = Client::new(&s.base, SECRET_ID_1, "not-the-key");
    wrong_key
        .call("DescribeImages", json!({}))
        .expect_code("AuthFailure.SignatureFailure");
    let unknown = Client::new(&s.base, "AKIDnobody", "x");
    unknown
        .call("DescribeImages", json!({}))
        .expect_code("AuthFailure.SecretIdNotFound");
    c.call_at("DescribeImages", &json!({}), now() - 301)
        .expect_code("AuthFailure.SignatureExpire");
    c.call_at("DescribeImages", &json!({}), now() + 301)
        .expect_code("AuthFailure.SignatureExpire");
    c.call_at("DescribeImages", &json!({}), now() - 200)
        .expect_ok();
    // Signature is checked before parameters: a bad signature with bad parameters is an auth error.
    wrong_key
        .call("DescribeImages", json!({"Bogus": 1}))
        .expect_code("AuthFailure.SignatureFailure");
}

#[test]
fn requests_over_the_rate_limit_get_request_limit_exceeded_with_the_real_message() {
    let s = Server::start(Opts {
        rate_limits: true,
        ..Opts::default()
    });
    let c = s.client();
    let answers: Vec<_> = (0..25)
        .map(|_| c.call("ModifyImageAttribute", json!({"ImageId": "img-00000000"})))
        .collect();
    let limited: Vec<_> = answers
        .iter()
        .filter(|a| a.code() == Some("RequestLimitExceeded"))
        .collect();
    assert!(
        !limited.is_empty(),
        "25 calls in well under 2 s must hit a 10/s limit"
    );
    let msg = limited[0].response["Error"]["Message"]
        .as_str()
        .expect("message");
    assert!(
        msg.starts_with("Your current request times equals to `"),
        "{msg}"
    );
    assert!(
        msg.contains("which exceeds the frequency limit `10` for a second"),
        "{msg}"
    );
    // Another account has its own budget.
    s.client2()
        .call("ModifyImageAttribute", json!({"ImageId": "img-00000000"}))
        .expect_code("InvalidImageId.NotFound");
}

#[test]
fn unsupported_methods_and_unknown_routes_are_refused_cleanly() {
    let s = Server::start(Opts::default());
    let r = ureq::put(&format!("{}/", s.base))
        .set("X-TC-Action", "DescribeImages")
        .call();
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.into_json().expect("json");
    assert_eq!(v["Response"]["Error"]["Code"], "UnsupportedProtocol");
    let (code, _) = get_json(&format!("{}/_cloudtwin/nope", s.base));
    assert_eq!(code, 404);
    let (code, body) = get_json(&format!("{}/", s.base));
    assert_eq!(code, 400);
    assert!(body["error"].as_str().is_some());
}

#[test]
fn health_answers_without_a_token_and_backup_needs_one() {
    let s = Server::start(Opts::default());
    let (code, h) = get_json(&format!("{}/_cloudtwin/health", s.base));
    assert_eq!(code, 200);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["schema_version"], 4);
    assert!(h["version"].as_str().is_some());
    let tmp = tempfile::tempdir().expect("tmp");
    let dest = tmp.path().join("b");
    let (code, _) = admin_post(&s.base, "/_cloudtwin/backup", None, &json!({"dir": dest}));
    assert_eq!(code, 401);
    let (code, _) = admin_post(
        &s.base,
        "/_cloudtwin/backup",
        Some("wrong"),
        &json!({"dir": dest}),
    );
    assert_eq!(code, 401);
    assert!(!dest.exists(), "a refused backup writes nothing");
    let (code, _) = admin_post(
        &s.base,
        "/_cloudtwin/backup",
        Some(ADMIN_TOKEN),
        &json!({"nodir": 1}),
    );
    assert_eq!(code, 400);
}

#[test]
fn paging_by_index_and_paging_by_scan_give_the_same_pages() {
    let s = Server::start(Opts::default());
    let c = s.client();
    for i in 0..23 {
        c.create(&format!("same-{i}"));
    }
    let other = s.client2();
    let shared = other.create("from-two");
    other
        .call(
            "ModifyImageSharePermission",
            json!({"ImageId": shared, "AccountIds": [ACCOUNT_1], "Permission": "SHARE"}),
        )
        .expect_ok();
    for offset in [0, 5, 20, 23, 24, 30, 40] {
        // Only image-type: served by the index. With an image-name filter matching everything:
        // served by scanning. Same pages either way.
        let by_index = c
            .call("DescribeImages", json!({"Offset": offset, "Limit": 7}))
            .expect_ok();
        let by_scan = c
            .call("DescribeImages", json!({"Filters": [{"Name": "image-name", "Values": [""]}], "Offset": offset, "Limit": 7}))
            .expect_ok();
        assert_eq!(by_index["TotalCount"], 35);
        assert_eq!(
            by_index["TotalCount"], by_scan["TotalCount"],
            "offset {offset}"
        );
        let ids = |v: &serde_json::Value| -> Vec<String> {
            v["ImageSet"]
                .as_array()
                .expect("set")
                .iter()
                .map(|i| i["ImageId"].as_str().expect("id").to_string())
                .collect()
        };
        assert_eq!(ids(&by_index), ids(&by_scan), "offset {offset}");
    }
}
