//! Keeping a leader honest. The lease manager reports leadership until it learns otherwise, and
//! a leader cut off from the API server never learns: it would go on reconciling while a standby
//! takes the expired Lease. So the leader checks its own renewals, as client-go's renew deadline
//! does, and steps down when it cannot show one recent enough.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;

// The timeline after a renewal, for a lease duration d: the lease manager renews again at about
// d/2; without a renewal the leader steps down at 3d/4; a standby may take the Lease only at d.

/// How many seconds before expiry the lease manager renews (its "grace"): half the duration,
/// rounded up, so that renewals come at about d/2.
pub fn grace_seconds(lease_duration_seconds: u64) -> u64 {
    lease_duration_seconds.div_ceil(2)
}

/// How long after its last renewal a leader may keep working: three quarters of the lease
/// duration, after the next renewal is due and before a standby may take the Lease.
pub fn renew_deadline(lease_duration: Duration) -> Duration {
    lease_duration * 3 / 4
}

/// Until when `identity` may act as leader according to `lease`; the error says who holds it
/// instead.
pub fn leading_until(
    lease: &Lease,
    identity: &str,
    renew_deadline: Duration,
) -> Result<Timestamp, String> {
    let spec = lease.spec.as_ref();
    let holder = spec
        .and_then(|s| s.holder_identity.as_deref())
        .unwrap_or("");
    if holder != identity {
        return Err(if holder.is_empty() {
            "the Lease has no holder".to_string()
        } else {
            format!("the Lease is held by {holder}")
        });
    }
    let renewed = spec
        .and_then(|s| s.renew_time.as_ref().or(s.acquire_time.as_ref()))
        .map(|t| t.0)
        .ok_or_else(|| "the Lease has no renew time".to_string())?;
    renewed
        .checked_add(renew_deadline)
        .map_err(|e| format!("the Lease's renew time is out of range: {e}"))
}

/// Resolves, with the reason, once this replica can no longer show that it leads: the Lease names
/// another holder, or no renewal has been seen within the renew deadline (the API server is
/// unreachable, say). Called right after the Lease was acquired.
pub async fn lapsed(
    leases: Api<Lease>,
    name: String,
    identity: String,
    lease_duration: Duration,
) -> String {
    let deadline = renew_deadline(lease_duration);
    // Often enough that the deadline is noticed well before expiry (at most d/16 late).
    let poll = (lease_duration / 16).max(Duration::from_millis(250));
    let mut until = Timestamp::now()
        .checked_add(deadline)
        .unwrap_or(Timestamp::MAX);
    loop {
        // A slow answer still counts, but a request to an unreachable server must not outlast
        // the deadline it is meant to keep.
        let left = Duration::try_from(until.duration_since(Timestamp::now())).unwrap_or_default();
        match tokio::time::timeout(left.max(poll), leases.get_opt(&name)).await {
            Ok(Ok(Some(lease))) => match leading_until(&lease, &identity, deadline) {
                Ok(renewed_until) => until = until.max(renewed_until),
                Err(reason) => return reason,
            },
            Ok(Ok(None)) => return "the Lease was deleted".to_string(),
            Ok(Err(error)) => tracing::warn!(%error, "could not read the leader Lease"),
            Err(_) => tracing::warn!("reading the leader Lease timed out"),
        }
        if Timestamp::now() > until {
            return format!("no renewal of the Lease seen within {deadline:?}");
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn lease(holder: Option<&str>, renewed: Option<&str>) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_string),
                renew_time: renewed.map(|t| MicroTime(t.parse().unwrap())),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    #[test]
    fn the_deadline_falls_between_the_next_renewal_and_expiry() {
        for seconds in 3..=60 {
            let duration = Duration::from_secs(seconds);
            let next_renewal = Duration::from_secs(seconds - grace_seconds(seconds));
            let deadline = renew_deadline(duration);
            assert!(
                next_renewal < deadline,
                "{seconds}s: renewal {next_renewal:?}"
            );
            assert!(deadline < duration, "{seconds}s: deadline {deadline:?}");
        }
    }

    #[test]
    fn a_leader_leads_until_its_last_renewal_plus_the_deadline() {
        let until = leading_until(
            &lease(Some("a"), Some("2026-11-22T10:00:00Z")),
            "a",
            renew_deadline(Duration::from_secs(16)),
        );
        assert_eq!(until, Ok("2026-11-22T10:00:12Z".parse().unwrap()));
    }

    #[test]
    fn another_holder_or_none_ends_leadership() {
        let deadline = Duration::from_secs(10);
        let taken = leading_until(
            &lease(Some("b"), Some("2026-11-22T10:00:00Z")),
            "a",
            deadline,
        );
        assert_eq!(taken, Err("the Lease is held by b".to_string()));
        let released = leading_until(&lease(None, None), "a", deadline);
        assert_eq!(released, Err("the Lease has no holder".to_string()));
        let odd = leading_until(&lease(Some("a"), None), "a", deadline);
        assert!(odd.is_err());
    }
}
