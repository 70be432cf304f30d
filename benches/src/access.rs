//! The cost of access policies on the request path: DescribeImages and QueryFigureClusters
//! signed with the account's root key and with a sub-user's key that has 20 custom policies of
//! 10 statements each attached (the one statement that allows the action is the last of the
//! last policy; the other 199 are about other actions or resources, some with conditions).
//! The two are measured interleaved, five pairs in alternating order (root then user, user
//! then root, ...), and the median ratio of the pairs is reported with its spread. Principals
//! are created through the CAM and RAM APIs, as a user's setup script would.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::load::{once, Build};
use crate::report::Report;
use crate::{
    config, load_images, measure, requests, small_store, Opts, Server, AK, AK_SECRET, ID, KEY,
    REGION,
};

const ACCOUNT: &str = "100000000001";
const POLICIES: usize = 20;
const STATEMENTS: usize = 10;
const PAIRS: usize = 5;

async fn call(addr: &str, req: Vec<u8>) -> Value {
    let (_, body) = once(addr, &req).await.unwrap_or_default();
    serde_json::from_slice(&body).unwrap_or(Value::Null)
}

async fn cam(addr: &str, action: &str, body: Value) -> Value {
    let req = requests::tencent_product(
        addr,
        (ID, KEY),
        ("cam", "2019-01-16"),
        action,
        "",
        &body.to_string(),
    );
    let v = call(addr, req).await;
    if v["Response"].get("Error").is_some() {
        eprintln!("  CAM {action}: {}", v["Response"]["Error"]);
    }
    v["Response"].clone()
}

async fn ram(addr: &str, action: &str, params: &[(&str, String)]) -> Value {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let req = requests::aliyun_version(addr, (AK, AK_SECRET), "2015-05-01", action, &params);
    let v = call(addr, req).await;
    if v.get("Code").is_some() {
        eprintln!("  RAM {action}: {v}");
    }
    v
}

/// Statement `j` of policy `i` in the CAM grammar: nine that do not match DescribeImages
/// (other actions, other resources, conditions), the last of the last policy allows it.
fn cam_policy(i: usize) -> String {
    let statements: Vec<Value> = (0..STATEMENTS)
        .map(|j| {
            if i == POLICIES - 1 && j == STATEMENTS - 1 {
                json!({"effect": "allow", "action": ["cvm:Describe*"], "resource": ["*"],
                       "condition": {"ip_equal": {"qcs:ip": ["127.0.0.0/8"]}}})
            } else if j % 3 == 0 {
                json!({"effect": "deny", "action": [format!("cvm:DeleteImages{i}{j}")], "resource": ["*"]})
            } else {
                json!({"effect": "allow", "action": ["cvm:ModifyImageAttribute", "cvm:SyncImages"],
                       "resource": [format!("qcs::cvm::uin/{ACCOUNT}:image/img-{i:03}{j:04}")],
                       "condition": {"ip_equal": {"qcs:ip": ["10.0.0.0/8"]}}})
            }
        })
        .collect();
    json!({"version": "2.0", "statement": statements}).to_string()
}

