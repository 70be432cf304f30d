//! The products this dialect serves (CVM, and the CAM and STS access APIs around it), by API
//! version; CVM action names -> [`Action`], with each action's documented rate limit
//! (cvm.md §4); the CAM and STS action names.

/// The API version this dialect serves.
pub const VERSION: &str = "2017-03-12";
/// The service name in the TC3 credential scope.
pub const SERVICE: &str = "cvm";

/// The CVM actions cloudtwin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Action {
    CreateImage,
    DeleteImages,
    DescribeImageFromFamily,
    DescribeImageQuota,
    DescribeImageSharePermission,
    DescribeImages,
    DescribeImportImageOs,
    ExportImages,
    ImportImage,
    ModifyImageAttribute,
    ModifyImageSharePermission,
    SyncImages,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 12] = [
        Action::CreateImage,
        Action::DeleteImages,
        Action::DescribeImageFromFamily,
        Action::DescribeImageQuota,
        Action::DescribeImageSharePermission,
        Action::DescribeImages,
        Action::DescribeImportImageOs,
        Action::ExportImages,
        Action::ImportImage,
        Action::ModifyImageAttribute,
        Action::ModifyImageSharePermission,
        Action::SyncImages,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateImage => "CreateImage",
            Action::DeleteImages => "DeleteImages",
            Action::DescribeImageFromFamily => "DescribeImageFromFamily",
            Action::DescribeImageQuota => "DescribeImageQuota",
            Action::DescribeImageSharePermission => "DescribeImageSharePermission",
            Action::DescribeImages => "DescribeImages",
            Action::DescribeImportImageOs => "DescribeImportImageOs",
            Action::ExportImages => "ExportImages",
            Action::ImportImage => "ImportImage",
            Action::ModifyImageAttribute => "ModifyImageAttribute",
            Action::ModifyImageSharePermission => "ModifyImageSharePermission",
            Action::SyncImages => "SyncImages",
        }
    }

    /// Looks an action up by its wire name (case-sensitive, as the gateway is).
    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Requests per second per account that the cloud documents for the action
    /// (DescribeImageSharePermission and DescribeImportImageOs are undocumented: 10).
    pub fn documented_limit(self) -> u32 {
        match self {
            Action::DescribeImages => 40,
            Action::DescribeImageFromFamily | Action::ExportImages => 20,
            _ => 10,
        }
    }
}

/// A product on this dialect, told apart by its API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// CVM 2017-03-12 (images).
    Cvm,
    /// CAM 2019-01-16 (sub-users, policies, roles).
    Cam,
    /// STS 2018-08-13 (temporary credentials).
    Sts,
}

impl Product {
    /// Every product.
    pub const ALL: [Product; 3] = [Product::Cvm, Product::Cam, Product::Sts];

    /// Its API version.
    pub fn version(self) -> &'static str {
        match self {
            Product::Cvm => VERSION,
            Product::Cam => "2019-01-16",
            Product::Sts => "2018-08-13",
        }
    }

    /// Its service name (TC3 scope, CAM action prefix).
    pub fn service(self) -> &'static str {
        match self {
            Product::Cvm => SERVICE,
            Product::Cam => "cam",
            Product::Sts => "sts",
        }
    }

    /// The product of an API version.
    pub fn from_version(v: &str) -> Option<Product> {
        Self::ALL.into_iter().find(|p| p.version() == v)
    }

    /// Its actions' wire names.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Product::Cvm => CVM_NAMES,
            Product::Cam => CAM_ACTIONS,
            Product::Sts => STS_ACTIONS,
        }
    }
}

const CVM_NAMES: &[&str] = &[
    "CreateImage",
    "DeleteImages",
    "DescribeImageFromFamily",
    "DescribeImageQuota",
    "DescribeImageSharePermission",
    "DescribeImages",
    "DescribeImportImageOs",
    "ExportImages",
    "ImportImage",
    "ModifyImageAttribute",
    "ModifyImageSharePermission",
    "SyncImages",
];

/// The CAM actions cloudtwin implements.
pub const CAM_ACTIONS: &[&str] = &[
    "AddUser",
    "GetUser",
    "ListUsers",
    "UpdateUser",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "CreatePolicy",
    "GetPolicy",
    "UpdatePolicy",
    "DeletePolicy",
    "ListPolicies",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedUserPolicies",
    "ListAttachedRolePolicies",
    "CreateRole",
    "GetRole",
    "DeleteRole",
    "DescribeRoleList",
    "UpdateAssumeRolePolicy",
];

/// The STS actions cloudtwin implements.
pub const STS_ACTIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// A routed action: a CVM action, or an access API's action by product and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// CVM.
    Cvm(Action),
    /// CAM or STS.
    Access(Product, &'static str),
}

impl Op {
    /// The action `name` of `product`.
    pub fn lookup(product: Product, name: &str) -> Option<Op> {
        match product {
            Product::Cvm => Action::from_name(name).map(Op::Cvm),
            p => p
                .actions()
                .iter()
                .find(|a| **a == name)
                .map(|a| Op::Access(p, a)),
        }
    }

    /// Whether any product has an action called `name`.
    pub fn exists(name: &str) -> bool {
        Product::ALL
            .into_iter()
            .any(|p| p.actions().contains(&name))
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Cvm(a) => a.name(),
            Op::Access(_, n) => n,
        }
    }

    /// The product.
    pub fn product(self) -> Product {
        match self {
            Op::Cvm(_) => Product::Cvm,
            Op::Access(p, _) => p,
        }
    }

    /// The documented per-second limit (CAM and STS: 20, the CAM documentation's figure).
    pub fn documented_limit(self) -> u32 {
        match self {
            Op::Cvm(a) => a.documented_limit(),
            Op::Access(..) => 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_name() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_name("describeImages"), None);
    }

    #[test]
    fn the_cvm_names_list_every_action_and_ops_are_found_only_in_their_product() {
        assert_eq!(CVM_NAMES.len(), Action::ALL.len());
        for a in Action::ALL {
            assert!(CVM_NAMES.contains(&a.name()));
        }
        assert_eq!(
            Op::lookup(Product::Cam, "AddUser"),
            Some(Op::Access(Product::Cam, "AddUser"))
        );
        assert_eq!(Op::lookup(Product::Cvm, "AddUser"), None);
        assert_eq!(Op::lookup(Product::Sts, "DescribeImages"), None);
        assert!(Op::exists("AssumeRole"));
        assert_eq!(Product::from_version("2018-08-13"), Some(Product::Sts));
    }
}
