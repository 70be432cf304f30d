//! The access-policy stage of Tencent requests: the CAM action (`cvm:<Action>`,
//! `cam:<Action>`, `sts:<Action>`), its resources from the tables of `access::resources`, the
//! condition keys (`qcs:ip`, `qcs:current_time`, `qcs:secure_transport`, `cvm:region`), and the
//! denial as CVM answers it: HTTP 200, `UnauthorizedOperation`,
//! `[request id:<id>]you are not authorized to perform operation (cvm:<Action>)\nresource
//! (<resource>) has no permission\n` (access.md §3.5).

use crate::access::authorize::{Check, Denial};
use crate::access::resources;
use crate::access::{Cloud, Verified};
use crate::dialect::pipeline::Request;

use super::error::{Code, TcError};
use super::router::{Op, Product};
use super::{decode_params, Route, Tencent};

fn table(product: Product) -> &'static [resources::Row] {
    match product {
        Product::Cvm => resources::CVM,
        Product::Cam => resources::CAM,
        Product::Sts => resources::TENCENT_STS,
    }
}

/// Checks `who`'s policies for the request.
pub fn authorize(
    d: &Tencent,
    req: &Request<'_>,
    route: &Route,
    who: &Verified,
    region: &str,
    request_id: &str,
) -> Result<(), TcError> {
    let op: Op = route.op;
    // Decoded only when the action's resources name a parameter (DescribeImages' do not), and
    // then kept for the action; a body that does not decode leaves the ids empty here, and the
    // action answers it.
    let lookup = |name: &str| {
        decode_params(req, route)
            .map(|p| p.values(name))
            .unwrap_or_default()
    };
    let check = Check {
        cloud: Cloud::Tencent,
        service: op.product().service(),
        action: op.name(),
        table: table(op.product()),
        region,
        params: &lookup,
        peer: req.peer,
        secure: req.secure,
    };
    d.access
        .authorize(who, &check)
        .map_err(|denial| denied(request_id, &denial))
}

/// The denial, in the CAM wording the cloud answers in every language (the Chinese message is
/// the English one).
fn denied(request_id: &str, d: &Denial) -> TcError {
    let message = format!(
        "[request id:{request_id}]you are not authorized to perform operation ({})\nresource ({}) has no permission\n",
        d.action, d.resource
    );
    TcError::new(Code::UnauthorizedOperation, message.clone()).zh(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_of_every_product_has_a_row_in_its_resource_table() {
        for p in Product::ALL {
            for a in p.actions() {
                assert!(
                    resources::find(table(p), a).is_some(),
                    "{}:{a} has no row",
                    p.service()
                );
            }
        }
    }

    #[test]
    fn the_denial_names_the_request_id_action_and_resource_in_cvms_template() {
        let d = Denial {
            action: "cvm:ModifyImageAttribute".into(),
            resource: "qcs::cvm:ap-guangzhou:uin/1:image/img-1".into(),
            explicit: false,
            policy_type: "NoPolicy",
            statement: None,
            missing_keys: Vec::new(),
            principal_type: "SubUser",
            principal_name: "u".into(),
            account: "1".into(),
            principal_arn: "qcs::cam::uin/1:uin/2".into(),
        };
        let e = denied("rid-1", &d);
        assert_eq!(e.code_str(), "UnauthorizedOperation");
        assert_eq!(
            e.message,
            "[request id:rid-1]you are not authorized to perform operation (cvm:ModifyImageAttribute)\nresource (qcs::cvm:ap-guangzhou:uin/1:image/img-1) has no permission\n"
        );
    }
}
