//! RAM 2015-05-01 and STS 2015-04-01 over real HTTP against the real binary, signed by the
//! tests' own ACS3 signer (`common::imm`): sub-users and their keys bound by policies on IMM,
//! the denial's diagnostic decoded by RAM, role sessions and their tokens, the RAM error codes.

mod common;

use common::imm::ImmClient;
use common::*;
use serde_json::Value;

const RAM: &str = "2015-05-01";
const STS: &str = "2015-04-01";

fn s(v: &str) -> String {
    v.to_string()
}

fn ram(srv: &Server) -> ImmClient {
    srv.imm().version(RAM)
}

/// Creates `user` with one key and `policy` (a system policy) attached; its IMM client.
fn user_with(srv: &Server, user: &str, policy: &str) -> (ImmClient, String) {
    let r = ram(srv);
    r.call("CreateUser", &[("UserName", s(user))]).expect_ok();
    let k = r
        .call("CreateAccessKey", &[("UserName", s(user))])
        .expect_ok();
    let id = k["AccessKey"]["AccessKeyId"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = k["AccessKey"]["AccessKeySecret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_eq!(k["AccessKey"]["Status"], "Active");
    r.call(
        "AttachPolicyToUser",
        &[
            ("PolicyType", s("System")),
            ("PolicyName", s(policy)),
            ("UserName", s(user)),
        ],
    )
    .expect_ok();
    (ImmClient::new(&srv.base, &id, &secret), id)
}

fn project(name: &str) -> Vec<(&'static str, String)> {
    vec![("ProjectName", s(name))]
}

#[test]
fn a_sub_users_key_is_bound_by_its_policies_and_the_denial_decodes() {
    let srv = Server::start(Opts::default());
    srv.imm().call("CreateProject", &project("p1")).expect_ok();
    let (alice, key_id) = user_with(&srv, "alice", "AliyunIMMReadOnlyAccess");

    alice.call("ListProjects", &[]).expect_ok();
    let got = alice.call("GetProject", &project("p1")).expect_ok();
    assert_eq!(got["Project"]["ProjectName"], "p1");

    let denied = alice.call("CreateProject", &project("p2"));
    denied.expect(403, "AccessDenied");
    let msg = denied.body["Message"].as_str().expect("message");
    assert!(msg.contains("imm:CreateProject"), "{msg}");
    let detail = &denied.body["AccessDeniedDetail"];
    assert_eq!(detail["AuthAction"], "imm:CreateProject");
    assert_eq!(detail["NoPermissionType"], "ImplicitDeny");
    assert_eq!(detail["AuthPrincipalDisplayName"], "alice");
    let encoded = detail["EncodedDiagnosticMessage"]
        .as_str()
        .expect("encoded")
        .to_string();

    let decoded = ram(&srv)
        .call(
            "DecodeDiagnosticMessage",
            &[("EncodedDiagnosticMessage", encoded)],
        )
        .expect_ok();
    let d: &Value = &decoded["DecodedDiagnosticMessage"];
    assert_eq!(d["AuthAction"], "imm:CreateProject");
    assert_eq!(d["ExplicitDeny"], false);
    assert!(d["AuthResource"]
        .as_str()
        .is_some_and(|r| r.ends_with(":project/p2")));
    ram(&srv)
        .call(
            "DecodeDiagnosticMessage",
            &[("EncodedDiagnosticMessage", s("bm90IGEgZGlhZ25vc3RpYw=="))],
        )
        .expect(400, "InvalidParameter.EncodedDiagnosticMessage");

    // The read-only user cannot manage RAM either.
    alice
        .version(RAM)
        .call("ListUsers", &[])
        .expect(403, "AccessDenied");

    // Keys are listed without their secret.
    let keys = ram(&srv)
        .call("ListAccessKeys", &[("UserName", s("alice"))])
        .expect_ok();
    let list = keys["AccessKeys"]["AccessKey"].as_array().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["AccessKeyId"], key_id.as_str());
    assert!(list[0].get("AccessKeySecret").is_none());

    // An Inactive key is refused, an Active one again accepted.
    let status = |st: &str| {
        ram(&srv)
            .call(
                "UpdateAccessKey",
                &[
                    ("UserAccessKeyId", key_id.clone()),
                    ("Status", s(st)),
                    ("UserName", s("alice")),
                ],
            )
            .expect_ok();
    };
    status("Inactive");
    alice
        .call("ListProjects", &[])
        .expect(400, "InvalidAccessKeyId.Inactive");
    status("Active");
    alice.call("ListProjects", &[]).expect_ok();

    // A deleted user's key is refused at once.
    ram(&srv)
        .call("DeleteUser", &[("UserName", s("alice"))])
        .expect_ok();
    alice
        .call("ListProjects", &[])
        .expect(404, "InvalidAccessKeyId.NotFound");
}

#[test]
fn a_custom_policy_allows_one_dataset_and_an_explicit_deny_wins() {
    let srv = Server::start(Opts::default());
    srv.imm().dataset("p", "d1");
    srv.imm()
        .call(
            "CreateDataset",
            &[("ProjectName", s("p")), ("DatasetName", s("d2"))],
        )
        .expect_ok();
    let r = ram(&srv);
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"imm:*","Resource":"acs:imm:*:{ACCOUNT_1}:project/p/dataset/d?"}},{{"Effect":"Deny","Action":"imm:GetDataset","Resource":"acs:imm:*:*:project/p/dataset/d2"}}]}}"#
    );
    r.call(
        "CreatePolicy",
        &[("PolicyName", s("one-dataset")), ("PolicyDocument", doc)],
    )
    .expect_ok();
    r.call("CreateUser", &[("UserName", s("bob"))]).expect_ok();
    let k = r
        .call("CreateAccessKey", &[("UserName", s("bob"))])
        .expect_ok();
    r.call(
        "AttachPolicyToUser",
        &[
            ("PolicyType", s("Custom")),
            ("PolicyName", s("one-dataset")),
            ("UserName", s("bob")),
        ],
    )
    .expect_ok();
    let bob = ImmClient::new(
        &srv.base,
        k["AccessKey"]["AccessKeyId"].as_str().expect("id"),
        k["AccessKey"]["AccessKeySecret"].as_str().expect("secret"),
    );
    let ds = |d: &str| vec![("ProjectName", s("p")), ("DatasetName", s(d))];
    bob.call("GetDataset", &ds("d1")).expect_ok();
    let denied = bob.call("GetDataset", &ds("d2"));
    denied.expect(403, "AccessDenied");
    assert_eq!(
        denied.body["AccessDeniedDetail"]["NoPermissionType"],
        "ExplicitDeny"
    );
    bob.call("GetDataset", &ds("other"))
        .expect(403, "AccessDenied");

    // The policy is listed for the user, and cannot be deleted while attached.
    let l = r
        .call("ListPoliciesForUser", &[("UserName", s("bob"))])
        .expect_ok();
    assert_eq!(l["Policies"]["Policy"][0]["PolicyName"], "one-dataset");
    assert_eq!(l["Policies"]["Policy"][0]["DefaultVersion"], "v1");
    r.call("DeletePolicy", &[("PolicyName", s("one-dataset"))])
        .expect(409, "DeleteConflict.Policy.User");

    // A second version, made the default, narrows bob to d1 only by its own text.
    let v2 = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"imm:GetProject","Resource":"acs:imm:*:{ACCOUNT_1}:project/p"}}]}}"#
    );
    let made = r
        .call(
            "CreatePolicyVersion",
            &[
                ("PolicyName", s("one-dataset")),
                ("PolicyDocument", v2),
                ("SetAsDefault", s("true")),
            ],
        )
        .expect_ok();
    assert_eq!(made["PolicyVersion"]["VersionId"], "v2");
    assert_eq!(made["PolicyVersion"]["IsDefaultVersion"], true);
    bob.call("GetDataset", &ds("d1"))
        .expect(403, "AccessDenied");
    bob.call("GetProject", &project("p")).expect_ok();
    let g = r
        .call(
            "GetPolicy",
            &[
                ("PolicyType", s("Custom")),
                ("PolicyName", s("one-dataset")),
            ],
        )
        .expect_ok();
    assert_eq!(g["Policy"]["DefaultVersion"], "v2");
    assert_eq!(g["DefaultPolicyVersion"]["VersionId"], "v2");
    r.call(
        "SetDefaultPolicyVersion",
        &[("PolicyName", s("one-dataset")), ("VersionId", s("v1"))],
    )
    .expect_ok();
    bob.call("GetDataset", &ds("d1")).expect_ok();
    r.call(
        "DeletePolicyVersion",
        &[("PolicyName", s("one-dataset")), ("VersionId", s("v2"))],
    )
    .expect_ok();
    let vs = r
        .call(
            "ListPolicyVersions",
            &[
                ("PolicyType", s("Custom")),
                ("PolicyName", s("one-dataset")),
            ],
        )
        .expect_ok();
    assert_eq!(
        vs["PolicyVersions"]["PolicyVersion"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn ram_answers_its_own_error_codes() {
    let srv = Server::start(Opts::default());
    let r = ram(&srv);
    r.call("CreateUser", &[("UserName", s("carol"))])
        .expect_ok();
    r.call("CreateUser", &[("UserName", s("carol"))])
        .expect(409, "EntityAlreadyExists.User");
    r.call("CreateUser", &[("UserName", s("bad name"))])
        .expect(400, "InvalidParameter.UserName");
    r.call("CreateUser", &[]).expect(400, "MissingUserName");
    r.call("GetUser", &[("UserName", s("nobody"))])
        .expect(404, "EntityNotExist.User");
    for _ in 0..2 {
        r.call("CreateAccessKey", &[("UserName", s("carol"))])
            .expect_ok();
    }
    r.call("CreateAccessKey", &[("UserName", s("carol"))])
        .expect(409, "LimitExceeded.User.AccessKey");
    r.call(
        "DeleteAccessKey",
        &[("UserAccessKeyId", s("LTAInope")), ("UserName", s("carol"))],
    )
    .expect(404, "EntityNotExist.User.AccessKey");
    r.call(
        "CreatePolicy",
        &[
            ("PolicyName", s("broken")),
            (
                "PolicyDocument",
                s(r#"{"Version":"1","Statement":[{"Effect":"Maybe"}]}"#),
            ),
        ],
    )
    .expect(400, "MalformedPolicyDocument");
    r.call(
        "CreatePolicy",
        &[
            ("PolicyName", s("AliyunIMMFullAccess")),
            (
                "PolicyDocument",
                s(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
            ),
        ],
    )
    .expect(409, "EntityAlreadyExists.Policy");
    r.call("DeletePolicy", &[("PolicyName", s("AliyunIMMFullAccess"))])
        .expect(403, "NoPermission.SystemPolicy");
    let sys = r
        .call(
            "GetPolicy",
            &[
                ("PolicyType", s("System")),
                ("PolicyName", s("AliyunIMMReadOnlyAccess")),
            ],
        )
        .expect_ok();
    assert_eq!(sys["Policy"]["PolicyType"], "System");
    assert_eq!(sys["DefaultPolicyVersion"]["IsDefaultVersion"], true);
    r.call(
        "GetPolicy",
        &[("PolicyType", s("Custom")), ("PolicyName", s("nope"))],
    )
    .expect(404, "EntityNotExist.Policy");
    let trust = format!(
        r#"{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"RAM":["acs:ram::{ACCOUNT_1}:root"]}}}}],"Version":"1"}}"#
    );
    r.call(
        "CreateRole",
        &[
            ("RoleName", s("r1")),
            ("AssumeRolePolicyDocument", trust.clone()),
        ],
    )
    .expect_ok();
    r.call(
        "CreateRole",
        &[("RoleName", s("r1")), ("AssumeRolePolicyDocument", trust)],
    )
    .expect(409, "EntityAlreadyExists.Role");
    r.call(
        "AttachPolicyToRole",
        &[
            ("PolicyType", s("System")),
            ("PolicyName", s("AliyunIMMFullAccess")),
            ("RoleName", s("r1")),
        ],
    )
    .expect_ok();
    r.call(
        "AttachPolicyToRole",
        &[
            ("PolicyType", s("System")),
            ("PolicyName", s("AliyunIMMFullAccess")),
            ("RoleName", s("r1")),
        ],
    )
    .expect(409, "EntityAlreadyExists.Role.Policy");
    r.call("DeleteRole", &[("RoleName", s("r1"))])
        .expect(409, "DeleteConflict.Role.Policy");
    r.call(
        "UpdateRole",
        &[("RoleName", s("r1")), ("NewMaxSessionDuration", s("100"))],
    )
    .expect(400, "InvalidParameter.NewMaxSessionDuration");
    let u = r
        .call(
            "UpdateRole",
            &[
                ("RoleName", s("r1")),
                ("NewMaxSessionDuration", s("7200")),
                ("NewDescription", s("ci")),
            ],
        )
        .expect_ok();
    assert_eq!(u["Role"]["MaxSessionDuration"], 7200);
    assert_eq!(
        u["Role"]["Arn"],
        format!("acs:ram::{ACCOUNT_1}:role/r1").as_str()
    );
    let users = r.call("ListUsers", &[("MaxItems", s("1"))]).expect_ok();
    assert_eq!(users["Users"]["User"][0]["UserName"], "carol");
    assert_eq!(users["IsTruncated"], false);
    let roles = r.call("ListRoles", &[]).expect_ok();
    assert_eq!(roles["Roles"]["Role"][0]["RoleName"], "r1");
    r.call("GetRole", &[("RoleName", s("zz"))])
        .expect(404, "EntityNotExist.Role");
}

#[test]
fn a_role_session_signs_with_its_token_and_bad_tokens_are_refused() {
    let srv = Server::start(Opts::default());
    srv.imm().call("CreateProject", &project("p1")).expect_ok();
    let r = ram(&srv);
    let trust = format!(
        r#"{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"RAM":["acs:ram::{ACCOUNT_1}:root"]}}}}],"Version":"1"}}"#
    );
    let role = r
        .call(
            "CreateRole",
            &[
                ("RoleName", s("reader")),
                ("AssumeRolePolicyDocument", trust),
            ],
        )
        .expect_ok();
    let role_id = role["Role"]["RoleId"].as_str().expect("id").to_string();
    r.call(
        "AttachPolicyToRole",
        &[
            ("PolicyType", s("System")),
            ("PolicyName", s("AliyunIMMReadOnlyAccess")),
            ("RoleName", s("reader")),
        ],
    )
    .expect_ok();
    let sts = srv.imm().version(STS);
    let arn = format!("acs:ram::{ACCOUNT_1}:role/reader");
    let a = sts
        .call(
            "AssumeRole",
            &[("RoleArn", arn.clone()), ("RoleSessionName", s("ci-run"))],
        )
        .expect_ok();
    assert_eq!(
        a["AssumedRoleUser"]["Arn"],
        format!("{arn}/ci-run").as_str()
    );
    assert_eq!(
        a["AssumedRoleUser"]["AssumedRoleId"],
        format!("{role_id}:ci-run").as_str()
    );
    let c = &a["Credentials"];
    let id = c["AccessKeyId"].as_str().expect("ak");
    let secret = c["AccessKeySecret"].as_str().expect("sk");
    let token = c["SecurityToken"].as_str().expect("token");
    assert!(id.starts_with("STS."));
    let exp = c["Expiration"].as_str().expect("exp");
    assert_eq!(exp.len(), 20, "{exp}");
    assert!(exp.ends_with('Z'));

    let session = ImmClient::new(&srv.base, id, secret).with_token(token);
    session.call("GetProject", &project("p1")).expect_ok();
    session
        .call("CreateProject", &project("p2"))
        .expect(403, "AccessDenied");
    let me = session
        .version(STS)
        .call("GetCallerIdentity", &[])
        .expect_ok();
    assert_eq!(me["IdentityType"], "AssumedRoleUser");
    assert_eq!(me["RoleId"], role_id.as_str());
    assert_eq!(me["AccountId"], ACCOUNT_1);
    let root = srv
        .imm()
        .version(STS)
        .call("GetCallerIdentity", &[])
        .expect_ok();
    assert_eq!(root["IdentityType"], "Account");

    // A session policy narrows the session.
    let narrow = s(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"imm:ListProjects","Resource":"*"}]}"#,
    );
    let n = sts
        .call(
            "AssumeRole",
            &[
                ("RoleArn", arn.clone()),
                ("RoleSessionName", s("narrow")),
                ("Policy", narrow),
                ("DurationSeconds", s("900")),
            ],
        )
        .expect_ok();
    let nc = &n["Credentials"];
    let narrowed = ImmClient::new(
        &srv.base,
        nc["AccessKeyId"].as_str().expect("ak"),
        nc["AccessKeySecret"].as_str().expect("sk"),
    )
    .with_token(nc["SecurityToken"].as_str().expect("tok"));
    narrowed.call("ListProjects", &[]).expect_ok();
    narrowed
        .call("GetProject", &project("p1"))
        .expect(403, "AccessDenied");

    // Tampered tokens, mismatched keys and a temporary key without its token.
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).expect("ascii");
    ImmClient::new(&srv.base, id, secret)
        .with_token(&tampered)
        .call("ListProjects", &[])
        .expect(400, "InvalidSecurityToken.Malformed");
    ImmClient::new(&srv.base, nc["AccessKeyId"].as_str().expect("ak"), secret)
        .with_token(token)
        .call("ListProjects", &[])
        .expect(400, "InvalidSecurityToken.MismatchWithAccessKey");
    ImmClient::new(&srv.base, id, secret)
        .call("ListProjects", &[])
        .expect(400, "MissingSecurityToken");

    // AssumeRole's own refusals.
    let bad = |params: &[(&str, String)], status: u16, code: &str| {
        sts.call("AssumeRole", params).expect(status, code);
    };
    bad(
        &[
            ("RoleArn", s("arn:nope")),
            ("RoleSessionName", s("ok-name")),
        ],
        400,
        "InvalidParameter.RoleArn",
    );
    bad(
        &[("RoleArn", arn.clone()), ("RoleSessionName", s("x"))],
        400,
        "InvalidParameter.RoleSessionName",
    );
    bad(
        &[
            ("RoleArn", arn.clone()),
            ("RoleSessionName", s("ok-name")),
            ("DurationSeconds", s("7200")),
        ],
        400,
        "InvalidParameter.DurationSeconds",
    );
    bad(
        &[
            ("RoleArn", arn.clone()),
            ("RoleSessionName", s("ok-name")),
            ("DurationSeconds", s("600")),
        ],
        400,
        "InvalidParameter.DurationSeconds",
    );
    bad(
        &[
            ("RoleArn", arn.clone()),
            ("RoleSessionName", s("ok-name")),
            ("Policy", s(r#"{"Version":"1","Statement":"x"}"#)),
        ],
        400,
        "InvalidParameter.PolicyGrammar",
    );
    bad(
        &[
            ("RoleArn", format!("acs:ram::{ACCOUNT_1}:role/missing")),
            ("RoleSessionName", s("ok-name")),
        ],
        404,
        "EntityNotExist.Role",
    );
    bad(&[("RoleSessionName", s("ok-name"))], 400, "MissingRoleArn");

    // `acs:ram::<account>:root` in a trust policy admits every identity of the account that
    // its own policies allow sts:AssumeRole; a trust policy naming one user admits only it.
    let (dave, _) = user_with(&srv, "dave", "AliyunSTSAssumeRoleAccess");
    dave.version(STS)
        .call(
            "AssumeRole",
            &[("RoleArn", arn.clone()), ("RoleSessionName", s("dave"))],
        )
        .expect_ok();
    let frank_only = format!(
        r#"{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"RAM":["acs:ram::{ACCOUNT_1}:user/frank"]}}}}],"Version":"1"}}"#
    );
    r.call(
        "CreateRole",
        &[
            ("RoleName", s("frank-only")),
            ("AssumeRolePolicyDocument", frank_only),
        ],
    )
    .expect_ok();
    dave.version(STS)
        .call(
            "AssumeRole",
            &[
                ("RoleArn", format!("acs:ram::{ACCOUNT_1}:role/frank-only")),
                ("RoleSessionName", s("dave")),
            ],
        )
        .expect(403, "NoPermission");
    // And one without sts:AssumeRole is refused before the trust policy is read.
    let (erin, _) = user_with(&srv, "erin", "AliyunIMMReadOnlyAccess");
    erin.version(STS)
        .call(
            "AssumeRole",
            &[("RoleArn", arn), ("RoleSessionName", s("erin"))],
        )
        .expect(403, "NoPermission");
}