fn ram_policy(i: usize) -> String {
    let statements: Vec<Value> = (0..STATEMENTS)
        .map(|j| {
            if i == POLICIES - 1 && j == STATEMENTS - 1 {
                json!({"Effect": "Allow", "Action": ["imm:Query*"], "Resource": ["acs:imm:*:*:project/bench/*"],
                       "Condition": {"IpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}}})
            } else if j % 3 == 0 {
                json!({"Effect": "Deny", "Action": [format!("imm:DeleteDataset{i}{j}")], "Resource": ["*"]})
            } else {
                json!({"Effect": "Allow", "Action": ["imm:UpdateFigureCluster", "imm:Get*"],
                       "Resource": [format!("acs:imm:*:{ACCOUNT}:project/p{i}/dataset/d{j}")],
                       "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}})
            }
        })
        .collect();
    json!({"Version": "1", "Statement": statements}).to_string()
}

/// A CAM sub-user with the policies; its (SecretId, SecretKey).
async fn cam_user(addr: &str) -> Option<(String, String)> {
    let user = cam(
        addr,
        "AddUser",
        json!({"Name": "bench-reader", "UseApi": 1}),
    )
    .await;
    let uin = user["Uin"].as_u64()?;
    for i in 0..POLICIES {
        let p = cam(
            addr,
            "CreatePolicy",
            json!({"PolicyName": format!("bench-{i}"), "PolicyDocument": cam_policy(i)}),
        )
        .await;
        let id = p["PolicyId"].as_u64()?;
        cam(
            addr,
            "AttachUserPolicy",
            json!({"PolicyId": id, "AttachUin": uin}),
        )
        .await;
    }
    Some((
        user["SecretId"].as_str()?.to_string(),
        user["SecretKey"].as_str()?.to_string(),
    ))
}

/// A RAM user with the policies; its (AccessKeyId, AccessKeySecret).
async fn ram_user(addr: &str) -> Option<(String, String)> {
    ram(addr, "CreateUser", &[("UserName", "bench-reader".into())]).await;
    let key = ram(
        addr,
        "CreateAccessKey",
        &[("UserName", "bench-reader".into())],
    )
    .await;
    for i in 0..POLICIES {
        let name = format!("bench-{i}");
        ram(
            addr,
            "CreatePolicy",
            &[
                ("PolicyName", name.clone()),
                ("PolicyDocument", ram_policy(i)),
            ],
        )
        .await;
        ram(
            addr,
            "AttachPolicyToUser",
            &[
                ("PolicyType", "Custom".into()),
                ("PolicyName", name),
                ("UserName", "bench-reader".into()),
            ],
        )
        .await;
    }
    Some((
        key["AccessKey"]["AccessKeyId"].as_str()?.to_string(),
        key["AccessKey"]["AccessKeySecret"].as_str()?.to_string(),
    ))
}

fn describe(host: String, id: String, key: String) -> Build {
    Arc::new(move |_, _| {
        requests::tencent(
            &host,
            &id,
            &key,
            "DescribeImages",
            REGION,
            r#"{"Filters":[{"Name":"image-type","Values":["PRIVATE_IMAGE"]}],"Limit":20}"#,
        )
    })
}

fn query(host: String, id: String, secret: String) -> Build {
    Arc::new(move |_, _| {
        let params: Vec<(String, String)> = [
            ("ProjectName", "bench"),
            ("DatasetName", "k1"),
            ("Sort", "ImageCount"),
            ("Order", "desc"),
            ("MaxResults", "20"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        requests::aliyun(&host, &id, &secret, "QueryFigureClusters", &params)
    })
}

/// Root and user interleaved, three pairs; the user/root ratios, sorted.
async fn pairs(
    o: &Opts,
    r: &mut Report,
    name: &str,
    key: &str,
    root: Build,
    user: Build,
    addr: &str,
) {
    let p = crate::pairs::interleaved(
        PAIRS,
        || async { measure(addr, 16, o.seconds, root.clone()).await.rps },
        || measure(addr, 16, o.seconds, user.clone()),
    )
    .await;
    if p.runs.iter().any(|run| run.errors > 0) {
        eprintln!("  {name}: sub-user requests failed (denied?)");
    }
    r.pairs(
        &format!("{name}, sub-user with {POLICIES} policies x {STATEMENTS} statements, 16 conns"),
        &format!("{key}_user"),
        0.0,
        &format!("{name}, root key, 16 conns"),
        &format!("{key}_root"),
        &format!("{key}_ratio"),
        &p,
    );
}

/// Only the sub-user's DescribeImages for `--seconds`, for a profiler attached to the server
/// (`cloudtwin-bench access-profile`; the server's pid is printed).
pub async fn profile(o: &Opts) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-access-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let server = Server::start(&config(&tmp, "sync"));
    let addr = server.addr.clone();
    load_images(&addr, 0, 1_000).await;
    if let Some((id, key)) = cam_user(&addr).await {
        eprintln!(
            "  server pid {}: sub-user DescribeImages for {} s",
            server.pid(),
            o.seconds
        );
        let run = measure(&addr, 16, o.seconds, describe(addr.clone(), id, key)).await;
        eprintln!("  {:.0} req/s, {} errors", run.rps, run.errors);
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The access-policy figures.
pub async fn run(o: &Opts, r: &mut Report) {
    let tmp = std::env::temp_dir().join(format!("cloudtwin-bench-access-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap_or_default();
    let server = Server::start(&config(&tmp, "sync"));
    let addr = server.addr.clone();
    small_store(&addr).await;
    match cam_user(&addr).await {
        Some((id, key)) => {
            pairs(
                o,
                r,
                "DescribeImages, 1000 images",
                "access_describe",
                describe(addr.clone(), ID.into(), KEY.into()),
                describe(addr.clone(), id, key),
                &addr,
            )
            .await
        }
        None => eprintln!(
            "  access bench: the CAM sub-user could not be set up; DescribeImages not measured"
        ),
    }
    match ram_user(&addr).await {
        Some((id, secret)) => {
            pairs(
                o,
                r,
                "QueryFigureClusters, 1000 clusters",
                "access_query",
                query(addr.clone(), AK.into(), AK_SECRET.into()),
                query(addr.clone(), id, secret),
                &addr,
            )
            .await
        }
        None => eprintln!(
            "  access bench: the RAM user could not be set up; QueryFigureClusters not measured"
        ),
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&tmp);
}
