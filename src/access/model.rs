//! The access domain's records: sub-users, their access keys, managed policies (custom ones;
//! system policies are code, `system.rs`) and roles. Each cloud has its own principals: a RAM
//! user (Alibaba) and a CAM user (Tencent) of one account are different things.

use serde::{Deserialize, Serialize};

use crate::store::Record;

/// Which cloud's access control a principal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Cloud {
    /// Alibaba Cloud RAM (policies in the RAM grammar, for IMM).
    Aliyun,
    /// Tencent Cloud CAM (policies in the CAM grammar, for CVM).
    Tencent,
}

impl Cloud {
    /// Both clouds.
    pub const ALL: [Cloud; 2] = [Cloud::Aliyun, Cloud::Tencent];

    /// The tag in keys and documents (`ram`, `cam`).
    pub fn tag(self) -> &'static str {
        match self {
            Cloud::Aliyun => "ram",
            Cloud::Tencent => "cam",
        }
    }

    /// The cloud of a tag.
    pub fn from_tag(tag: &str) -> Option<Cloud> {
        Cloud::ALL.into_iter().find(|c| c.tag() == tag)
    }
}

/// Whether an access key may sign requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Signs requests.
    Active,
    /// Refused with the cloud's code.
    Inactive,
}

impl KeyStatus {
    /// The wire spelling (`Active`/`Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }

    /// Parses the wire spelling (Alibaba `Active`/`Inactive`, Tencent also `Active`/`Inactive`).
    pub fn parse(s: &str) -> Option<KeyStatus> {
        match s {
            "Active" => Some(KeyStatus::Active),
            "Inactive" => Some(KeyStatus::Inactive),
            _ => None,
        }
    }
}

/// A system (built-in) or custom policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Built in (`system.rs`): Alibaba `System`, Tencent preset (`QcloudCVMFullAccess`).
    System,
    /// Created by the account.
    Custom,
}

impl PolicyKind {
    /// Alibaba's spelling (`System`/`Custom`).
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::System => "System",
            PolicyKind::Custom => "Custom",
        }
    }

    /// Parses Alibaba's spelling.
    pub fn parse(s: &str) -> Option<PolicyKind> {
        match s {
            "System" => Some(PolicyKind::System),
            "Custom" => Some(PolicyKind::Custom),
            _ => None,
        }
    }
}

/// A policy attached to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct PolicyRef {
    /// System or custom.
    pub kind: PolicyKind,
    /// Policy name.
    pub name: String,
}

/// An attachment with the time it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The policy.
    pub policy: PolicyRef,
    /// When it was attached (epoch ms).
    pub attached_ms: u64,
}

/// A sub-user (RAM user or CAM sub-user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its cloud.
    pub cloud: Cloud,
    /// The owning account id.
    pub account: String,
    /// User name (unique in the account and cloud).
    pub name: String,
    /// Alibaba `UserId`; Tencent sub-user `Uin` (decimal).
    pub id: String,
    /// Tencent `Uid` (decimal; Alibaba: unused, equal to `id`).
    pub uid: String,
    /// Display name (Alibaba) or remark (Tencent).
    pub display_name: String,
    /// Comments (Alibaba) / Remark (Tencent).
    pub comments: String,
    /// E-mail.
    pub email: String,
    /// Mobile phone.
    pub phone: String,
    /// Tencent `ConsoleLogin` (0/1).
    pub console_login: bool,
    /// Created (epoch ms).
    pub created_ms: u64,
    /// Updated (epoch ms).
    pub updated_ms: u64,
    /// Attached policies, in attachment order.
    pub policies: Vec<Attachment>,
    /// Its access keys' ids, oldest first.
    pub key_ids: Vec<String>,
}

impl Record for User {
    const KIND: &'static str = "access.user";
    const VERSION: u8 = 1;
}

/// An access key of a sub-user (root keys live in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    /// AccessKeyId / SecretId (unique across clouds).
    pub id: String,
    /// AccessKeySecret / SecretKey.
    pub secret: String,
    /// Its cloud.
    pub cloud: Cloud,
    /// The owning account id.
    pub account: String,
    /// The user's name.
    pub user: String,
    /// Active or not.
    pub status: KeyStatus,
    /// Tencent `Description`.
    pub description: String,
    /// Created (epoch ms).
    pub created_ms: u64,
}

impl Record for AccessKey {
    const KIND: &'static str = "access.key";
    const VERSION: u8 = 1;
}

/// One version of a custom policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `1`, `2`, ... (Alibaba spells it `v1`).
    pub id: u32,
    /// The policy document as given.
    pub document: String,
    /// Created (epoch ms).
    pub created_ms: u64,
}

/// A custom policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// Its cloud (its grammar).
    pub cloud: Cloud,
    /// The owning account id.
    pub account: String,
    /// Name (unique in the account and cloud).
    pub name: String,
    /// Tencent `PolicyId` (Alibaba: a number too, unused on the wire).
    pub id: u64,
    /// Description.
    pub description: String,
    /// Versions, oldest first (Tencent keeps one).
    pub versions: Vec<PolicyVersion>,
    /// The version in force.
    pub default_version: u32,
    /// Principals it is attached to (users and roles).
    pub attached: u32,
    /// Created (epoch ms).
    pub created_ms: u64,
    /// Updated (epoch ms).
    pub updated_ms: u64,
}

impl Record for ManagedPolicy {
    const KIND: &'static str = "access.policy";
    const VERSION: u8 = 1;
}

impl ManagedPolicy {
    /// The document in force.
    pub fn document(&self) -> &str {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .or_else(|| self.versions.last())
            .map(|v| v.document.as_str())
            .unwrap_or("")
    }
}

/// A role that principals may assume through STS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its cloud.
    pub cloud: Cloud,
    /// The owning account id.
    pub account: String,
    /// Name (unique in the account and cloud).
    pub name: String,
    /// Alibaba `RoleId` / Tencent `RoleId` (decimal strings).
    pub id: String,
    /// The trust policy (`AssumeRolePolicyDocument` / `PolicyDocument`).
    pub trust: String,
    /// Description.
    pub description: String,
    /// Longest session, seconds (Alibaba `MaxSessionDuration`, Tencent `SessionDuration`).
    pub max_session_secs: u64,
    /// Tencent `ConsoleLogin`.
    pub console_login: bool,
    /// Created (epoch ms).
    pub created_ms: u64,
    /// Updated (epoch ms).
    pub updated_ms: u64,
    /// Attached policies.
    pub policies: Vec<Attachment>,
}

impl Record for Role {
    const KIND: &'static str = "access.role";
    const VERSION: u8 = 1;
}

/// Who a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A user, by name.
    User(&'a str),
    /// A role, by name.
    Role(&'a str),
}
