//! The access-policy stage of Alibaba requests: the RAM action (`imm:<Action>`,
//! `ram:<Action>`, `sts:<Action>`), its resources from the tables of `access::resources`, the
//! condition keys (`acs:SourceIp`, `acs:CurrentTime`, `acs:SecureTransport`), and the denial
//! as IMM answers it (access.md §1.6): by default HTTP 403, `AccessDenied`,
//! `You are not authorized to operate imm:<Action> on the specified resources <ARN>.`, with an
//! `AccessDeniedDetail` whose `EncodedDiagnosticMessage` RAM's `DecodeDiagnosticMessage`
//! decodes. The code and status are settings (`[access] aliyun_denial_code`, `_status`).

use serde_json::json;

use crate::access::authorize::{Check, Denial};
use crate::access::resources;
use crate::access::{Cloud, Verified};
use crate::dialect::pipeline::Request;

use super::error::{AliError, Code};
use super::router::{Op, Product};
use super::{Aliyun, Route};

fn table(product: Product) -> &'static [resources::Row] {
    match product {
        Product::Imm => resources::IMM,
        Product::Ram => resources::RAM,
        Product::Sts => resources::ALIYUN_STS,
    }
}

/// Checks `who`'s policies for the request.
pub fn authorize(
    d: &Aliyun,
    req: &Request<'_>,
    route: &Route,
    who: &Verified,
    region: &str,
) -> Result<(), AliError> {
    let op: Op = route.op;
    let lookup = |name: &str| {
        super::param(&route.all, name)
            .map(str::to_string)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let check = Check {
        cloud: Cloud::Aliyun,
        service: op.product().code(),
        action: op.name(),
        table: table(op.product()),
        region,
        params: &lookup,
        peer: req.peer,
        secure: req.secure,
    };
    d.access.authorize(who, &check).map_err(|denial| {
        if op == Op::Access(Product::Sts, "AssumeRole") {
            return no_permission();
        }
        denied(&d.denial, &denial)
    })
}

/// STS's own denial (access.md §2.5).
pub fn no_permission() -> AliError {
    AliError::new(
        Code::Access("NoPermission".into(), 403),
        "You are not authorized to do this action. You should be authorized by RAM.",
    )
}

fn denied(code: &(String, u16), d: &Denial) -> AliError {
    let mut e = AliError::new(
        Code::Access(code.0.clone(), code.1),
        format!(
            "You are not authorized to operate {} on the specified resources {}.",
            d.action, d.resource
        ),
    )
    .zh(format!(
        "您没有在指定资源 {} 上执行 {} 的权限。",
        d.resource, d.action
    ));
    e.access_denied_detail = Some(json!({
        "PolicyType": d.policy_type,
        "AuthPrincipalOwnerId": d.account,
        "EncodedDiagnosticMessage": d.encoded_diagnostic(),
        "AuthPrincipalType": d.principal_type,
        "AuthPrincipalDisplayName": d.principal_name,
        "NoPermissionType": if d.explicit { "ExplicitDeny" } else { "ImplicitDeny" },
        "AuthAction": d.action,
    }));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_of_every_product_has_a_row_in_its_resource_table() {
        for p in Product::ALL {
            let names: Vec<&str> = match p {
                Product::Imm => super::super::router::Action::ALL
                    .iter()
                    .map(|a| a.name())
                    .collect(),
                Product::Ram => super::super::router::RAM_ACTIONS.to_vec(),
                Product::Sts => super::super::router::STS_ACTIONS.to_vec(),
            };
            for a in names {
                assert!(
                    resources::find(table(p), a).is_some(),
                    "{}:{a} has no row",
                    p.code()
                );
            }
        }
    }

    #[test]
    fn the_denial_carries_a_diagnostic_that_decodes_to_the_action_and_resource() {
        let d = Denial {
            action: "imm:UpdateFigureCluster".into(),
            resource: "acs:imm:cn-hangzhou:1:project/p/dataset/d".into(),
            explicit: true,
            policy_type: "AccountLevelIdentityBasedPolicy",
            statement: Some("Custom policy deny-d, statement 0".into()),
            missing_keys: Vec::new(),
            principal_type: "SubUser",
            principal_name: "alice".into(),
            account: "1".into(),
            principal_arn: "acs:ram::1:user/alice".into(),
        };
        let e = denied(&("AccessDenied".into(), 403), &d);
        assert_eq!(e.code.status(), 403);
        assert_eq!(
            e.message,
            "You are not authorized to operate imm:UpdateFigureCluster on the specified resources acs:imm:cn-hangzhou:1:project/p/dataset/d."
        );
        let detail = e.access_denied_detail.unwrap_or_default();
        assert_eq!(detail["NoPermissionType"], "ExplicitDeny");
        let decoded = crate::access::authorize::decode_diagnostic(
            detail["EncodedDiagnosticMessage"]
                .as_str()
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(decoded["AuthAction"], "imm:UpdateFigureCluster");
        assert_eq!(decoded["AuthResource"], d.resource);
        assert_eq!(decoded["ExplicitDeny"], true);
        assert_eq!(
            decoded["AuthPrincipal"]["AuthPrincipalDisplayName"],
            "alice"
        );
    }
}
