//! CVM action names -> [`Action`], with each action's documented rate limit (cvm.md §4).

/// The API version this dialect serves.
pub const VERSION: &str = "2017-03-12";
/// The service name in the TC3 credential scope.
pub const SERVICE: &str = "cvm";

/// The CVM actions cloudtwin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `CreateImage`.
    CreateImage,
    /// `DeleteImages`.
    DeleteImages,
    /// `DescribeImages`.
    DescribeImages,
    /// `ModifyImageAttribute`.
    ModifyImageAttribute,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::CreateImage,
        Action::DeleteImages,
        Action::DescribeImages,
        Action::ModifyImageAttribute,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateImage => "CreateImage",
            Action::DeleteImages => "DeleteImages",
            Action::DescribeImages => "DescribeImages",
            Action::ModifyImageAttribute => "ModifyImageAttribute",
        }
    }

    /// Looks an action up by its wire name (case-sensitive, as the gateway is).
    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Requests per second per account that the cloud documents for the action.
    pub fn documented_limit(self) -> u32 {
        match self {
            Action::DescribeImages => 40,
            Action::CreateImage | Action::DeleteImages | Action::ModifyImageAttribute => 10,
        }
    }
}
