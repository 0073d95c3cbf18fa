//! Users and their roles.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Customer,
    Support,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Support => "support",
            Role::Admin => "admin",
        }
    }

    /// May open the admin area (view, retry, refresh, notes).
    pub fn is_staff(self) -> bool {
        self >= Role::Support
    }

    /// May move money or service and edit the catalogue.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "customer" => Ok(Role::Customer),
            "support" => Ok(Role::Support),
            "admin" => Ok(Role::Admin),
            _ => Err("must be customer, support or admin".into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: uuid::Uuid,
    pub email: String,
    pub role: Role,
}

/// The password rule: long enough to resist guessing, short enough for argon2 to stay cheap.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 10 {
        return Err("Use at least 10 characters.");
    }
    if n > 200 {
        return Err("Use at most 200 characters.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order_by_power() {
        assert!(Role::Admin.is_staff() && Role::Admin.is_admin());
        assert!(Role::Support.is_staff() && !Role::Support.is_admin());
        assert!(!Role::Customer.is_staff());
        assert_eq!("support".parse::<Role>(), Ok(Role::Support));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pass").is_ok());
        assert!(check_password(&"x".repeat(201)).is_err());
    }
}
