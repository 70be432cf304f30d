//! The built-in policies of both clouds (Alibaba "system" policies, Tencent "preset"
//! policies): code, not data, like the public images. They are the same in every account and
//! never writable.

use super::model::Cloud;

/// A built-in policy.
#[derive(Debug, Clone, Copy)]
pub struct SystemPolicy {
    /// Its cloud.
    pub cloud: Cloud,
    /// Name.
    pub name: &'static str,
    /// Tencent `PolicyId` (cloudtwin's numbering: the cloud's own ids are not published).
    pub id: u64,
    /// Description.
    pub description: &'static str,
    /// The document.
    pub document: &'static str,
}

/// Every built-in policy.
pub const ALL: &[SystemPolicy] = &[
    SystemPolicy {
        cloud: Cloud::Aliyun,
        name: "AdministratorAccess",
        id: 1,
        description: "Provides full access to Alibaba Cloud services and resources.",
        document: r#"{"Version":"1","Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Aliyun,
        name: "AliyunIMMFullAccess",
        id: 2,
        description: "Provides full access to Intelligent Media Management (IMM).",
        document: r#"{"Version":"1","Statement":[{"Action":"imm:*","Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Aliyun,
        name: "AliyunIMMReadOnlyAccess",
        id: 3,
        description: "Provides read-only access to Intelligent Media Management (IMM).",
        document: r#"{"Version":"1","Statement":[{"Action":["imm:Get*","imm:List*","imm:Query*","imm:Search*","imm:BatchGet*","imm:Describe*"],"Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Aliyun,
        name: "AliyunSTSAssumeRoleAccess",
        id: 4,
        description: "Provides access to call the AssumeRole operation of Security Token Service (STS).",
        document: r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Aliyun,
        name: "AliyunRAMFullAccess",
        id: 5,
        description: "Provides full access to Resource Access Management (RAM).",
        document: r#"{"Version":"1","Statement":[{"Action":"ram:*","Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Aliyun,
        name: "AliyunRAMReadOnlyAccess",
        id: 6,
        description: "Provides read-only access to Resource Access Management (RAM).",
        document: r#"{"Version":"1","Statement":[{"Action":["ram:Get*","ram:List*"],"Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Tencent,
        name: "AdministratorAccess",
        id: 1,
        description: "This policy allows you to manage all users under your account and their permissions, financial information and cloud assets.",
        document: r#"{"version":"2.0","statement":[{"action":["*"],"effect":"allow","resource":["*"]}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Tencent,
        name: "QcloudCVMFullAccess",
        id: 2,
        description: "Full read-write access to Cloud Virtual Machine (CVM).",
        document: r#"{"version":"2.0","statement":[{"action":["cvm:*"],"effect":"allow","resource":["*"]}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Tencent,
        name: "QcloudCVMReadOnlyAccess",
        id: 3,
        description: "Read-only access to Cloud Virtual Machine (CVM).",
        document: r#"{"version":"2.0","statement":[{"action":["cvm:Describe*","cvm:Inquiry*"],"effect":"allow","resource":["*"]}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Tencent,
        name: "QcloudCamFullAccess",
        id: 4,
        description: "Full access to Cloud Access Management (CAM).",
        document: r#"{"version":"2.0","statement":[{"action":["cam:*"],"effect":"allow","resource":["*"]}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Tencent,
        name: "QcloudCamReadOnlyAccess",
        id: 5,
        description: "Read-only access to Cloud Access Management (CAM).",
        document: r#"{"version":"2.0","statement":[{"action":["cam:Get*","cam:List*"],"effect":"allow","resource":["*"]}]}"#,
    },
    SystemPolicy {
        cloud: Cloud::Tencent,
        name: "QcloudSTSAssumeRoleAccess",
        id: 6,
        description: "Permission to assume roles through Security Token Service (STS).",
        document: r#"{"version":"2.0","statement":[{"action":["sts:AssumeRole"],"effect":"allow","resource":["*"]}]}"#,
    },
];

/// The built-in policy of `cloud` called `name`.
pub fn by_name(cloud: Cloud, name: &str) -> Option<&'static SystemPolicy> {
    ALL.iter().find(|p| p.cloud == cloud && p.name == name)
}

/// The built-in policy of `cloud` with Tencent `PolicyId` `id`.
pub fn by_id(cloud: Cloud, id: u64) -> Option<&'static SystemPolicy> {
    ALL.iter().find(|p| p.cloud == cloud && p.id == id)
}

/// The built-in policies of `cloud`.
pub fn of(cloud: Cloud) -> impl Iterator<Item = &'static SystemPolicy> {
    ALL.iter().filter(move |p| p.cloud == cloud)
}

/// Custom policy ids start here (below are the built-in ones).
pub const FIRST_CUSTOM_ID: u64 = 100_000_000;
