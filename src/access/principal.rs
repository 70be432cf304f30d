//! Who signed a request: an account's root key, a sub-user's access key, or a role session's
//! temporary key ([`Verified`]); and how a key id (with its token) is resolved to the secret
//! that checks the signature ([`Access::credential`]). The signature door of each dialect
//! calls it; nothing below the door sees an unverified request.

use std::sync::Arc;

use crate::accounts::{Account, Accounts};
use crate::clock::now_ms;

use super::model::{Cloud, KeyStatus};
use super::policy::Policy;
use super::service::{Access, KeyGrant};
use super::tokens::{self, Claims};

/// A role session's credentials, opened from its token.
#[derive(Debug)]
pub struct Session {
    /// What the token says.
    pub claims: Claims,
    /// The session policy, parsed.
    pub policy: Option<Arc<Policy>>,
}

/// The kind of principal that signed.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The account's own key: allowed everything in its account.
    Root,
    /// A sub-user's access key.
    User(Arc<KeyGrant>),
    /// A role session.
    Session(Arc<Session>),
}

/// A verified request's signer.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The account acted in.
    pub account: Arc<Account>,
    /// The key id that signed.
    pub key_id: String,
    /// Who that key belongs to.
    pub principal: Principal,
}

impl Verified {
    /// An account's root key.
    pub fn root(account: Arc<Account>, key_id: &str) -> Verified {
        Verified {
            account,
            key_id: key_id.to_string(),
            principal: Principal::Root,
        }
    }

    /// Whether the account's own key signed (policies are not evaluated).
    pub fn is_root(&self) -> bool {
        matches!(self.principal, Principal::Root)
    }

    /// The principal's ARN in `cloud`'s form (`acs:ram::1:user/alice`,
    /// `qcs::cam::uin/1:uin/2`, ...).
    pub fn arn(&self, cloud: Cloud) -> String {
        let a = &self.account.id;
        match (cloud, &self.principal) {
            (Cloud::Aliyun, Principal::Root) => format!("acs:ram::{a}:root"),
            (Cloud::Aliyun, Principal::User(g)) => format!("acs:ram::{a}:user/{}", g.user.name),
            (Cloud::Aliyun, Principal::Session(s)) => {
                format!(
                    "acs:ram::{a}:assumed-role/{}/{}",
                    s.claims.role, s.claims.session
                )
            }
            (Cloud::Tencent, Principal::Root) => format!("qcs::cam::uin/{a}:uin/{a}"),
            (Cloud::Tencent, Principal::User(g)) => format!("qcs::cam::uin/{a}:uin/{}", g.user.id),
            (Cloud::Tencent, Principal::Session(s)) => format!(
                "qcs::sts:uin/{a}:assumed-role/{}/{}",
                s.claims.role_id, s.claims.session
            ),
        }
    }

    /// Every name a trust policy may admit this principal by.
    pub fn trust_names(&self, cloud: Cloud) -> Vec<String> {
        let a = &self.account.id;
        match (cloud, &self.principal) {
            (Cloud::Aliyun, Principal::Root) => vec![format!("acs:ram::{a}:root")],
            (Cloud::Tencent, Principal::Root) => vec![format!("qcs::cam::uin/{a}:root")],
            (Cloud::Aliyun, Principal::User(g)) => {
                vec![format!("acs:ram::{a}:user/{}", g.user.name)]
            }
            (Cloud::Tencent, Principal::User(g)) => {
                vec![format!("qcs::cam::uin/{a}:uin/{}", g.user.id)]
            }
            (Cloud::Aliyun, Principal::Session(s)) => vec![
                format!("acs:ram::{a}:role/{}", s.claims.role),
                self.arn(cloud),
            ],
            (Cloud::Tencent, Principal::Session(s)) => vec![
                format!("qcs::cam::uin/{a}:roleName/{}", s.claims.role),
                self.arn(cloud),
            ],
        }
    }

    /// A name for messages and logs: the user name, `role/session`, or the account id.
    pub fn display_name(&self) -> String {
        match &self.principal {
            Principal::Root => self.account.id.clone(),
            Principal::User(g) => g.user.name.clone(),
            Principal::Session(s) => format!("{}:{}", s.claims.role, s.claims.session),
        }
    }
}

