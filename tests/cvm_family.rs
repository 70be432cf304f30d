//! The rest of the CVM image family over real HTTP: public catalogue, InstanceType, import,
//! sync, sharing, export, quota, families, and the state matrix of cvm.md §7.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const PUBLIC_ID: &str = "img-487zeit5";

fn ids(v: &Value) -> Vec<String> {
    v["ImageSet"]
        .as_array()
        .expect("set")
        .iter()
        .map(|i| i["ImageId"].as_str().expect("id").to_string())
        .collect()
}

fn of_type(c: &Client, t: &str) -> Value {
    c.call(
        "DescribeImages",
        json!({"Filters": [{"Name": "image-type", "Values": [t]}], "Limit": 100}),
    )
    .expect_ok()
}

fn import(c: &Client, name: &str, url: &str) -> String {
    c.call(
        "ImportImage",
        json!({"Architecture": "x86_64", "OsType": "CentOS", "OsVersion": "7", "ImageUrl": url, "ImageName": name}),
    )
    .expect_ok()["ImageId"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn the_public_catalogue_is_in_every_region_and_nobody_can_change_it() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let gz = of_type(&c, "PUBLIC_IMAGE");
    let sh = of_type(&c.clone().in_region("ap-shanghai"), "PUBLIC_IMAGE");
    assert_eq!(gz["TotalCount"], 11);
    assert_eq!(ids(&gz), ids(&sh));
    let img = c.image(PUBLIC_ID).expect("public image by id");
    assert_eq!(img["ImageType"], "PUBLIC_IMAGE");
    assert_eq!(img["ImageSource"], "OFFICIAL");
    for p in ["TencentOS", "Ubuntu", "CentOS", "Debian", "Windows"] {
        assert!(
            gz["ImageSet"]
                .as_array()
                .expect("set")
                .iter()
                .any(|i| i["Platform"] == p),
            "{p}"
        );
    }
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": PUBLIC_ID, "ImageName": "mine"}),
    )
    .expect_code("InvalidParameterValue.InvalidImageId");
    c.call("DeleteImages", json!({"ImageIds": [PUBLIC_ID]}))
        .expect_code("InvalidParameterValue.InvalidImageId");
    c.call(
        "ModifyImageSharePermission",
        json!({"ImageId": PUBLIC_ID, "AccountIds": [ACCOUNT_2], "Permission": "SHARE"}),
    )
    .expect_code("InvalidParameterValue.InvalidImageId");
    c.call(
        "ExportImages",
        json!({"BucketName": "b-1300000001", "ImageIds": [PUBLIC_ID]}),
    )
    .expect_code("UnsupportedOperation.PublicImageExportUnsupported");
    c.call(
        "SyncImages",
        json!({"ImageIds": [PUBLIC_ID], "DestinationRegions": ["ap-shanghai"]}),
    )
    .expect_code("InvalidParameterValue.InvalidImageId");
    assert_eq!(
        c.image(PUBLIC_ID).expect("still")["ImageName"],
        img["ImageName"]
    );
    // Own images come first in the default listing.
    let mine = c.create("first-in-line");
    let all = c.call("DescribeImages", json!({"Limit": 100})).expect_ok();
    assert_eq!(ids(&all)[0], mine);
    assert_eq!(all["TotalCount"], 12);
}

#[test]
fn instance_type_filters_by_the_architecture_of_known_families() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let arm = c
        .call(
            "DescribeImages",
            json!({"InstanceType": "SR1.MEDIUM2", "Limit": 100}),
        )
        .expect_ok();
    assert!(arm["TotalCount"].as_u64().expect("n") >= 3);
    assert!(arm["ImageSet"]
        .as_array()
        .expect("set")
        .iter()
        .all(|i| i["Architecture"] == "arm"));
    let x86 = c
        .call(
            "DescribeImages",
            json!({"InstanceType": "S5.MEDIUM4", "Limit": 100}),
        )
        .expect_ok();
    assert!(x86["ImageSet"]
        .as_array()
        .expect("set")
        .iter()
        .all(|i| i["Architecture"] == "x86_64"));
    assert_eq!(
        arm["TotalCount"].as_u64().expect("n") + x86["TotalCount"].as_u64().expect("n"),
        11
    );
    c.call("DescribeImages", json!({"InstanceType": "ZZ9.SMALL1"}))
        .expect_code("InvalidParameterValue.InstanceTypeNotFound");
}

