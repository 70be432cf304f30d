//! The regions IMM is offered in (imm.md §1.1).

/// Every IMM region id.
pub const REGIONS: &[&str] = &[
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-qingdao",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-wulanchabu",
    "cn-hongkong",
    "cn-north-2-gov-1",
    "cn-beijing-gov-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-5",
    "ap-south-1",
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "us-west-1",
];

/// Whether `region` is an IMM region.
pub fn is_known(region: &str) -> bool {
    REGIONS.contains(&region)
}