/// Why a key id and token were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    /// No such key.
    UnknownKey,
    /// The key is `Inactive`.
    Inactive,
    /// A temporary key came without its token.
    MissingToken,
    /// The token is not one this store issued, or was changed.
    BadToken,
    /// The token's time is over.
    Expired,
    /// The token belongs to another key.
    Mismatch,
}

/// The secret that checks a signature, and who it belongs to.
#[derive(Debug)]
pub struct Credential {
    /// The signing secret.
    pub secret: String,
    /// The signer, once the signature checks out.
    pub verified: Verified,
}

fn root_secret(cloud: Cloud, a: &Account) -> String {
    match cloud {
        Cloud::Aliyun => a
            .aliyun
            .as_ref()
            .map(|k| k.access_key_secret.clone())
            .unwrap_or_default(),
        Cloud::Tencent => a
            .tencent
            .as_ref()
            .map(|k| k.secret_key.clone())
            .unwrap_or_default(),
    }
}

impl Access {
    /// Resolves `key_id` (and its session `token`, if any) of `cloud`: a root key of the
    /// configuration, a sub-user's key, or a temporary key whose token checks out.
    pub fn credential(
        &self,
        cloud: Cloud,
        accounts: &Accounts,
        key_id: &str,
        token: Option<&str>,
    ) -> Result<Credential, CredentialError> {
        let token = token.filter(|t| !t.is_empty());
        let root = match cloud {
            Cloud::Aliyun => accounts.by_aliyun_key_id(key_id),
            Cloud::Tencent => accounts.by_tencent_secret_id(key_id),
        };
        if let Some(account) = root {
            if token.is_some() {
                return Err(CredentialError::Mismatch);
            }
            return Ok(Credential {
                secret: root_secret(cloud, &account),
                verified: Verified::root(account, key_id),
            });
        }
        if let Some(t) = token {
            return self.session_credential(cloud, accounts, key_id, t);
        }
        if cloud == Cloud::Aliyun && key_id.starts_with("STS.") {
            return Err(CredentialError::MissingToken);
        }
        let grant = match self.key_grant(key_id) {
            Ok(Some(g)) if g.key.cloud == cloud => g,
            Ok(_) => return Err(CredentialError::UnknownKey),
            Err(e) => {
                tracing::warn!(error = %e, "access key lookup failed");
                return Err(CredentialError::UnknownKey);
            }
        };
        if grant.key.status == KeyStatus::Inactive {
            return Err(CredentialError::Inactive);
        }
        let account = accounts
            .by_id(&grant.key.account)
            .ok_or(CredentialError::UnknownKey)?;
        Ok(Credential {
            secret: grant.key.secret.clone(),
            verified: Verified {
                account,
                key_id: key_id.to_string(),
                principal: Principal::User(grant),
            },
        })
    }

    fn session_credential(
        &self,
        cloud: Cloud,
        accounts: &Accounts,
        key_id: &str,
        token: &str,
    ) -> Result<Credential, CredentialError> {
        let secret = self.token_secret_now();
        let claims = tokens::open(secret, cloud, token).map_err(|_| CredentialError::BadToken)?;
        if claims.key_id != key_id {
            return Err(CredentialError::Mismatch);
        }
        if now_ms() >= claims.expires_ms {
            return Err(CredentialError::Expired);
        }
        let account = accounts
            .by_id(&claims.account)
            .ok_or(CredentialError::BadToken)?;
        let policy = match &claims.policy {
            Some(text) => Some(
                self.session_policy(cloud, text)
                    .ok_or(CredentialError::BadToken)?,
            ),
            None => None,
        };
        Ok(Credential {
            secret: tokens::secret_for(secret, key_id),
            verified: Verified {
                account,
                key_id: key_id.to_string(),
                principal: Principal::Session(Arc::new(Session { claims, policy })),
            },
        })
    }
}

