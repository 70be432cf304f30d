//! CVM action names -> [`Action`], with each action's documented rate limit (cvm.md §4).

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
}
