//! Users (managers) and their groups as other entities refer to them: the refusals a write meets when
//! it names a user or a group that is not there.

use crate::DomainError;
use crate::telephony::USER_STATUSES;

/// A user id given under `field` that names no user.
pub fn unknown_at(field: impl Into<String>, id: i64) -> DomainError {
    DomainError::invalid(field, format!("User with id {id} not found."))
}

/// A user's status must be one of [`USER_STATUSES`].
pub fn check_status(status: &str) -> Result<(), DomainError> {
    if USER_STATUSES.contains(&status) {
        return Ok(());
    }
    Err(DomainError::invalid(
        "status",
        format!("The value you selected is not a valid choice. Allowed: {}.", USER_STATUSES.join(", ")),
    ))
}

fn group_missing(code: &str) -> String {
    format!("User group '{code}' does not exist.")
}

/// A group a new user is put in that does not exist.
pub fn unknown_group(code: &str) -> DomainError {
    DomainError::invalid("groups", group_missing(code))
}

/// Where the `i`th user a notification is sent to is refused.
pub fn recipient_at(i: usize) -> String {
    format!("notification.userIds[{i}]")
}

/// The `i`th user group a notification is sent to, which does not exist.
pub fn unknown_recipient_group(i: usize, code: &str) -> DomainError {
    DomainError::invalid(format!("notification.userGroups[{i}]"), group_missing(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::error::testing::{invalid as fields, one};

    #[test]
    fn unknown_users_and_groups_are_named_by_their_field() {
        assert_eq!(fields(unknown_at("task.performerId", 7)), one("task.performerId", "User with id 7 not found."));
        assert_eq!(fields(unknown_group("sales")), one("groups", "User group 'sales' does not exist."));
        assert_eq!(fields(unknown_at(recipient_at(2), 9)), one("notification.userIds[2]", "User with id 9 not found."));
        assert_eq!(
            fields(unknown_recipient_group(1, "x")),
            one("notification.userGroups[1]", "User group 'x' does not exist.")
        );
    }

    #[test]
    fn a_status_must_be_a_known_one() {
        assert_eq!(check_status("busy"), Ok(()));
        assert_eq!(
            fields(check_status("away").unwrap_err()),
            one("status", "The value you selected is not a valid choice. Allowed: free, busy, dinner, break.")
        );
    }
}