#[test]
fn import_image_is_importing_then_normal_and_the_fail_marker_ends_in_importfailed() {
    // A 60 s delay pins the first imports in IMPORTING however slow the machine is.
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let ok_url = "https://bucket-1300000001.cos.ap-guangzhou.myqcloud.com/centos.qcow2";
    let bad_url = "https://b-1300000001.cos.ap-guangzhou.myqcloud.com/cloudtwin-import-fail.qcow2";
    let ok = import(&c, "imported", ok_url);
    let bad = import(&c, "broken", bad_url);
    let img = c.image(&ok).expect("img");
    assert_eq!(img["ImageState"], "IMPORTING");
    assert_eq!(img["ImageSource"], "EXTERNAL_IMPORT");
    assert_eq!(img["Platform"], "CentOS");
    assert_eq!(c.image(&bad).expect("img")["ImageState"], "IMPORTING");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": ok, "ImageName": "x"}),
    )
    .expect_code("InvalidImageId.IncorrectState");
    c.call("DeleteImages", json!({"ImageIds": [ok]}))
        .expect_code("InvalidImageId.IncorrectState");
    // With a short delay, each import ends on its own: NORMAL, or IMPORTFAILED for the marker.
    s.set_ready_after_ms(300);
    let t0 = TimerStart::now();
    let ok = import(&c, "imported-2", ok_url);
    let bad = import(&c, "broken-2", bad_url);
    watch_transition(t0, 300, "IMPORTING", "NORMAL", || {
        c.image(&ok).expect("img")
    });
    watch_transition(t0, 300, "IMPORTING", "IMPORTFAILED", || {
        c.image(&bad).expect("img")
    });
    // A failed import can be deleted but not modified.
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": bad, "ImageName": "x"}),
    )
    .expect_code("InvalidImageId.IncorrectState");
    c.call("DeleteImages", json!({"ImageIds": [bad]}))
        .expect_ok();
}

#[test]
fn import_image_validates_os_url_iso_license_and_boot_mode() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let base = json!({"Architecture": "x86_64", "OsType": "CentOS", "OsVersion": "7",
                      "ImageUrl": "https://b-1.cos.ap-guangzhou.myqcloud.com/a.raw", "ImageName": "n"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        c.call("ImportImage", b)
    };
    with("OsType", json!("Plan9")).expect_code("InvalidImageOsType.Unsupported");
    with("OsVersion", json!("99")).expect_code("InvalidImageOsVersion.Unsupported");
    with("ImageUrl", json!("ftp://x/a.raw"))
        .expect_code("InvalidParameter.InvalidParameterUrlError");
    with(
        "ImageUrl",
        json!("https://b-1.cos.ap-guangzhou.myqcloud.com/a.iso"),
    )
    .expect_code("InvalidParameterValue.ISOMustImportByForce");
    with("LicenseType", json!("GPL")).expect_code("InvalidParameterValue.InvalidLicenseType");
    with("BootMode", json!("Coreboot")).expect_code("InvalidParameterValue.InvalidBootMode");
    with("Architecture", json!("sparc")).expect_code("InvalidParameterValue");
    let mut iso = base.clone();
    iso["ImageUrl"] = json!("https://b-1.cos.ap-guangzhou.myqcloud.com/a.iso");
    iso["Force"] = json!(true);
    c.call("ImportImage", iso).expect_ok();
    let os = c.call("DescribeImportImageOs", json!({})).expect_ok();
    assert!(os["ImportImageOsListSupported"]["Linux"]
        .as_array()
        .expect("linux")
        .iter()
        .any(|x| x == "CentOS"));
    assert!(os["ImportImageOsVersionSet"].as_array().expect("set").len() >= 10);
}

