//! Keeping a leader honest. The lease manager reports leadership until it learns otherwise, and
//! a leader cut off from the API server never learns: it would go on reconciling while a standby
//! takes the expired Lease. So the leader checks its own renewals, as client-go's renew deadline
//! does, and steps down when it cannot show one recent enough.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use tokio::time::Instant;

// The timeline after a renewal, for a lease duration d: the lease manager renews again at about
// d/3 (and retries a failed renewal after a second or two); without a renewal seen the leader
// steps down at 4d/5; a standby may take the Lease only at d.

/// The shortest lease duration that leaves room for a retried renewal before the deadline, and
/// for noticing the deadline before a standby may take over.
pub const MIN_LEASE_DURATION: Duration = Duration::from_secs(6);

/// How many seconds before expiry the lease manager renews (its "grace"), so that renewals come
/// about a third of the way into the lease.
pub fn grace_seconds(lease_duration_seconds: u64) -> u64 {
    lease_duration_seconds - lease_duration_seconds.div_ceil(3)
}

/// How long after its last renewal a leader may keep working: four fifths of the lease duration.
pub fn renew_deadline(lease_duration: Duration) -> Duration {
    lease_duration * 4 / 5
}

/// How often the leader reads its Lease: often enough to notice the deadline well before expiry.
fn poll_interval(lease_duration: Duration) -> Duration {
    (lease_duration / 16).max(Duration::from_millis(250))
}

/// The renew time of `lease` if `identity` holds it; the error says who holds it instead.
pub fn renewal(lease: &Lease, identity: &str) -> Result<Timestamp, String> {
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
    spec.and_then(|s| s.renew_time.as_ref().or(s.acquire_time.as_ref()))
        .map(|t| t.0)
        .ok_or_else(|| "the Lease has no renew time".to_string())
}

/// Until when the leader may act, on the monotonic clock, counted from the earliest moment a
/// renewal may have been stamped: the lease manager writes renewTime just before it sends the
/// renewal, and a standby may take over at renewTime + the lease duration.
#[derive(Debug)]
struct Deadline {
    deadline: Duration,
    previous_read: Instant,
    until: Instant,
    last_renewal: Option<Timestamp>,
}

/// A renewal a read showed: its renewTime, and when that was on the monotonic clock.
#[derive(Debug)]
struct Seen {
    renewal: Timestamp,
    stamped: Instant,
}

impl Deadline {
    /// Right after the Lease was acquired at `acquired`.
    fn new(acquired: Instant, deadline: Duration) -> Deadline {
        Deadline {
            deadline,
            previous_read: acquired,
            until: acquired + deadline,
            last_renewal: None,
        }
    }

