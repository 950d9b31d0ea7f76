//! Roles and scopes (DOMAIN §13, API.md). A route names one scope; a user's role or an API key's
//! list of scopes decides whether the caller has it.

use serde::{Deserialize, Serialize};

/// Every scope a route can require. `admin` implies all others.
pub const SCOPES: &[&str] = &[
    "customers:read",
    "customers:write",
    "receipts:write",
    "vouchers:redeem",
    "vouchers:write",
    "runs:write",
    "segments:read",
    "segments:write",
    "campaigns:write",
    "events:read",
    "metrics:read",
    "tasks:read",
    "tasks:write",
    "admin",
];

pub fn is_known_scope(scope: &str) -> bool {
    SCOPES.contains(&scope)
}

/// Staff roles. Systems use API keys with scopes instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Marketing,
    Service,
    Store,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "marketing" => Some(Role::Marketing),
            "service" => Some(Role::Service),
            "store" => Some(Role::Store),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Marketing => "marketing",
            Role::Service => "service",
            Role::Store => "store",
        }
    }

    /// What staff in this role may do. A store clerk looks customers up and redeems vouchers;
    /// marketing data (segments, campaigns) stays out of the store's reach.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Role::Admin => SCOPES,
            Role::Marketing => &[
                "customers:read",
                "segments:read",
                "segments:write",
                "campaigns:write",
                "runs:write",
                "vouchers:write",
                "tasks:read",
            ],
            Role::Service => &[
                "customers:read",
                "customers:write",
                "vouchers:write",
                "vouchers:redeem",
                "tasks:read",
                "tasks:write",
            ],
            Role::Store => &["customers:read", "vouchers:redeem", "receipts:write"],
        }
    }
}

/// Does a holder of `granted` scopes satisfy `required`?
pub fn allows<S: AsRef<str>>(granted: &[S], required: &str) -> bool {
    granted
        .iter()
        .any(|g| g.as_ref() == required || g.as_ref() == "admin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_scope_implies_every_scope() {
        assert!(allows(&["admin"], "customers:write"));
        assert!(allows(&["customers:read"], "customers:read"));
        assert!(!allows(&["customers:read"], "customers:write"));
        assert!(!allows::<&str>(&[], "customers:read"));
    }

    #[test]
    fn store_role_cannot_touch_marketing() {
        assert!(!allows(Role::Store.scopes(), "segments:read"));
        assert!(!allows(Role::Store.scopes(), "customers:write"));
        assert!(allows(Role::Store.scopes(), "vouchers:redeem"));
        assert!(allows(Role::Admin.scopes(), "segments:write"));
    }

    #[test]
    fn task_queues_belong_to_service_not_to_the_store() {
        assert!(allows(Role::Service.scopes(), "tasks:write"));
        assert!(allows(Role::Admin.scopes(), "tasks:write"));
        assert!(allows(Role::Marketing.scopes(), "tasks:read"));
        assert!(!allows(Role::Marketing.scopes(), "tasks:write"));
        assert!(!allows(Role::Store.scopes(), "tasks:read"));
    }

    #[test]
    fn every_role_scope_is_known() {
        for role in [Role::Admin, Role::Marketing, Role::Service, Role::Store] {
            for s in role.scopes() {
                assert!(is_known_scope(s), "{s}");
            }
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