#[test]
fn sync_images_copies_into_other_regions_syncing_then_normal() {
    // A 60 s delay pins the source in CREATING and the first copies in SYNCING.
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let src = c.create("golden");
    c.call(
        "SyncImages",
        json!({"ImageIds": [src], "DestinationRegions": ["ap-shanghai"]}),
    )
    .expect_code("InvalidImageId.IncorrectState");
    s.set_image_state(&src, json!({"state": "NORMAL"}));
    // 20 s copies: SyncPercent moves off 0 after 200 ms and stays below 100 while SYNCING.
    s.set_ready_after_ms(20_000);
    let r = c
        .call(
            "SyncImages",
            json!({"ImageIds": [src], "DestinationRegions": ["ap-shanghai", "ap-beijing"], "ImageSetRequired": true}),
        )
        .expect_ok();
    let set = r["ImageSet"].as_array().expect("set").clone();
    assert_eq!(set.len(), 2);
    let sh = c.clone().in_region("ap-shanghai");
    let copy_id = set
        .iter()
        .find(|x| x["Region"] == "ap-shanghai")
        .expect("sh")["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    let copy = sh.image(&copy_id).expect("copy");
    assert_eq!(copy["ImageState"], "SYNCING");
    assert_eq!(copy["ImageName"], "golden");
    let mid = poll_until("SyncPercent above 0", || {
        let copy = sh.image(&copy_id).expect("copy");
        assert_eq!(copy["ImageState"], "SYNCING", "{copy}");
        let pct = copy["SyncPercent"].as_u64().expect("pct");
        (pct > 0).then_some(pct)
    });
    assert!(mid > 0 && mid < 100, "progress {mid}");
    // A short delay: the copy is SYNCING until it has passed, then NORMAL at 100%.
    s.set_ready_after_ms(300);
    let t0 = TimerStart::now();
    let r = c
        .call(
            "SyncImages",
            json!({"ImageIds": [src], "DestinationRegions": ["ap-seoul"], "ImageSetRequired": true}),
        )
        .expect_ok();
    let fast_id = r["ImageSet"][0]["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    let seoul = c.clone().in_region("ap-seoul");
    let done = watch_transition(t0, 300, "SYNCING", "NORMAL", || {
        seoul.image(&fast_id).expect("copy")
    });
    assert_eq!(done["SyncPercent"], 100);
    assert_eq!(done["ImageName"], "golden");
    assert_eq!(c.image(&src).expect("src")["ImageState"], "NORMAL");
    // Without ImageSetRequired the set is empty.
    let plain = c
        .call(
            "SyncImages",
            json!({"ImageIds": [src], "DestinationRegions": ["ap-tokyo"]}),
        )
        .expect_ok();
    assert_eq!(plain["ImageSet"], json!([]));
}

#[test]
fn sync_images_checks_regions_names_and_quota_in_one_transaction() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let src = c.create("shared-name");
    let sh = c.clone().in_region("ap-shanghai");
    sh.create("shared-name");
    c.call(
        "SyncImages",
        json!({"ImageIds": [src], "DestinationRegions": ["ap-beijing", "ap-shanghai"]}),
    )
    .expect_code("InvalidImageName.Duplicate");
    assert_eq!(
        of_type(&c.clone().in_region("ap-beijing"), "PRIVATE_IMAGE")["TotalCount"],
        0,
        "nothing written"
    );
    c.call("SyncImages", json!({"ImageIds": [src], "DestinationRegions": ["ap-beijing", "ap-shanghai"], "ImageName": "renamed"}))
        .expect_ok();
    c.call(
        "SyncImages",
        json!({"ImageIds": [src], "DestinationRegions": [REGION]}),
    )
    .expect_code("InvalidRegion.Unavailable");
    c.call(
        "SyncImages",
        json!({"ImageIds": [src], "DestinationRegions": ["moon-1"]}),
    )
    .expect_code("InvalidRegion.NotFound");
    c.call(
        "SyncImages",
        json!({"ImageIds": [src, src], "DestinationRegions": ["ap-tokyo"]}),
    )
    .expect_code("InvalidParameterValue.LimitExceeded");
    c.call(
        "SyncImages",
        json!({"ImageIds": [src], "DestinationRegions": ["ap-tokyo"], "Encrypt": true}),
    )
    .expect_code("UnsupportedOperation.EncryptedImagesNotSupported");
    c.call(
        "SyncImages",
        json!({"ImageIds": [src], "DestinationRegions": ["ap-tokyo"], "DryRun": true}),
    )
    .expect_ok();
    assert_eq!(
        of_type(&c.clone().in_region("ap-tokyo"), "PRIVATE_IMAGE")["TotalCount"],
        0
    );
}

#[test]
fn sharing_makes_a_read_only_shared_image_for_the_receiver() {
    let s = Server::start(Opts::default());
    let owner = s.client();
    let other = s.client2();
    let id = owner.create("to-share");
    let share = |perm: &str, accounts: Value| {
        owner.call(
            "ModifyImageSharePermission",
            json!({"ImageId": id, "AccountIds": accounts, "Permission": perm}),
        )
    };
    share("SHARE", json!([ACCOUNT_2])).expect_ok();
    let seen = other.image(&id).expect("receiver sees it");
    assert_eq!(seen["ImageType"], "SHARED_IMAGE");
    assert_eq!(of_type(&other, "SHARED_IMAGE")["TotalCount"], 1);
    assert!(
        other.clone().in_region("ap-shanghai").image(&id).is_none(),
        "sharing is per region"
    );
    let perms = owner
        .call("DescribeImageSharePermission", json!({"ImageId": id}))
        .expect_ok();
    assert_eq!(perms["SharePermissionSet"][0]["AccountId"], ACCOUNT_2);
    assert!(perms["SharePermissionSet"][0]["CreatedTime"]
        .as_str()
        .expect("t")
        .ends_with('Z'));

    other
        .call(
            "ModifyImageAttribute",
            json!({"ImageId": id, "ImageName": "mine"}),
        )
        .expect_code("UnsupportedOperation.SharedImageModifyUnsupported");
    other
        .call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_code("InvalidParameterValue.InvalidImageIdIsShared");
    other
        .call(
            "ModifyImageSharePermission",
            json!({"ImageId": id, "AccountIds": [ACCOUNT_1], "Permission": "SHARE"}),
        )
        .expect_code("UnauthorizedOperation.ImageNotBelongToAccount");
    other
        .call("DescribeImageSharePermission", json!({"ImageId": id}))
        .expect_code("UnauthorizedOperation.ImageNotBelongToAccount");
    other
        .call(
            "ExportImages",
            json!({"BucketName": "b-1300000002", "ImageIds": [id]}),
        )
        .expect_code("UnsupportedOperation.SharedImageExportUnsupported");
    owner
        .call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_code("InvalidImageId.InShared");

    share("SHARE", json!([ACCOUNT_2])).expect_code("FailedOperation.AccountAlreadyExists");
    share("SHARE", json!([ACCOUNT_1])).expect_code("FailedOperation.AccountIsYourSelf");
    share("SHARE", json!(["999999999999"])).expect_code("InvalidAccountId.NotFound");
    share("LEND", json!([ACCOUNT_2])).expect_code("InvalidParameterValue");

    // The receiver can copy a shared image into its own image in the same region.
    let r = other
        .call("SyncImages", json!({"ImageIds": [id], "DestinationRegions": [REGION], "ImageName": "my-copy", "ImageSetRequired": true}))
        .expect_ok();
    let copy = r["ImageSet"][0]["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        other.image(&copy).expect("copy")["ImageType"],
        "PRIVATE_IMAGE"
    );
    other
        .call(
            "SyncImages",
            json!({"ImageIds": [id], "DestinationRegions": ["ap-shanghai"]}),
        )
        .expect_code("InvalidRegion.Unavailable");

    // Renames by the owner show through; cancelling hides the image again.
    owner
        .call(
            "ModifyImageAttribute",
            json!({"ImageId": id, "ImageName": "renamed"}),
        )
        .expect_ok();
    assert_eq!(other.image(&id).expect("seen")["ImageName"], "renamed");
    share("CANCEL", json!([ACCOUNT_2])).expect_ok();
    share("CANCEL", json!([ACCOUNT_2])).expect_ok();
    assert!(other.image(&id).is_none());
    assert_eq!(
        owner
            .call("DescribeImageSharePermission", json!({"ImageId": id}))
            .expect_ok()["SharePermissionSet"],
        json!([])
    );
    owner
        .call("DeleteImages", json!({"ImageIds": [id]}))
        .expect_ok();
}

#[test]
fn an_image_can_be_shared_with_at_most_500_accounts() {
    let s = Server::start(Opts {
        extra_accounts: 501,
        ..Opts::default()
    });
    let c = s.client();
    let id = c.create("popular");
    let first: Vec<String> = (0..500)
        .map(|i| (200_000_000_000u64 + i).to_string())
        .collect();
    c.call(
        "ModifyImageSharePermission",
        json!({"ImageId": id, "AccountIds": first, "Permission": "SHARE"}),
    )
    .expect_ok();
    c.call(
        "ModifyImageSharePermission",
        json!({"ImageId": id, "AccountIds": ["200000000500"], "Permission": "SHARE"}),
    )
    .expect_code("OverQuota");
    let perms = c
        .call("DescribeImageSharePermission", json!({"ImageId": id}))
        .expect_ok();
    assert_eq!(
        perms["SharePermissionSet"].as_array().expect("set").len(),
        500
    );
}

#[test]
fn the_quota_is_enforced_on_create_import_and_sync() {
    let s = Server::start(Opts {
        quota: 2,
        ..Opts::default()
    });
    let c = s.client();
    assert_eq!(
        c.call("DescribeImageQuota", json!({})).expect_ok()["ImageNumQuota"],
        2
    );
    let a = c.create("q1");
    import(&c, "q2", "https://b-1.cos.ap-guangzhou.myqcloud.com/x.raw");
    c.call(
        "CreateImage",
        json!({"ImageName": "q3", "InstanceId": "ins-abcdefgh"}),
    )
    .expect_code("ImageQuotaLimitExceeded");
    c.call(
        "ImportImage",
        json!({"Architecture": "x86_64", "OsType": "CentOS", "OsVersion": "7", "ImageUrl": "https://b/x.raw", "ImageName": "q3"}),
    )
    .expect_code("ImageQuotaLimitExceeded");
    let sh = c.clone().in_region("ap-shanghai");
    sh.create("s1");
    sh.create("s2");
    c.call(
        "SyncImages",
        json!({"ImageIds": [a], "DestinationRegions": ["ap-shanghai"]}),
    )
    .expect_code("ImageQuotaLimitExceeded");
    c.call("DeleteImages", json!({"ImageIds": [a]})).expect_ok();
    c.create("q3");
}

#[test]
fn export_images_records_a_task_with_cos_paths() {
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let creating = c.create("exp");
    c.call(
        "ExportImages",
        json!({"BucketName": "backups-1300000001", "ImageIds": [creating]}),
    )
    .expect_code("InvalidParameterValue.InvalidImageState");
    s.set_image_state(&creating, json!({"state": "NORMAL"}));
    let r = c
        .call("ExportImages", json!({"BucketName": "backups-1300000001", "ImageIds": [creating], "ExportFormat": "qcow2", "FileNamePrefixList": ["nightly"]}))
        .expect_ok();
    let task = r["TaskId"].as_u64().expect("task");
    assert!(task >= 1);
    let path = r["CosPaths"][0].as_str().expect("path");
    assert!(
        path.starts_with(&format!("/nightly_{creating}_system_snap-")) && path.ends_with(".qcow2"),
        "{path}"
    );
    let again = c
        .call(
            "ExportImages",
            json!({"BucketName": "backups-1300000001", "ImageIds": [creating]}),
        )
        .expect_ok();
    assert_eq!(again["TaskId"].as_u64().expect("task"), task + 1);
    assert!(again["CosPaths"][0].as_str().expect("p").ends_with(".raw"));
    c.call(
        "ExportImages",
        json!({"BucketName": "someone-else-1999", "ImageIds": [creating]}),
    )
    .expect_code("InvalidParameterValue.BucketNotFound");
    c.call("ExportImages", json!({"BucketName": "b-1300000001"}))
        .expect_code("InvalidParameter.ImageIdsSnapshotIdsMustOne");
    c.call("ExportImages", json!({"BucketName": "b-1300000001", "ImageIds": [creating], "FileNamePrefixList": ["a", "b"]}))
        .expect_code("InvalidParameterValue.InvalidFileNamePrefixList");
    c.call(
        "ExportImages",
        json!({"BucketName": "b-1300000001", "ImageIds": [creating], "ExportFormat": "ISO"}),
    )
    .expect_code("InvalidParameterValue");
    let win = c
        .call(
            "ImportImage",
            json!({"Architecture": "x86_64", "OsType": "Windows Server 2016", "OsVersion": "9",
                                    "ImageUrl": "https://b/w.vhd", "ImageName": "win"}),
        )
        .expect_ok()["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    s.set_image_state(&win, json!({"state": "NORMAL"}));
    c.call(
        "ExportImages",
        json!({"BucketName": "b-1300000001", "ImageIds": [win]}),
    )
    .expect_code("UnsupportedOperation.WindowsImageExportUnsupported");
}

#[test]
fn describe_image_from_family_picks_the_newest_normal_non_deprecated_image() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let old = c
        .call(
            "CreateImage",
            json!({"ImageName": "v1", "InstanceId": "ins-abcdefgh", "ImageFamily": "web"}),
        )
        .expect_ok()["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    std::thread::sleep(Duration::from_millis(5));
    let new = c
        .call(
            "CreateImage",
            json!({"ImageName": "v2", "InstanceId": "ins-abcdefgh", "ImageFamily": "web"}),
        )
        .expect_ok()["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    let pick = || {
        c.call("DescribeImageFromFamily", json!({"ImageFamily": "web"}))
            .expect_ok()["Image"]
            .clone()
    };
    assert_eq!(pick()["ImageId"], new);
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": new, "ImageDeprecated": true}),
    )
    .expect_ok();
    assert_eq!(pick()["ImageId"], old);
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": old, "ImageFamily": ""}),
    )
    .expect_ok();
    assert_eq!(pick(), Value::Null);
    c.call("DescribeImageFromFamily", json!({}))
        .expect_code("MissingParameter");
}

