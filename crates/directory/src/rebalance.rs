//! Spreading users evenly over the servers, moving as few as possible.
//!
//! Only users with a homeserver take part (homeserver 0 means "wherever the
//! list files say" and stays). Each server ends with ⌊n/k⌋ or ⌈n/k⌉ users;
//! the ⌈n/k⌉ places go to the servers that hold the most already (ties: the
//! lower id), so the fewest users move. Users on a server that is not in
//! the servers table always move. From an overfull server the users with
//! the highest ids (the newest) move; receivers fill up in id order. The
//! plan depends only on the set of users and servers, not on their order.

use crate::directory::Directory;
use crate::error::DirectoryError;
use crate::model::{ServerId, UserId};
use std::collections::BTreeMap;

/// One user to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The user.
    pub user_id: UserId,
    /// Its username, for display.
    pub username: String,
    /// Its homeserver now.
    pub from: ServerId,
    /// Its homeserver after the move.
    pub to: ServerId,
}

/// A user as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The user.
    pub user_id: UserId,
    /// Its username, for display.
    pub username: String,
    /// Its homeserver (≠ 0).
    pub homeserver: ServerId,
}

/// The moves that balance `users` over `servers`.
pub fn plan_rebalance(users: &[Placement], servers: &[ServerId]) -> Vec<Move> {
    let mut servers: Vec<ServerId> = servers.iter().copied().filter(|s| s.is_set()).collect();
    servers.sort();
    servers.dedup();
    if servers.is_empty() {
        return Vec::new();
    }
    let mut users: Vec<&Placement> = users.iter().filter(|u| u.homeserver.is_set()).collect();
    users.sort_by_key(|u| u.user_id);

    let mut on: BTreeMap<ServerId, Vec<&Placement>> =
        servers.iter().map(|s| (*s, Vec::new())).collect();
    let mut homeless = Vec::new();
    for user in users.iter().copied() {
        match on.get_mut(&user.homeserver) {
            Some(list) => list.push(user),
            None => homeless.push(user),
        }
    }

    let k = servers.len();
    let (base, extra) = (users.len() / k, users.len() % k);
    let mut by_load = servers.clone();
    by_load.sort_by_key(|s| (std::cmp::Reverse(on[s].len()), *s));
    let target: BTreeMap<ServerId, usize> = by_load
        .iter()
        .enumerate()
        .map(|(rank, s)| (*s, base + usize::from(rank < extra)))
        .collect();

    let mut leaving: Vec<&Placement> = homeless;
    for (server, list) in &on {
        let excess = list.len().saturating_sub(target[server]);
        // Highest ids last in the list: those move.
        leaving.extend(list.iter().rev().take(excess).copied());
    }
    leaving.sort_by_key(|u| u.user_id);

    let mut moves = Vec::with_capacity(leaving.len());
    let mut leaving = leaving.into_iter();
    for (server, list) in &on {
        for _ in list.len()..target[server] {
            if let Some(user) = leaving.next() {
                moves.push(Move {
                    user_id: user.user_id,
                    username: user.username.clone(),
                    from: user.homeserver,
                    to: *server,
                });
            }
        }
    }
    moves
}

impl Directory {
    /// The moves that would balance the users with a homeserver over the
    /// registered servers (see [`plan_rebalance`]).
    pub async fn rebalance_plan(&self) -> Result<Vec<Move>, DirectoryError> {
        let servers: Vec<ServerId> = self.servers().await?.into_iter().map(|s| s.id).collect();
        let users: Vec<Placement> = self
            .users(None)
            .await?
            .into_iter()
            .map(|u| Placement {
                user_id: u.id,
                username: u.username,
                homeserver: u.homeserver,
            })
            .collect();
        Ok(plan_rebalance(&users, &servers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn placements(homes: &[u32]) -> Vec<Placement> {
        homes
            .iter()
            .enumerate()
            .map(|(i, h)| Placement {
                user_id: UserId(i as u64 + 1),
                username: format!("u{}@x.test", i + 1),
                homeserver: ServerId(*h),
            })
            .collect()
    }

    fn apply(users: &[Placement], moves: &[Move]) -> Vec<Placement> {
        users
            .iter()
            .map(|u| match moves.iter().find(|m| m.user_id == u.user_id) {
                Some(m) => Placement {
                    homeserver: m.to,
                    ..u.clone()
                },
                None => u.clone(),
            })
            .collect()
    }

    #[test]
    fn all_users_on_one_of_three_servers_are_spread_two_ways() {
        let users = placements(&[1, 1, 1, 1, 1, 1]);
        let servers = [ServerId(1), ServerId(2), ServerId(3)];
        let moves = plan_rebalance(&users, &servers);
        let summary: Vec<(u64, u32, u32)> = moves
            .iter()
            .map(|m| (m.user_id.0, m.from.0, m.to.0))
            .collect();
        assert_eq!(summary, vec![(3, 1, 2), (4, 1, 2), (5, 1, 3), (6, 1, 3)]);
    }

    #[test]
    fn users_of_a_removed_server_move_and_homeserver_zero_stays() {
        let users = placements(&[0, 9, 1, 2]);
        let moves = plan_rebalance(&users, &[ServerId(1), ServerId(2)]);
        assert_eq!(moves.len(), 1);
        assert_eq!((moves[0].user_id.0, moves[0].from.0), (2, 9));
        assert!(plan_rebalance(&users, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn a_plan_balances_within_one_moves_the_fewest_and_is_stable(
            homes in proptest::collection::vec(0u32..6, 0..60),
            servers in proptest::collection::btree_set(1u32..6, 1..5),
        ) {
            let servers: Vec<ServerId> = servers.into_iter().map(ServerId).collect();
            let users = placements(&homes);
            let moves = plan_rebalance(&users, &servers);
            let after = apply(&users, &moves);

            let counts: Vec<usize> = servers.iter().map(|s| after.iter().filter(|u| u.homeserver == *s).count()).collect();
            let placed = after.iter().filter(|u| u.homeserver.is_set()).count();
            prop_assert_eq!(counts.iter().sum::<usize>(), placed, "a user left the servers");
            let (min, max) = (counts.iter().min().copied().unwrap_or(0), counts.iter().max().copied().unwrap_or(0));
            prop_assert!(max - min <= 1, "counts {:?}", counts);

            // Fewest moves: the homeless, plus what exceeds the best possible targets.
            let n = users.iter().filter(|u| u.homeserver.is_set()).count();
            let (base, extra) = (n / servers.len(), n % servers.len());
            let mut before: Vec<usize> = servers.iter().map(|s| users.iter().filter(|u| u.homeserver == *s).count()).collect();
            before.sort_by(|a, b| b.cmp(a));
            let homeless = n - before.iter().sum::<usize>();
            let excess: usize = before.iter().enumerate().map(|(rank, c)| c.saturating_sub(base + usize::from(rank < extra))).sum();
            prop_assert_eq!(moves.len(), homeless + excess);

            prop_assert!(plan_rebalance(&after, &servers).is_empty(), "a balanced directory needs no moves");
            let mut shuffled = users.clone();
            shuffled.reverse();
            prop_assert_eq!(plan_rebalance(&shuffled, &servers), moves);
        }
    }
}
