//! The candidates of the family's password trials (SSH, HTTP basic
//! authentication): the run's dictionary grouped by account, at most
//! `ctx.password_budget` passwords each, so no account is locked out.

/// The candidates by account, in dictionary order, at most `budget`
/// passwords each.
pub fn by_account(credentials: &[(String, String)], budget: usize) -> Vec<(&str, Vec<&str>)> {
    let mut accounts: Vec<(&str, Vec<&str>)> = Vec::new();
    for (user, password) in credentials {
        let at = match accounts.iter().position(|(u, _)| u == user) {
            Some(at) => at,
            None => {
                accounts.push((user, Vec::new()));
                accounts.len() - 1
            }
        };
        if let Some((_, passwords)) = accounts.get_mut(at)
            && passwords.len() < budget
        {
            passwords.push(password);
        }
    }
    accounts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_grouped_and_bounded_per_account() {
        let pairs: Vec<(String, String)> = [
            ("admin", "admin"),
            ("root", "root"),
            ("admin", "1234"),
            ("admin", "password"),
            ("root", "toor"),
        ]
        .iter()
        .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
        .collect();
        assert_eq!(
            by_account(&pairs, 2),
            vec![
                ("admin", vec!["admin", "1234"]),
                ("root", vec!["root", "toor"])
            ]
        );
        assert!(by_account(&pairs, 0).iter().all(|(_, p)| p.is_empty()));
    }
}