#[test]
fn a_syncing_copy_finishes_after_the_server_is_killed_and_restarted() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let src = c.create("src");
    // The copy's 8 s timer is stored with it: it outlives the process, and a restart (well
    // under a second, even on a loaded machine) leaves it running.
    s.set_ready_after_ms(8_000);
    let t0 = TimerStart::now();
    let r = c
        .call("SyncImages", json!({"ImageIds": [src], "DestinationRegions": ["ap-shanghai"], "ImageSetRequired": true}))
        .expect_ok();
    let copy = r["ImageSet"][0]["ImageId"]
        .as_str()
        .expect("id")
        .to_string();
    let mut s = s;
    s.kill9();
    let s = s.restart();
    let sh = s.client().in_region("ap-shanghai");
    assert_eq!(sh.image(&copy).expect("copy")["ImageState"], "SYNCING");
    watch_transition(t0, 8_000, "SYNCING", "NORMAL", || {
        sh.image(&copy).expect("copy")
    });
}

#[test]
fn sharing_and_export_refuse_an_image_that_is_not_normal() {
    let s = Server::start(Opts {
        ready_after_ms: 60_000,
        ..Opts::default()
    });
    let c = s.client();
    let id = c.create("busy");
    c.call(
        "ModifyImageSharePermission",
        json!({"ImageId": id, "AccountIds": [ACCOUNT_2], "Permission": "SHARE"}),
    )
    .expect_code("InvalidParameterValue.InvalidImageState");
    c.call(
        "ExportImages",
        json!({"BucketName": "b-1300000001", "ImageIds": [id]}),
    )
    .expect_code("InvalidParameterValue.InvalidImageState");
    c.call(
        "SyncImages",
        json!({"ImageIds": [id], "DestinationRegions": ["ap-shanghai"]}),
    )
    .expect_code("InvalidImageId.IncorrectState");
}