    /// A read of the Lease that started at `read` and showed `seen` (None: it failed, and tells
    /// nothing about when a renewal happened). A new renewal counts from the earlier of its own
    /// stamp and the last read that still showed the previous one: a step of the wall clock
    /// can only make the deadline come sooner.
    fn observe(&mut self, read: Instant, seen: Option<Seen>) {
        let Some(seen) = seen else { return };
        if self.last_renewal != Some(seen.renewal) {
            self.last_renewal = Some(seen.renewal);
            self.until = self.previous_read.min(seen.stamped) + self.deadline;
        }
        self.previous_read = read;
    }
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
    let poll = poll_interval(lease_duration);
    let mut deadline = Deadline::new(Instant::now(), renew_deadline(lease_duration));
    loop {
        let read = Instant::now();
        // A slow answer still counts, but a request to an unreachable server must not outlast
        // the deadline it is meant to keep.
        let left = deadline.until.saturating_duration_since(read);
        let seen = match tokio::time::timeout(left.max(poll), leases.get_opt(&name)).await {
            Ok(Ok(Some(lease))) => match renewal(&lease, &identity) {
                Ok(renewal) => {
                    // How long ago renewTime was, by the wall clock that stamped it.
                    let age = Timestamp::now().duration_since(renewal);
                    let age = Duration::try_from(age).unwrap_or_default();
                    let answered = Instant::now();
                    Some(Seen {
                        renewal,
                        stamped: answered.checked_sub(age).unwrap_or(answered),
                    })
                }
                Err(reason) => return reason,
            },
            Ok(Ok(None)) => return "the Lease was deleted".to_string(),
            Ok(Err(error)) => {
                tracing::warn!(%error, "could not read the leader Lease");
                None
            }
            Err(_) => {
                tracing::warn!("reading the leader Lease timed out");
                None
            }
        };
        deadline.observe(read, seen);
        if Instant::now() > deadline.until {
            return format!(
                "no renewal of the Lease seen within {:?}",
                deadline.deadline
            );
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
    fn a_retried_renewal_fits_before_the_deadline_and_the_deadline_before_expiry() {
        // kube-lease-manager retries a failed renewal after 1 to 2 seconds.
        let retry = Duration::from_secs(2);
        for seconds in MIN_LEASE_DURATION.as_secs()..=120 {
            let duration = Duration::from_secs(seconds);
            let renewal = Duration::from_secs(seconds - grace_seconds(seconds));
            let deadline = renew_deadline(duration);
            // Noticed at most one poll, plus one read timed out at the deadline, after it.
            let noticed = deadline + poll_interval(duration) * 2;
            assert!(
                renewal + retry < deadline,
                "{seconds}s: renewal {renewal:?}"
            );
            assert!(noticed < duration, "{seconds}s: noticed at {noticed:?}");
        }
    }

    #[test]
    fn the_renewal_of_the_holder_is_read_and_anyone_else_ends_leadership() {
        let renewed = renewal(&lease(Some("a"), Some("2026-11-22T10:00:00Z")), "a");
        assert_eq!(renewed, Ok("2026-11-22T10:00:00Z".parse().unwrap()));
        let taken = renewal(&lease(Some("b"), Some("2026-11-22T10:00:00Z")), "a");
        assert_eq!(taken, Err("the Lease is held by b".to_string()));
        let released = renewal(&lease(None, None), "a");
        assert_eq!(released, Err("the Lease has no holder".to_string()));
        assert!(renewal(&lease(Some("a"), None), "a").is_err());
    }

    #[test]
    fn only_a_new_renewal_moves_the_deadline_from_its_earliest_possible_stamp() {
        let second = Duration::from_secs(1);
        let start = Instant::now() + 60 * second;
        let seen = |renewal: &str, stamped: Instant| {
            Some(Seen {
                renewal: renewal.parse().unwrap(),
                stamped,
            })
        };
        let mut deadline = Deadline::new(start, 12 * second);
        assert_eq!(deadline.until, start + 12 * second);

        // The acquisition's renewal, stamped a little before the guard started.
        deadline.observe(start + second, seen("2026-11-22T10:00:00Z", start - second));
        assert_eq!(deadline.until, start + 11 * second);
        // The same renewal again, and a failed read: no extension.
        deadline.observe(
            start + 2 * second,
            seen("2026-11-22T10:00:00Z", start - second),
        );
        deadline.observe(start + 3 * second, None);
        assert_eq!(deadline.until, start + 11 * second);
        // A new renewal, first seen by the read at 4 s and stamped at 3.5 s: it counts from the
        // last read that still showed the old one (2 s), not from the failed one.
        deadline.observe(
            start + 4 * second,
            seen("2026-11-22T10:00:05Z", start + 3 * second + second / 2),
        );
        assert_eq!(deadline.until, start + 14 * second);
        // A renewal stamped before that read (its PATCH was slow): it counts from its stamp.
        deadline.observe(
            start + 6 * second,
            seen("2026-11-22T10:00:09Z", start + 3 * second),
        );
        assert_eq!(deadline.until, start + 15 * second);
    }
}
