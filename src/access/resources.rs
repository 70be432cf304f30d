//! The action → resource tables (access.md §1.5 for IMM, §3.4 for CVM images, and the access
//! APIs' own), as data: each row names the action and the resource templates a request to it
//! is authorized on. A template's `{region}` and `{account}` are the request's; `{Name}` is a
//! request parameter; `{Name.N}` is a list parameter, one resource per element (a batch is
//! allowed only when every resource is). A missing parameter leaves its place empty, so only
//! a pattern that covers every id (`image/*`, `*`) allows the request; the action's own
//! validation then answers the missing parameter. A row with no templates ([`NO_PERMISSION`])
//! is an action every signer may call (GetCallerIdentity). An action without a row is refused
//! in `enforce` mode (fail closed).

/// One row of a table.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The action's wire name.
    pub action: &'static str,
    /// Resource templates.
    pub resources: &'static [&'static str],
}

const fn row(action: &'static str, resources: &'static [&'static str]) -> Row {
    Row { action, resources }
}

/// The resources of an action that needs no permission: every signer may call it.
pub const NO_PERMISSION: &[&str] = &[];

impl Row {
    /// Whether every signer may call the action (its row names no resource).
    pub fn needs_no_permission(&self) -> bool {
        self.resources.is_empty()
    }
}

const IMM_PROJECT: &str = "acs:imm:{region}:{account}:project/{ProjectName}";
const IMM_DATASET: &str = "acs:imm:{region}:{account}:project/{ProjectName}/dataset/{DatasetName}";

/// IMM 2020-09-30 (action prefix `imm:`).
pub const IMM: &[Row] = &[
    row("CreateProject", &[IMM_PROJECT]),
    row("GetProject", &[IMM_PROJECT]),
    row("UpdateProject", &[IMM_PROJECT]),
    row("DeleteProject", &[IMM_PROJECT]),
    // [uncertain] in the spec: the list is authorized on every project of the region.
    row("ListProjects", &["acs:imm:{region}:{account}:project/*"]),
    row("CreateDataset", &[IMM_DATASET]),
    row("GetDataset", &[IMM_DATASET]),
    row("UpdateDataset", &[IMM_DATASET]),
    row("DeleteDataset", &[IMM_DATASET]),
    row("ListDatasets", &[IMM_PROJECT]),
    row("IndexFileMeta", &[IMM_DATASET]),
    row("BatchIndexFileMeta", &[IMM_DATASET]),
    row("UpdateFileMeta", &[IMM_DATASET]),
    row("BatchUpdateFileMeta", &[IMM_DATASET]),
    row("GetFileMeta", &[IMM_DATASET]),
    row("BatchGetFileMeta", &[IMM_DATASET]),
    row("DeleteFileMeta", &[IMM_DATASET]),
    row("BatchDeleteFileMeta", &[IMM_DATASET]),
    row("CreateFigureClusteringTask", &[IMM_DATASET]),
    row("CreateFigureClustersMergingTask", &[IMM_DATASET]),
    row("GetFigureCluster", &[IMM_DATASET]),
    row("BatchGetFigureCluster", &[IMM_DATASET]),
    row("QueryFigureClusters", &[IMM_DATASET]),
    row("UpdateFigureCluster", &[IMM_DATASET]),
    row("GetTask", &[IMM_PROJECT]),
    row("ListTasks", &[IMM_PROJECT]),
    row("SimpleQuery", &[IMM_DATASET]),
];

const RAM_USER: &str = "acs:ram:*:{account}:user/{UserName}";
const RAM_POLICY: &str = "acs:ram:*:{account}:policy/{PolicyName}";
const RAM_ROLE: &str = "acs:ram:*:{account}:role/{RoleName}";

/// RAM 2015-05-01 (action prefix `ram:`).
pub const RAM: &[Row] = &[
    row("CreateUser", &[RAM_USER]),
    row("GetUser", &[RAM_USER]),
    row("UpdateUser", &[RAM_USER]),
    row("DeleteUser", &[RAM_USER]),
    row("ListUsers", &["acs:ram:*:{account}:user/*"]),
    row("CreateAccessKey", &[RAM_USER]),
    row("ListAccessKeys", &[RAM_USER]),
    row("UpdateAccessKey", &[RAM_USER]),
    row("DeleteAccessKey", &[RAM_USER]),
    row("CreatePolicy", &[RAM_POLICY]),
    row("GetPolicy", &[RAM_POLICY]),
    row("ListPolicies", &["acs:ram:*:{account}:policy/*"]),
    row("CreatePolicyVersion", &[RAM_POLICY]),
    row("GetPolicyVersion", &[RAM_POLICY]),
    row("ListPolicyVersions", &[RAM_POLICY]),
    row("SetDefaultPolicyVersion", &[RAM_POLICY]),
    row("DeletePolicyVersion", &[RAM_POLICY]),
    row("DeletePolicy", &[RAM_POLICY]),
    row("AttachPolicyToUser", &[RAM_POLICY, RAM_USER]),
    row("DetachPolicyFromUser", &[RAM_POLICY, RAM_USER]),
    row("AttachPolicyToRole", &[RAM_POLICY, RAM_ROLE]),
    row("DetachPolicyFromRole", &[RAM_POLICY, RAM_ROLE]),
    row("ListPoliciesForUser", &[RAM_USER]),
    row("ListPoliciesForRole", &[RAM_ROLE]),
    row("CreateRole", &[RAM_ROLE]),
    row("GetRole", &[RAM_ROLE]),
    row("UpdateRole", &[RAM_ROLE]),
    row("DeleteRole", &[RAM_ROLE]),
    row("ListRoles", &["acs:ram:*:{account}:role/*"]),
    row("DecodeDiagnosticMessage", &["*"]),
];

/// Alibaba STS 2015-04-01 (action prefix `sts:`). `{RoleArn}` is the role's ARN as given.
pub const ALIYUN_STS: &[Row] = &[
    row("AssumeRole", &["{RoleArn}"]),
    row("GetCallerIdentity", NO_PERMISSION),
];

const CVM_IMAGE: &str = "qcs::cvm:{region}:uin/{account}:image/{ImageId}";
const CVM_IMAGES: &str = "qcs::cvm:{region}:uin/{account}:image/{ImageIds.N}";
const CVM_ALL_IMAGES: &str = "qcs::cvm:{region}:uin/{account}:image/*";

/// CVM 2017-03-12 images (action prefix `cvm:`; §3.4: actions the documentation does not list
/// accept only `*`).
pub const CVM: &[Row] = &[
    row(
        "CreateImage",
        &[
            "qcs::cvm:{region}:uin/{account}:instance/{InstanceId?}",
            CVM_ALL_IMAGES,
        ],
    ),
    row("DeleteImages", &[CVM_IMAGES]),
    row("DescribeImages", &[CVM_ALL_IMAGES]),
    row("DescribeImageSharePermission", &[CVM_ALL_IMAGES]),
    row("ModifyImageAttribute", &[CVM_IMAGE]),
    row("ModifyImageSharePermission", &[CVM_IMAGE]),
    row("SyncImages", &[CVM_IMAGES]),
    row("ImportImage", &["*"]),
    row("ExportImages", &["*"]),
    row("DescribeImportImageOs", &["*"]),
    row("DescribeImageQuota", &["*"]),
    row("DescribeImageFromFamily", &["*"]),
];

/// CAM 2019-01-16 (action prefix `cam:`): no resource-level permission, `*` only.
pub const CAM: &[Row] = &[
    row("AddUser", &["*"]),
    row("GetUser", &["*"]),
    row("ListUsers", &["*"]),
    row("UpdateUser", &["*"]),
    row("DeleteUser", &["*"]),
    row("CreateAccessKey", &["*"]),
    row("ListAccessKeys", &["*"]),
    row("UpdateAccessKey", &["*"]),
    row("DeleteAccessKey", &["*"]),
    row("CreatePolicy", &["*"]),
    row("GetPolicy", &["*"]),
    row("UpdatePolicy", &["*"]),
    row("DeletePolicy", &["*"]),
    row("ListPolicies", &["*"]),
    row("AttachUserPolicy", &["*"]),
    row("DetachUserPolicy", &["*"]),
    row("AttachRolePolicy", &["*"]),
    row("DetachRolePolicy", &["*"]),
    row("ListAttachedUserPolicies", &["*"]),
    row("ListAttachedRolePolicies", &["*"]),
    row("CreateRole", &["*"]),
    row("GetRole", &["*"]),
    row("DeleteRole", &["*"]),
    row("DescribeRoleList", &["*"]),
    row("UpdateAssumeRolePolicy", &["*"]),
];

/// Tencent STS 2018-08-13 (action prefix `sts:`).
pub const TENCENT_STS: &[Row] = &[
    row("AssumeRole", &["{RoleArn}"]),
    row("GetCallerIdentity", NO_PERMISSION),
];

/// The row of `action` in `table`.
pub fn find(table: &'static [Row], action: &str) -> Option<&'static Row> {
    table.iter().find(|r| r.action == action)
}

/// The resources of one request: every template of `row` filled from `region`, `account` and
/// the parameters (`param(name)` gives a parameter's values: one for a scalar, each element for
/// `Name.N`, none when absent). A template whose `{Name?}` parameter is absent is dropped.
pub fn expand(
    row: &Row,
    region: &str,
    account: &str,
    param: &dyn Fn(&str) -> Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for t in row.resources {
        expand_one(t, region, account, param, &mut out);
    }
    out
}

fn expand_one(
    template: &str,
    region: &str,
    account: &str,
    param: &dyn Fn(&str) -> Vec<String>,
    out: &mut Vec<String>,
) {
    // The common case, no request parameter: one pass.
    if !template
        .split('{')
        .skip(1)
        .any(|t| !t.starts_with("region}") && !t.starts_with("account}"))
    {
        out.push(
            template
                .replace("{region}", region)
                .replace("{account}", account),
        );
        return;
    }
    let Some(open) = template.find('{') else {
        out.push(template.to_string());
        return;
    };
    let Some(len) = template[open..].find('}') else {
        out.push(template.to_string());
        return;
    };
    let name = &template[open + 1..open + len];
    let (head, tail) = (&template[..open], &template[open + len + 1..]);
    let values = match name {
        "region" => vec![region.to_string()],
        "account" => vec![account.to_string()],
        n => {
            let optional = n.ends_with('?');
            let n = n.trim_end_matches('?').trim_end_matches(".N");
            let v = param(n);
            match (v.is_empty(), optional) {
                (true, true) => return,
                (true, false) => vec![String::new()],
                (false, _) => v,
            }
        }
    };
    for v in values {
        expand_one(&format!("{head}{v}{tail}"), region, account, param, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(
        pairs: &'static [(&'static str, &'static [&'static str])],
    ) -> impl Fn(&str) -> Vec<String> {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default()
        }
    }

    #[test]
    fn update_figure_cluster_is_authorized_on_its_dataset_as_the_seed_documents() {
        let r = find(IMM, "UpdateFigureCluster").map(|r| {
            expand(
                r,
                "cn-hangzhou",
                "1",
                &params(&[("ProjectName", &["p"]), ("DatasetName", &["d"])]),
            )
        });
        assert_eq!(
            r,
            Some(vec!["acs:imm:cn-hangzhou:1:project/p/dataset/d".to_string()])
        );
    }

    #[test]
    fn a_batch_names_one_resource_per_element_and_a_missing_id_stays_empty() {
        let r = find(CVM, "DeleteImages").map(|r| {
            expand(
                r,
                "ap-guangzhou",
                "1",
                &params(&[("ImageIds", &["img-a", "img-b"])]),
            )
        });
        assert_eq!(
            r,
            Some(vec![
                "qcs::cvm:ap-guangzhou:uin/1:image/img-a".to_string(),
                "qcs::cvm:ap-guangzhou:uin/1:image/img-b".to_string()
            ])
        );
        let m =
            find(CVM, "ModifyImageAttribute").map(|r| expand(r, "ap-guangzhou", "1", &params(&[])));
        assert_eq!(
            m,
            Some(vec!["qcs::cvm:ap-guangzhou:uin/1:image/".to_string()])
        );
    }

    #[test]
    fn create_image_names_its_instance_only_when_given() {
        let row = find(CVM, "CreateImage");
        let with = row.map(|r| {
            expand(
                r,
                "ap-guangzhou",
                "1",
                &params(&[("InstanceId", &["ins-1"])]),
            )
        });
        assert_eq!(with.map(|v| v.len()), Some(2));
        let without = row.map(|r| expand(r, "ap-guangzhou", "1", &params(&[])));
        assert_eq!(
            without,
            Some(vec!["qcs::cvm:ap-guangzhou:uin/1:image/*".to_string()])
        );
    }

    #[test]
    fn every_row_of_every_table_is_unique() {
        for t in [IMM, RAM, ALIYUN_STS, CVM, CAM, TENCENT_STS] {
            for (i, r) in t.iter().enumerate() {
                assert!(
                    t[i + 1..].iter().all(|o| o.action != r.action),
                    "{} twice",
                    r.action
                );
            }
        }
    }
}