/// An AssumeRole request, validated by the dialect.
#[derive(Debug, Clone)]
pub struct AssumeRole<'a> {
    /// The role's name (from its ARN) or, with `by_id`, its id.
    pub role: &'a str,
    /// Whether `role` is a role id (Tencent `qcs::cam::uin/1:role/<id>`).
    pub by_id: bool,
    /// The owning account named by the ARN.
    pub account: &'a str,
    /// Session name.
    pub session: &'a str,
    /// Requested duration, seconds (already range-checked against the cloud's bounds).
    pub duration_secs: u64,
    /// Session policy text, if any (already URL-decoded).
    pub policy: Option<&'a str>,
    /// Condition keys of the request, for the trust policy.
    pub context: &'a super::eval::Context,
}

/// Why AssumeRole was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssumeError {
    /// No such role in the account.
    NoRole,
    /// The role's trust policy does not admit the caller.
    NotTrusted,
    /// The duration is over the role's longest session.
    TooLong {
        /// The role's longest session, seconds.
        max: u64,
    },
    /// The session policy does not parse.
    BadPolicy(String),
    /// The role's stored trust policy does not parse.
    BadTrust(String),
    /// The store failed.
    Store(String),
}

/// Temporary credentials issued by AssumeRole.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The temporary key id.
    pub key_id: String,
    /// Its secret.
    pub secret: String,
    /// The session token.
    pub token: String,
    /// Expiry (epoch ms).
    pub expires_ms: u64,
    /// The role.
    pub role: super::model::Role,
    /// The session name.
    pub session: String,
}

impl Access {
    /// Issues temporary credentials for `who` in role `req.role`: the trust policy must admit
    /// `who` (the identity policy's `sts:AssumeRole` was checked by the policy stage), the
    /// duration must fit the role, a session policy must parse.
    pub async fn assume_role(
        &self,
        cloud: Cloud,
        who: &Verified,
        req: &AssumeRole<'_>,
    ) -> Result<Issued, AssumeError> {
        let role = if req.by_id {
            self.role_by_id(cloud, req.account, req.role)
        } else {
            self.get_role(cloud, req.account, req.role)
        };
        let role = match role {
            Ok(r) => r,
            Err(super::AccessError::NotFound(..)) => return Err(AssumeError::NoRole),
            Err(e) => return Err(AssumeError::Store(e.to_string())),
        };
        let trust = super::policy::parse_trust(super::service::grammar(cloud), &role.trust)
            .map_err(|e| AssumeError::BadTrust(e.message))?;
        let names = who.trust_names(cloud);
        if !super::eval::trust_allows(
            super::service::grammar(cloud),
            &trust,
            &names,
            "sts:AssumeRole",
            req.context,
        ) {
            return Err(AssumeError::NotTrusted);
        }
        if req.duration_secs > role.max_session_secs && role.max_session_secs > 0 {
            return Err(AssumeError::TooLong {
                max: role.max_session_secs,
            });
        }
        if let Some(p) = req.policy {
            super::policy::parse(super::service::grammar(cloud), p)
                .map_err(|e| AssumeError::BadPolicy(e.message))?;
        }
        let secret = self
            .token_secret()
            .await
            .map_err(|e| AssumeError::Store(e.to_string()))?;
        let key_id = tokens::new_key_id(cloud);
        let now = now_ms();
        let expires_ms = now.saturating_add(req.duration_secs.saturating_mul(1000));
        let claims = Claims {
            v: 1,
            cloud: cloud.tag().to_string(),
            account: role.account.clone(),
            role: role.name.clone(),
            role_id: role.id.clone(),
            session: req.session.to_string(),
            key_id: key_id.clone(),
            issued_ms: now,
            expires_ms,
            policy: req.policy.map(str::to_string),
            caller: who.arn(cloud),
        };
        Ok(Issued {
            token: tokens::issue(secret, cloud, &claims),
            secret: tokens::secret_for(secret, &key_id),
            key_id,
            expires_ms,
            role,
            session: req.session.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::authorize::Mode;
    use crate::access::service::Limits;
    use crate::config::Account;
    use crate::store::{Durability, Store};

    fn setup() -> (tempfile::TempDir, Access, Accounts) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), Durability::Sync).expect("store");
        let access = Access::open(store, Limits::default(), Mode::Enforce).expect("access");
        let accounts = Accounts::new(&[Account {
            id: "100000000001".into(),
            name: "one".into(),
            ..Account::default()
        }]);
        (dir, access, accounts)
    }

