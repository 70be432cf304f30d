//! The products this dialect serves (IMM, and the RAM and STS access APIs around it), by API
//! version; IMM action names -> [`Action`]; the RAM and STS action names.

/// The API version this dialect serves.
pub const VERSION: &str = "2020-09-30";

macro_rules! actions {
    ($($name:ident),* $(,)?) => {
        /// The IMM actions cloudtwin implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Action { $($name),* }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $(Action::$name => stringify!($name)),* }
            }
        }
    };
}

actions!(
    CreateProject,
    GetProject,
    ListProjects,
    UpdateProject,
    DeleteProject,
    CreateDataset,
    GetDataset,
    ListDatasets,
    UpdateDataset,
    DeleteDataset,
    IndexFileMeta,
    BatchIndexFileMeta,
    UpdateFileMeta,
    BatchUpdateFileMeta,
    GetFileMeta,
    BatchGetFileMeta,
    DeleteFileMeta,
    BatchDeleteFileMeta,
    CreateFigureClusteringTask,
    CreateFigureClustersMergingTask,
    GetFigureCluster,
    BatchGetFigureCluster,
    QueryFigureClusters,
    UpdateFigureCluster,
    GetTask,
    ListTasks,
    SimpleQuery,
);

impl Action {
    /// Looks an action up by its wire name.
    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// A product on this dialect, told apart by its API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// IMM 2020-09-30.
    Imm,
    /// RAM 2015-05-01 (users, policies, roles).
    Ram,
    /// STS 2015-04-01 (temporary credentials).
    Sts,
}

impl Product {
    /// Every product.
    pub const ALL: [Product; 3] = [Product::Imm, Product::Ram, Product::Sts];

    /// Its API version.
    pub fn version(self) -> &'static str {
        match self {
            Product::Imm => VERSION,
            Product::Ram => "2015-05-01",
            Product::Sts => "2015-04-01",
        }
    }

    /// Its RAM code (the action prefix in policies).
    pub fn code(self) -> &'static str {
        match self {
            Product::Imm => "imm",
            Product::Ram => "ram",
            Product::Sts => "sts",
        }
    }

    /// The product of an API version.
    pub fn from_version(v: &str) -> Option<Product> {
        Self::ALL.into_iter().find(|p| p.version() == v)
    }

    fn has(self, name: &str) -> bool {
        match self {
            Product::Imm => Action::from_name(name).is_some(),
            Product::Ram => RAM_ACTIONS.contains(&name),
            Product::Sts => STS_ACTIONS.contains(&name),
        }
    }
}

/// The RAM actions cloudtwin implements.
pub const RAM_ACTIONS: &[&str] = &[
    "CreateUser",
    "GetUser",
    "UpdateUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "CreatePolicy",
    "GetPolicy",
    "ListPolicies",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "SetDefaultPolicyVersion",
    "DeletePolicyVersion",
    "DeletePolicy",
    "AttachPolicyToUser",
    "DetachPolicyFromUser",
    "AttachPolicyToRole",
    "DetachPolicyFromRole",
    "ListPoliciesForUser",
    "ListPoliciesForRole",
    "CreateRole",
    "GetRole",
    "UpdateRole",
    "ListRoles",
    "DeleteRole",
    "DecodeDiagnosticMessage",
];

/// The STS actions cloudtwin implements.
pub const STS_ACTIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// A routed action: an IMM action, or an access API's action by product and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// IMM.
    Imm(Action),
    /// RAM or STS.
    Access(Product, &'static str),
}

impl Op {
    /// The action `name` of `product`.
    pub fn lookup(product: Product, name: &str) -> Option<Op> {
        match product {
            Product::Imm => Action::from_name(name).map(Op::Imm),
            Product::Ram => RAM_ACTIONS
                .iter()
                .find(|a| **a == name)
                .map(|a| Op::Access(product, a)),
            Product::Sts => STS_ACTIONS
                .iter()
                .find(|a| **a == name)
                .map(|a| Op::Access(product, a)),
        }
    }

    /// Whether any product has an action called `name`.
    pub fn exists(name: &str) -> bool {
        Product::ALL.into_iter().any(|p| p.has(name))
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Imm(a) => a.name(),
            Op::Access(_, n) => n,
        }
    }

    /// The product.
    pub fn product(self) -> Product {
        match self {
            Op::Imm(_) => Product::Imm,
            Op::Access(p, _) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_name() {
        assert_eq!(Action::ALL.len(), 27);
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
        }
    }

    #[test]
    fn ops_are_found_only_in_their_product() {
        assert_eq!(
            Op::lookup(Product::Ram, "CreateUser"),
            Some(Op::Access(Product::Ram, "CreateUser"))
        );
        assert_eq!(Op::lookup(Product::Imm, "CreateUser"), None);
        assert_eq!(Op::lookup(Product::Sts, "ListProjects"), None);
        assert!(Op::exists("GetCallerIdentity"));
        assert_eq!(Product::from_version("2015-04-01"), Some(Product::Sts));
    }
}