    fn claims(key_id: &str, expires_ms: u64) -> Claims {
        Claims {
            v: 1,
            cloud: "ram".into(),
            account: "100000000001".into(),
            role: "reader".into(),
            role_id: "3".into(),
            session: "s".into(),
            key_id: key_id.into(),
            issued_ms: 1,
            expires_ms,
            policy: None,
            caller: "acs:ram::100000000001:root".into(),
        }
    }

    #[tokio::test]
    async fn a_session_grants_nothing_once_its_role_is_remade_under_its_name() {
        use crate::access::authorize::Check;
        use crate::access::service::NewRole;
        use crate::access::{resources, PolicyKind, PolicyRef, Target};

        let (_dir, access, accounts) = setup();
        let (c, a) = (Cloud::Aliyun, "100000000001");
        let trust = r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::100000000001:root"]}}]}"#;
        let reader = PolicyRef {
            kind: PolicyKind::System,
            name: "AliyunIMMReadOnlyAccess".into(),
        };
        let make = || async {
            let r = access
                .create_role(
                    c,
                    a,
                    NewRole {
                        name: "reader".into(),
                        trust: trust.into(),
                        description: String::new(),
                        max_session_secs: None,
                        console_login: false,
                    },
                )
                .await
                .expect("role");
            access
                .attach(c, a, Target::Role("reader"), reader.clone())
                .await
                .expect("attach");
            r
        };
        let secret = access.token_secret().await.expect("secret").to_vec();
        let session = |role_id: &str| {
            let key = tokens::new_key_id(c);
            let mut cl = claims(&key, now_ms() + 60_000);
            cl.role_id = role_id.to_string();
            let token = tokens::issue(&secret, c, &cl);
            access
                .credential(c, &accounts, &key, Some(&token))
                .expect("session")
                .verified
        };
        let params = |_: &str| vec!["p".to_string()];
        let check = Check {
            cloud: c,
            service: "imm",
            action: "GetProject",
            table: resources::IMM,
            region: "cn-hangzhou",
            params: &params,
            peer: None,
            secure: false,
        };
        let first = make().await;
        let old = session(&first.id);
        access.authorize(&old, &check).expect("the role's session");
        access
            .detach(c, a, Target::Role("reader"), reader.clone())
            .await
            .expect("detach");
        access
            .delete_role(c, a, "reader", false)
            .await
            .expect("delete");
        let second = make().await;
        assert_ne!(first.id, second.id);
        assert!(access.authorize(&old, &check).is_err());
        access
            .authorize(&session(&second.id), &check)
            .expect("the new role's session");
    }

    #[test]
    fn an_expired_token_is_refused_and_a_live_one_opens() {
        let (_dir, access, accounts) = setup();
        let secret = access.token_secret_now().to_vec();
        let key = tokens::new_key_id(Cloud::Aliyun);
        let old = tokens::issue(&secret, Cloud::Aliyun, &claims(&key, now_ms() - 1));
        let e = access
            .credential(Cloud::Aliyun, &accounts, &key, Some(&old))
            .map(|_| ())
            .expect_err("expired");
        assert_eq!(e, CredentialError::Expired);
        let live = tokens::issue(&secret, Cloud::Aliyun, &claims(&key, now_ms() + 60_000));
        let c = access
            .credential(Cloud::Aliyun, &accounts, &key, Some(&live))
            .expect("live token");
        assert_eq!(c.secret, tokens::secret_for(&secret, &key));
        assert!(matches!(c.verified.principal, Principal::Session(_)));
        let other = tokens::new_key_id(Cloud::Aliyun);
        let e = access
            .credential(Cloud::Aliyun, &accounts, &other, Some(&live))
            .map(|_| ())
            .expect_err("mismatch");
        assert_eq!(e, CredentialError::Mismatch);
        let e = access
            .credential(Cloud::Aliyun, &accounts, &key, None)
            .map(|_| ())
            .expect_err("no token");
        assert_eq!(e, CredentialError::MissingToken);
    }
}
